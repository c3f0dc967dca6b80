package tcpstate

// Issue is a capture-quality problem found on a connection.
type Issue uint8

// Capture-quality issues.
const (
	// IssueCaptureLoss: the capture misses segments the endpoints
	// exchanged: bytes ACKed but never seen, or holes in a direction's
	// sequence space never filled. (A hole later filled by a
	// retransmission was network loss upstream of the capture point.)
	IssueCaptureLoss Issue = iota
	// IssueOneSided: only one direction of the connection was captured.
	IssueOneSided
	// IssueSnaplen: payload cut by the capture's snap length.
	IssueSnaplen
	// IssueOversize: segments larger than the MSS the receiver announced:
	// segmentation offload (TSO/GRO) on the capture host, so packets on
	// the wire were not these.
	IssueOversize
	// IssueTimeBackwards: capture timestamps going backwards.
	IssueTimeBackwards
	// IssueNoHandshake: the handshake was not captured (picked up
	// mid-stream): no handshake RTT, window scaling unknown.
	IssueNoHandshake
	// IssueBadOptions: malformed or truncated TCP options.
	IssueBadOptions
	// IssueWScale: a window scale above 14, clamped to 14 (RFC 7323).
	IssueWScale
	// IssueSeqJump: a sequence number jump no window allows (more than
	// 2^30 bytes).
	IssueSeqJump
	// IssueDuplicates: the capture holds packets twice or more (a SPAN
	// port mirroring both directions, merged taps): Count is the copies
	// (Analysis.Duplicate).
	IssueDuplicates
)

var issueNames = [...]string{"capture_loss", "one_sided", "snaplen_truncated", "segments_over_mss",
	"timestamps_out_of_order", "no_handshake", "malformed_options", "wscale_clamped", "impossible_seq_jump",
	"duplicates"}

// issueAffects names the conclusions each issue undermines.
var issueAffects = [...]string{
	"lost_segments and acked_unseen are capture artefacts, not network loss; unique bytes and in-flight figures err low",
	"no RTT samples, no ACK-based labels; bytes in flight count from the oldest segment seen, not the receiver's ACK",
	"application payload cannot be decoded in full",
	"segment counts, max_segment and in-flight are those of the host stack, not the wire",
	"RTT samples and timing-based labels (out-of-order, fast retransmission) are unreliable",
	"no handshake RTT or vantage from it; window scale unknown, so window figures are unscaled",
	"option-derived figures (SACK, timestamps, MSS, window scale) may be missing",
	"window figures use the clamped scale",
	"labels after the jump are not meaningful",
	"tshark's labels count the copies as retransmissions and duplicate ACKs; loss, RTT samples and timing figures skip them",
}

// String returns the issue's name as written in reports.
func (i Issue) String() string {
	if int(i) < len(issueNames) {
		return issueNames[i]
	}
	return "unknown"
}

// MarshalText makes an Issue appear by name in JSON.
func (i Issue) MarshalText() ([]byte, error) { return []byte(i.String()), nil }

// Quality is one capture-quality issue of a connection: how many packets
// (or events) showed it and which conclusions it undermines.
type Quality struct {
	Issue   Issue  `json:"issue"`
	Count   uint64 `json:"count"`
	Affects string `json:"affects"`
}
