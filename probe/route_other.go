//go:build !linux

package probe

import "errors"

// ErrNoDefaultRoute is returned by DefaultInterface when no IPv4 default
// route exists.
var ErrNoDefaultRoute = errors.New("no IPv4 default route")

// DefaultInterface reports ErrNotSupported on this system (TODO(#5)).
func DefaultInterface() (string, error) {
	return "", ErrNotSupported
}
