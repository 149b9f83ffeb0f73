package output

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/leaseprobe/leaseprobe/probe"
)

// SchemaVersion is the value of schema_version in documents this package
// writes. Fields may be added within a version; none is renamed, removed
// or given another type without a new version.
const SchemaVersion = 1

// ToolName is the tool name written in every document.
const ToolName = "leaseprobe"

// Meta carries what the JSON document needs beyond the probe result.
type Meta struct {
	// Version is the tool version, written as tool.version.
	Version string
	// ExitCode is the exit status the process will end with.
	ExitCode int
}

// Document is the JSON document written by WriteJSON. SCHEMA.md describes
// every field; pointer fields are null when the value is unknown or absent.
type Document struct {
	SchemaVersion int            `json:"schema_version"`
	Tool          ToolInfo       `json:"tool"`
	StartedAt     string         `json:"started_at"`
	Interface     InterfaceInfo  `json:"interface"`
	Request       RequestInfo    `json:"request"`
	TimeoutMS     int64          `json:"timeout_ms"`
	ElapsedMS     int64          `json:"elapsed_ms"`
	Interrupted   bool           `json:"interrupted"`
	Verdict       string         `json:"verdict"`
	ExitCode      int            `json:"exit_code"`
	Servers       []ServerInfo   `json:"servers"`
	Replies       []ReplyInfo    `json:"replies"`
	Skipped       map[string]int `json:"skipped"`
	ARP           *ARPInfo       `json:"arp"`
	Warnings      []string       `json:"warnings"`
	// InputLine is the line of the pair in a batch's input; absent
	// outside `leaseprobe batch`.
	InputLine int `json:"input_line,omitempty"`
}

// ToolInfo names the program that wrote a Document.
type ToolInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// InterfaceInfo is the interface the probe sent and listened on.
type InterfaceInfo struct {
	Name string `json:"name"`
	// MAC is nil for replies read from a capture without their request.
	MAC *string `json:"mac"`
}

// RequestInfo describes the DHCPREQUEST the probe sent.
type RequestInfo struct {
	MAC      string  `json:"mac"`
	IP       string  `json:"ip"`
	XID      string  `json:"xid"`
	ClientID *string `json:"client_id"`
	Hostname *string `json:"hostname"`
	// Broadcast is nil for replies read from a capture without their
	// request.
	Broadcast *bool `json:"broadcast"`
	First     bool  `json:"first"`
	Sent      int   `json:"sent"`
}

// ServerInfo is the verdict of one server's replies alone.
type ServerInfo struct {
	Key     string `json:"key"`
	Verdict string `json:"verdict"`
}

// ReplyInfo is one collected reply.
type ReplyInfo struct {
	Type             string     `json:"type"`
	Server           string     `json:"server"`
	ServerID         *string    `json:"server_id"`
	ServerIDState    string     `json:"server_id_state"`
	ServerIDRaw      *string    `json:"server_id_raw"`
	SourceIP         *string    `json:"source_ip"`
	SourceMAC        string     `json:"source_mac"`
	DestinationMAC   *string    `json:"destination_mac"`
	RelayIP          *string    `json:"relay_ip"`
	Hops             int        `json:"hops"`
	YourIP           *string    `json:"your_ip"`
	Broadcast        *bool      `json:"broadcast"`
	ElapsedMS        int64      `json:"elapsed_ms"`
	Count            int        `json:"count"`
	LeaseSeconds     *int64     `json:"lease_seconds"`
	RenewalSeconds   *int64     `json:"renewal_seconds"`
	RebindingSeconds *int64     `json:"rebinding_seconds"`
	ExpiresAt        *string    `json:"expires_at"`
	SubnetMask       *string    `json:"subnet_mask"`
	Routers          []string   `json:"routers"`
	DNSServers       []string   `json:"dns_servers"`
	DomainName       *string    `json:"domain_name"`
	Message          *string    `json:"message"`
	Options          OptionsHex `json:"options"`
	Warnings         []string   `json:"warnings"`

	// Added within schema version 1.
	DomainSearch    []string        `json:"domain_search"`
	ClasslessRoutes []RouteInfo     `json:"classless_routes"`
	RelayAgent      *RelayAgentInfo `json:"relay_agent"`
	ClientID        *string         `json:"client_id"`
	NextServer      *string         `json:"next_server"`
	ServerName      *string         `json:"server_name"`
	BootFile        *string         `json:"boot_file"`
}

// RouteInfo is one classless static route (option 121).
type RouteInfo struct {
	Destination string `json:"destination"`
	Router      string `json:"router"`
}

// RelayAgentInfo is option 82 as the server echoed it.
type RelayAgentInfo struct {
	CircuitID  *string    `json:"circuit_id"`
	RemoteID   *string    `json:"remote_id"`
	SubOptions OptionsHex `json:"suboptions"`
}

// OptionsHex maps a decimal option code to the hex of its data. It
// marshals with the codes in numeric order, which keeps documents easy to
// read and diff.
type OptionsHex map[string]string

// MarshalJSON writes the object with its keys sorted as numbers.
func (o OptionsHex) MarshalJSON() ([]byte, error) {
	keys := slices.SortedFunc(maps.Keys(o), compareCodes)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}

		val, err := json.Marshal(o[k])
		if err != nil {
			return nil, err
		}

		b.Write(key)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')

	return b.Bytes(), nil
}

// compareCodes orders decimal codes numerically, anything else after them.
func compareCodes(a, b string) int {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	switch {
	case errA == nil && errB == nil:
		return cmp.Compare(x, y)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	default:
		return cmp.Compare(a, b)
	}
}

// WriteJSON writes res as one indented JSON Document followed by a newline.
func WriteJSON(w io.Writer, res *probe.Result, meta Meta) error {
	if res == nil {
		return errors.New("write json: nil result")
	}

	return encodeDocument(w, NewDocument(res, meta))
}

// newEncoder returns the JSON encoder every document is written with.
func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)

	return enc
}

func encodeDocument(w io.Writer, doc *Document) error {
	enc := newEncoder(w)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write json: %w", err)
	}

	return nil
}

// NewDocument builds the Document that WriteJSON would write for res.
func NewDocument(res *probe.Result, meta Meta) *Document {
	req := res.Request
	doc := &Document{
		SchemaVersion: SchemaVersion,
		Tool:          ToolInfo{Name: ToolName, Version: meta.Version},
		StartedAt:     res.StartedAt.UTC().Format(jsonTime),
		Interface:     InterfaceInfo{Name: req.Interface},
		Request: RequestInfo{
			MAC:   req.ClientMAC.String(),
			IP:    addrString(req.IP),
			XID:   formatXID(req.XID),
			First: req.First,
			Sent:  req.Sent,
		},
		TimeoutMS:   millis(res.Timeout),
		ElapsedMS:   millis(res.Elapsed),
		Interrupted: res.Interrupted,
		Verdict:     string(res.Verdict()),
		ExitCode:    meta.ExitCode,
		Servers:     []ServerInfo{},
		Replies:     make([]ReplyInfo, 0, len(res.Replies)),
		Skipped:     map[string]int{},
		Warnings:    nonNil(res.Warnings),
		ARP:         newARPInfo(res.ARP),
	}
	// Replies read from a capture without their request say nothing of
	// the interface it was sent from or of its broadcast flag.
	if len(req.InterfaceMAC) > 0 {
		doc.Interface.MAC = ptr(req.InterfaceMAC.String())
	}
	if !noRequest(req) {
		doc.Request.Broadcast = ptr(req.Broadcast)
	}
	if req.ClientID != nil {
		doc.Request.ClientID = ptr(hex.EncodeToString(req.ClientID))
	}
	if req.Hostname != "" {
		doc.Request.Hostname = ptr(req.Hostname)
	}
	for _, s := range res.Servers() {
		doc.Servers = append(doc.Servers, ServerInfo{
			Key:     s.Key,
			Verdict: string(s.Verdict()),
		})
	}
	for _, r := range res.Replies {
		doc.Replies = append(doc.Replies, newReplyInfo(r))
	}
	maps.Copy(doc.Skipped, res.Skipped)

	return doc
}

func newReplyInfo(r *probe.Reply) ReplyInfo {
	info := ReplyInfo{
		Type:             string(r.Type),
		Server:           r.ServerKey(),
		ServerID:         addrOrNull(r.ServerID),
		ServerIDState:    string(r.ServerIDState),
		SourceMAC:        r.SourceMAC.String(),
		RelayIP:          addrOrNull(r.RelayIP),
		Hops:             int(r.Hops),
		YourIP:           addrOrNull(r.YourIP),
		ElapsedMS:        millis(r.Elapsed),
		Count:            r.Count,
		LeaseSeconds:     secondsOrNull(r.LeaseTime),
		RenewalSeconds:   secondsOrNull(r.RenewalTime),
		RebindingSeconds: secondsOrNull(r.RebindingTime),
		SubnetMask:       addrOrNull(r.SubnetMask),
		Routers:          addrStrings(r.Routers),
		DNSServers:       addrStrings(r.DNSServers),
		Message:          r.Message,
		Options:          OptionsHex{},
		Warnings:         nonNil(r.Warnings),
	}
	// A capture that did not record the destination leaves both unknown.
	if r.DestinationMAC != nil {
		info.DestinationMAC = ptr(r.DestinationMAC.String())
		info.Broadcast = ptr(isBroadcastMAC(r.DestinationMAC))
	}
	if raw := serverIDRaw(r); raw != nil {
		info.ServerIDRaw = ptr(hex.EncodeToString(raw))
	}
	// The source address is kept even when it is 0.0.0.0: that is what
	// the frame said.
	if r.SourceIP.IsValid() {
		info.SourceIP = ptr(r.SourceIP.String())
	}
	if t, ok := r.ExpiresAt(); ok {
		info.ExpiresAt = ptr(t.UTC().Format(jsonTime))
	}
	if r.DomainName != "" {
		info.DomainName = ptr(r.DomainName)
	}
	addExtras(&info, r)
	for code, data := range optionBytes(r.Options) {
		info.Options[strconv.Itoa(int(code))] = hex.EncodeToString(data)
	}

	return info
}

func ptr[T any](v T) *T {
	return &v
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}

	return s
}

// addrOrNull returns the address as a string, or nil when it is invalid
// or 0.0.0.0.
func addrOrNull(a netip.Addr) *string {
	if !known(a) {
		return nil
	}

	return ptr(a.String())
}

func secondsOrNull(d *time.Duration) *int64 {
	if d == nil {
		return nil
	}

	return ptr(int64(*d / time.Second))
}

// WriteJSONList writes documents as one indented JSON array and a
// newline, as `leaseprobe read --json` prints them.
func WriteJSONList(w io.Writer, docs []*Document) error {
	if docs == nil {
		docs = []*Document{}
	}
	if err := newEncoder(w).Encode(docs); err != nil {
		return fmt.Errorf("write json: %w", err)
	}

	return nil
}

// noRequest reports whether req stands for replies whose request was not
// in the capture they were read from.
func noRequest(req probe.Request) bool {
	return req.Sent == 0 && !req.IP.IsValid()
}

// addrString is the address as a string, or "" when it is not known.
func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}

	return a.String()
}

// addExtras fills the fields added within schema version 1.
func addExtras(info *ReplyInfo, r *probe.Reply) {
	info.DomainSearch = nonNil(r.DomainSearch)
	info.ClasslessRoutes = []RouteInfo{}
	for _, rt := range r.ClasslessRoutes {
		info.ClasslessRoutes = append(info.ClasslessRoutes, RouteInfo{
			Destination: rt.Destination.String(), Router: rt.Router.String()})
	}
	if ra := r.RelayAgent; ra != nil {
		info.RelayAgent = &RelayAgentInfo{SubOptions: OptionsHex{}}
		if ra.CircuitID != nil {
			info.RelayAgent.CircuitID = ptr(hex.EncodeToString(ra.CircuitID))
		}
		if ra.RemoteID != nil {
			info.RelayAgent.RemoteID = ptr(hex.EncodeToString(ra.RemoteID))
		}
		for _, o := range ra.SubOptions {
			info.RelayAgent.SubOptions[strconv.Itoa(int(o.Code))] =
				hex.EncodeToString(o.Data)
		}
	}
	if r.ClientID != nil {
		info.ClientID = ptr(hex.EncodeToString(r.ClientID))
	}
	info.NextServer = addrOrNull(r.NextServer)
	if r.ServerName != "" {
		info.ServerName = ptr(r.ServerName)
	}
	if r.BootFile != "" {
		info.BootFile = ptr(r.BootFile)
	}
}
