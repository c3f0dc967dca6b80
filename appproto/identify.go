package appproto

// Identification thresholds.
const (
	// identifyLimit is how many bytes of the two directions together
	// identification looks at before it decides.
	identifyLimit = 2048
	// acceptScore is the least payload score that identifies a protocol.
	acceptScore = 0.5
	// sureScore is a score that decides at once, without waiting for the
	// other direction or more bytes.
	sureScore = 0.8
	// portBonus is added to a payload score when the server port is the
	// protocol's.
	portBonus = 0.05
)

// identifier decides the protocol of one connection from the first bytes
// of each direction and the server's port.
type identifier struct {
	reg  *Registry
	port uint16 // the server's

	decided bool
	proto   Protocol // nil: unknown
	score   float64
	byPort  bool // identified by the port alone
}

// decide scores the first bytes of each direction (first[d], possibly
// empty) with every protocol and reports whether the protocol is decided:
// a sure match, or no protocol asking for more, or identifyLimit bytes
// seen, or final. Once decided it stays decided.
func (id *identifier) decide(first [2][]byte, final bool) bool {
	if id.decided {
		return true
	}
	best, bestScore, more := id.best(first)
	if !final && bestScore < sureScore && more && len(first[0])+len(first[1]) < identifyLimit {
		return false
	}
	id.decided = true
	if bestScore >= acceptScore {
		id.proto, id.score = best, bestScore
		return true
	}
	for _, p := range id.reg.Protocols() {
		if id.portMatch(p) {
			id.proto, id.score, id.byPort = p, ConfidencePort, true
			break
		}
	}
	return true
}

// best returns the protocol with the highest score (the first registered
// on a tie), its score, and whether any protocol needs more bytes.
func (id *identifier) best(first [2][]byte) (best Protocol, bestScore float64, more bool) {
	for _, p := range id.reg.Protocols() {
		s := 0.0
		for d, b := range first {
			if len(b) > 0 {
				sc, m := p.Identify(Dir(d), b)
				s = max(s, sc)
				more = more || m
			}
		}
		if s > 0 && id.portMatch(p) {
			s = min(1, s+portBonus)
		}
		if s > bestScore {
			best, bestScore = p, s
		}
	}
	return best, bestScore, more
}

// portMatch reports whether the server port is one of p's.
func (id *identifier) portMatch(p Protocol) bool {
	for _, port := range p.Ports() {
		if port == id.port {
			return true
		}
	}
	return false
}

// name returns the identified protocol's name, "unknown" when none was,
// or "" while undecided.
func (id *identifier) name() string {
	switch {
	case !id.decided:
		return ""
	case id.proto == nil:
		return "unknown"
	}
	return id.proto.Name()
}

// parser returns a parser for the connection, or nil when its data is not
// framed (no protocol, or one known by the port alone).
func (id *identifier) parser(maxMessage int64) Parser {
	if id.proto == nil || id.byPort {
		return nil
	}
	return id.proto.NewParser(maxMessage)
}
