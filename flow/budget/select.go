package budget

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/netecology/netecology/appproto"
	"github.com/netecology/netecology/flow"
)

// Scope is what a check's items are: the capture's connections, their
// application transactions, or the capture itself.
type Scope uint8

// Scopes.
const (
	// ScopeConns: each TCP connection, with the figures of its conn record
	// in flows -json (flow.Conn's fields, its app object), its explain
	// object (explain.Conn) and, with a path, projected.* (the
	// explain.Projection at that RTT and rate).
	ScopeConns Scope = iota
	// ScopeTransactions: each application transaction (the fields of
	// appproto.Transaction, as flows -transactions -json prints them).
	ScopeTransactions
	// ScopeCapture: the capture as one item: its packet accounting
	// (flow.Summary: packets, tcp_packets, connections, skipped.REASON,
	// other.KIND, ...) and duration_s, first to last packet.
	ScopeCapture
)

var scopeNames = [...]string{"conns", "transactions", "capture"}

// String returns the scope's name as budget files write it.
func (s Scope) String() string {
	if int(s) < len(scopeNames) {
		return scopeNames[s]
	}
	return "unknown"
}

// MarshalText makes a Scope appear by name in JSON.
func (s Scope) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a Scope by name.
func (s *Scope) UnmarshalText(b []byte) error {
	v, ok := parseScope(string(b))
	if !ok {
		return fmt.Errorf("unknown scope %q: want conns, transactions or capture", b)
	}
	*s = v
	return nil
}

func (s Scope) plural() string {
	switch s {
	case ScopeTransactions:
		return "transactions"
	case ScopeCapture:
		return "the capture"
	}
	return "connections"
}

func (s Scope) singular() string {
	switch s {
	case ScopeTransactions:
		return "transaction"
	case ScopeCapture:
		return "capture"
	}
	return "connection"
}

func (s Scope) figures() *figureSet {
	switch s {
	case ScopeTransactions:
		return txnFigures
	case ScopeCapture:
		return captureFigures
	}
	return connFigures
}

// parseScope reads a scope's name.
func parseScope(s string) (Scope, bool) {
	switch s {
	case "conns", "conn", "connections", "connection":
		return ScopeConns, true
	case "transactions", "transaction":
		return ScopeTransactions, true
	case "capture":
		return ScopeCapture, true
	}
	return 0, false
}

// Selector picks the items a check looks at; every field given must match
// (a list matches any of its values). The zero Selector picks all.
type Selector struct {
	// Proto is the application protocol (tns, http, postgres, mysql,
	// tds, tls, redis, unknown): appproto's identification, else
	// explain's guess from the server port.
	Proto []string `json:"proto,omitempty"`
	// Server is the server's address and port; ServerAddr an address or
	// prefix it is in; ServerPort its port. ClientAddr is an address or
	// prefix the client is in.
	Server     []netip.AddrPort `json:"server,omitempty"`
	ServerAddr []netip.Prefix   `json:"server_addr,omitempty"`
	ServerPort []uint16         `json:"server_port,omitempty"`
	ClientAddr []netip.Prefix   `json:"client_addr,omitempty"`
	// Verb and Kind (transactions) are the request's verb (SELECT, GET;
	// case-insensitive) and message kind (Query, Parse, request...).
	Verb []string `json:"verb,omitempty"`
	Kind []string `json:"kind,omitempty"`
	// QueryPrefix and URLPrefix (transactions) match the start of the
	// request's SQL text (appproto.Transaction.Query) or HTTP request
	// target (Transaction.Path), as far as the capture carries them.
	QueryPrefix []string `json:"query_prefix,omitempty"`
	URLPrefix   []string `json:"url_prefix,omitempty"`
}

// requestText returns the SQL text and the HTTP request target of a
// transaction for the query_prefix and url_prefix selectors.
func requestText(t *appproto.Transaction) (query, url string) {
	return string(t.Query), string(t.Path)
}

// whereKeys are the selector fields each scope accepts.
var whereKeys = [...][]string{
	ScopeConns:        {"proto", "server", "server_addr", "server_port", "client_addr"},
	ScopeTransactions: {"proto", "server", "server_addr", "server_port", "client_addr", "verb", "kind", "query_prefix", "url_prefix"},
	ScopeCapture:      nil,
}

// parseSelector reads a where mapping for scope s.
func (d nodes) parseSelector(n *yaml.Node, path string, s Scope) (Selector, error) {
	var sel Selector
	if len(whereKeys[s]) == 0 {
		return sel, d.errf(n, path, "the capture has no selector: it is one item")
	}
	fields, err := d.mapping(n, path, whereKeys[s]...)
	if err != nil {
		return sel, err
	}
	for _, f := range fields {
		p := join(path, f.key)
		vals, err := d.scalars(f.v, p)
		if err != nil {
			return sel, err
		}
		if err := sel.set(f.key, vals); err != nil {
			return sel, d.errf(f.v, p, "%v", err)
		}
	}
	return sel, nil
}

// set fills the field named key from its values as written.
func (sel *Selector) set(key string, vals []string) error {
	for _, v := range vals {
		switch key {
		case "proto":
			sel.Proto = append(sel.Proto, strings.ToLower(v))
		case "server":
			ap, err := netip.ParseAddrPort(v)
			if err != nil {
				return fmt.Errorf("want address:port, such as 10.0.0.2:5432 or [2001:db8::2]:80: %q", v)
			}
			sel.Server = append(sel.Server, ap)
		case "server_addr", "client_addr":
			p, err := parsePrefix(v)
			if err != nil {
				return err
			}
			if key == "server_addr" {
				sel.ServerAddr = append(sel.ServerAddr, p)
			} else {
				sel.ClientAddr = append(sel.ClientAddr, p)
			}
		case "server_port":
			n, err := strconv.ParseUint(v, 10, 16)
			if err != nil {
				return fmt.Errorf("want a port number 0-65535: %q", v)
			}
			sel.ServerPort = append(sel.ServerPort, uint16(n))
		case "verb":
			sel.Verb = append(sel.Verb, strings.ToUpper(v))
		case "kind":
			sel.Kind = append(sel.Kind, v)
		case "query_prefix", "url_prefix":
			if key == "query_prefix" {
				sel.QueryPrefix = append(sel.QueryPrefix, v)
			} else {
				sel.URLPrefix = append(sel.URLPrefix, v)
			}
		}
	}
	return nil
}

// parsePrefix reads an address (a prefix of its full length) or a prefix.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("want an address or a prefix such as 10.0.0.0/24: %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("want an address or a prefix such as 10.0.0.0/24: %q", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// matchEnds checks the fields that concern the connection's ends and
// protocol.
func (sel *Selector) matchEnds(c *flow.Conn, proto string) bool {
	if len(sel.Proto) > 0 && !slices.Contains(sel.Proto, proto) {
		return false
	}
	if len(sel.Server) > 0 && !slices.Contains(sel.Server, c.Server) {
		return false
	}
	if len(sel.ServerPort) > 0 && !slices.Contains(sel.ServerPort, c.Server.Port()) {
		return false
	}
	if len(sel.ServerAddr) > 0 && !inAny(sel.ServerAddr, c.Server.Addr()) {
		return false
	}
	if len(sel.ClientAddr) > 0 && !inAny(sel.ClientAddr, c.Client.Addr()) {
		return false
	}
	return true
}

func inAny(ps []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// matchTxn checks a transaction of connection c.
func (sel *Selector) matchTxn(c *flow.Conn, t *appproto.Transaction) bool {
	if !sel.matchEnds(c, t.Proto) {
		return false
	}
	if len(sel.Verb) > 0 && !slices.Contains(sel.Verb, strings.ToUpper(t.Verb)) {
		return false
	}
	if len(sel.Kind) > 0 && !slices.Contains(sel.Kind, t.Kind) {
		return false
	}
	if len(sel.QueryPrefix)+len(sel.URLPrefix) > 0 {
		q, u := requestText(t)
		if len(sel.QueryPrefix) > 0 && !hasAnyPrefix(q, sel.QueryPrefix) {
			return false
		}
		if len(sel.URLPrefix) > 0 && !hasAnyPrefix(u, sel.URLPrefix) {
			return false
		}
	}
	return true
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// String writes the selector as key=value pairs (lists joined by |), empty
// for the zero Selector.
func (sel *Selector) String() string {
	var b strings.Builder
	add := func(key string, vals []string) {
		if len(vals) == 0 {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(key + "=" + strings.Join(vals, "|"))
	}
	str := func(n int, f func(int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	add("proto", sel.Proto)
	add("server", str(len(sel.Server), func(i int) string { return sel.Server[i].String() }))
	add("server_addr", str(len(sel.ServerAddr), func(i int) string { return prefixString(sel.ServerAddr[i]) }))
	add("server_port", str(len(sel.ServerPort), func(i int) string { return strconv.Itoa(int(sel.ServerPort[i])) }))
	add("client_addr", str(len(sel.ClientAddr), func(i int) string { return prefixString(sel.ClientAddr[i]) }))
	add("verb", sel.Verb)
	add("kind", sel.Kind)
	add("query_prefix", quoted(sel.QueryPrefix))
	add("url_prefix", quoted(sel.URLPrefix))
	return b.String()
}

func prefixString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

func quoted(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strconv.Quote(v)
	}
	return out
}
