// Package output renders a probe.Result for people and for programs.
//
// WriteJSON emits one JSON document whose layout is versioned by
// schema_version and described in SCHEMA.md; its Go types (Document and
// the types it holds) can be used to read that document back. WriteReport
// writes a plain-text report meant to be read in a terminal, optionally
// coloured; ColorEnabled decides whether colour is wanted.
//
// The package knows nothing of command-line parsing: the caller passes in
// everything that is not part of the probe result, such as the tool
// version, the exit code and the colour choice.
package output
