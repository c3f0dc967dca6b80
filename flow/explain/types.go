package explain

import (
	"net/netip"
	"time"

	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

// Cause is what a stretch of a connection's time was spent on. Every
// inter-packet gap of a connection is attributed to causes; their sums make
// up the Budget.
type Cause uint8

// Causes, in the order the Budget lists them.
const (
	// CauseTransfer: data being serialized at the observed bottleneck rate.
	CauseTransfer Cause = iota
	// CauseHandshake: from the SYN to the end of the three-way handshake.
	CauseHandshake
	// CauseClientThink: the client had all it needed and sent nothing.
	CauseClientThink
	// CauseServerThink: the server had all it needed and sent nothing.
	CauseServerThink
	// CauseRoundTrip: an application turn waiting one round trip for the
	// other side's answer (request to response, network part).
	CauseRoundTrip
	// CauseWindowWait: a sender waiting for ACKs to open its (congestion)
	// window: slow start, ACK clocking, delayed ACKs.
	CauseWindowWait
	// CauseReceiverWindow: a sender stopped by a full receiver window.
	CauseReceiverWindow
	// CauseZeroWindow: a sender stopped by a zero receiver window.
	CauseZeroWindow
	// CauseLossRecovery: from a loss to its repair (fast retransmit, SACK).
	CauseLossRecovery
	// CauseRTO: a retransmission timeout waited out, and the wait before
	// a sender that backed off gave up with a RST.
	CauseRTO
	// CauseQueueSelf: an application turn waiting behind the connection's
	// own data in the bottleneck queue (round-trip time above the base
	// RTT).
	CauseQueueSelf
	// CauseQueueCross: an application turn waiting behind other traffic
	// in the bottleneck queue: other connections between the same hosts
	// kept it full at the time.
	CauseQueueCross
	numCauses
)

var causeNames = [...]string{"transfer", "handshake", "client_think", "server_think", "round_trip",
	"window_wait", "receiver_window", "zero_window", "loss_recovery", "rto", "queue_self", "queue_cross"}

// String returns the cause's name as used in reports.
func (c Cause) String() string {
	if int(c) < len(causeNames) {
		return causeNames[c]
	}
	return "unknown"
}

// MarshalText makes a Cause appear by name in JSON.
func (c Cause) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Limit is what limited a connection's speed, in the spirit of T-RAT
// (Zhang et al., SIGCOMM 2002).
type Limit uint8

// Rate-limiting causes.
const (
	// LimitUnknown: too little traffic to say.
	LimitUnknown Limit = iota
	// LimitApplication: the ends' own think time dominates.
	LimitApplication
	// LimitRoundTrip: application turns, each paying a round trip (chatty).
	LimitRoundTrip
	// LimitReceiverWindow: the receiver's advertised window.
	LimitReceiverWindow
	// LimitCongestionWindow: the sender's (congestion) window: waiting for
	// ACKs with the link idle.
	LimitCongestionWindow
	// LimitBandwidth: data serialized at the bottleneck rate.
	LimitBandwidth
	// LimitLoss: loss recovery and retransmission timeouts.
	LimitLoss
	// LimitNone: the connection carried no application data (refused,
	// unanswered, or closed or reset before any): it was not a slow
	// session, and nothing limited it.
	LimitNone
)

var limitNames = [...]string{"unknown", "application", "round_trip_bound", "receiver_window",
	"congestion_window", "bandwidth", "loss", "none"}

// String returns the limit's name as used in reports.
func (l Limit) String() string {
	if int(l) < len(limitNames) {
		return limitNames[l]
	}
	return "unknown"
}

// MarshalText makes a Limit appear by name in JSON.
func (l Limit) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// AckVerdict sums up how a receiver acknowledges one direction's data.
type AckVerdict uint8

// ACK verdicts.
const (
	// AckInsufficient: too few ACKs of this direction's data to judge.
	AckInsufficient AckVerdict = iota
	// AckEverySegment: nearly every data segment gets its own ACK.
	AckEverySegment
	// AckDelayed: ACKs commonly cover two segments (RFC 5681 delayed ACK),
	// possibly mixed with immediate ACKs (Linux quick-ack).
	AckDelayed
	// AckStretch: ACKs commonly cover three or more segments.
	AckStretch
)

var ackVerdictNames = [...]string{"insufficient", "ack_every_segment", "delayed_ack", "stretch_acks"}

// String returns the verdict's name as used in reports.
func (v AckVerdict) String() string {
	if int(v) < len(ackVerdictNames) {
		return ackVerdictNames[v]
	}
	return "unknown"
}

// MarshalText makes an AckVerdict appear by name in JSON.
func (v AckVerdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// AckCarrier says what carries the ACKs of one direction's data.
type AckCarrier uint8

// ACK carriers.
const (
	// CarrierNone: no ACK advance seen.
	CarrierNone AckCarrier = iota
	// CarrierPureTCP: mostly segments without payload.
	CarrierPureTCP
	// CarrierApplication: mostly small application messages (payload of at
	// most Options.SmallMessage bytes): the application acknowledging at
	// its own level.
	CarrierApplication
	// CarrierPiggyback: mostly larger data going the other way (requests
	// of a request/response exchange).
	CarrierPiggyback
	// CarrierMixed: no kind carries a majority.
	CarrierMixed
)

var carrierNames = [...]string{"none", "pure_tcp", "application", "piggyback", "mixed"}

// String returns the carrier's name as used in reports.
func (c AckCarrier) String() string {
	if int(c) < len(carrierNames) {
		return carrierNames[c]
	}
	return "unknown"
}

// MarshalText makes an AckCarrier appear by name in JSON.
func (c AckCarrier) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// AckStats describes how the receiver of one direction's data acknowledged
// it.
type AckStats struct {
	// DataSegments counts the direction's data segments (retransmissions
	// included); Advances the receiver's segments that moved its ACK
	// forward over at least one of them.
	DataSegments uint64 `json:"data_segments"`
	Advances     uint64 `json:"ack_advances"`
	// AcksPerSegment is Advances / DataSegments.
	AcksPerSegment float64 `json:"acks_per_segment"`
	// Covered[i] counts ACK advances that covered i+1 data segments (the
	// last bin: 6 or more).
	Covered [6]uint64 `json:"covered"`
	// MeanCovered is the mean number of segments an advance covered.
	MeanCovered float64 `json:"mean_covered"`
	// Pure counts advances carried by segments without payload; SmallApp
	// by segments with at most Options.SmallMessage bytes of payload;
	// Piggyback by larger data segments.
	Pure      uint64     `json:"pure"`
	SmallApp  uint64     `json:"small_app"`
	Piggyback uint64     `json:"piggyback"`
	Verdict   AckVerdict `json:"verdict"`
	Carrier   AckCarrier `json:"carrier"`
	// DupAcks counts the receiver's duplicate ACKs of this direction's
	// data, Retransmissions the direction's retransmissions: the segments
	// tcpstate labels so, by Wireshark's rules (tshark's
	// tcp.analysis.duplicate_ack on the receiver's segments, and
	// tcp.analysis.retransmission, which takes in fast and spurious
	// retransmissions and resent SYNs and FINs). Like tshark's, they count
	// the copies of a capture that holds packets twice (the duplicates
	// caveat); nothing else here does.
	DupAcks         uint64 `json:"dup_acks"`
	Retransmissions uint64 `json:"retransmissions"`
}

// SegmentStats describes one direction's segment sizes in bulk phases.
type SegmentStats struct {
	// MSS is the full segment size used as reference for "small" and
	// "full-size": the sender's effective MSS (tcpstate.Conn.EffectiveMSS:
	// the smaller of the two announcements less 12 bytes when timestamps
	// were negotiated, lowered to the size the sender used with more data
	// behind it, never raised by offloaded super-segments).
	MSS int `json:"mss"`
	// MSSSource says what MSS rests on: "announced", "on_wire",
	// "max_seen" or "none".
	MSSSource tcpstate.MSSSource `json:"mss_source"`
	// MaxSegment is the largest payload seen in the direction.
	MaxSegment int `json:"max_segment"`
	// Segments and Bytes count all data segments and payload bytes.
	Segments uint64 `json:"segments"`
	Bytes    uint64 `json:"bytes"`
	// MeanSegment is Bytes / Segments.
	MeanSegment float64 `json:"mean_segment"`
	// Small counts data segments below MSS (all, not only in bulk
	// phases; the copies of a capture that holds packets twice are not
	// counted, here or above); SmallShare divides it by Segments.
	Small      uint64  `json:"small_segments"`
	SmallShare float64 `json:"small_share"`
	// BulkPhases counts runs of at least Options.MinBulkSegments data
	// segments without data the other way; BulkSegments and BulkBytes
	// what they carried.
	BulkPhases   int    `json:"bulk_phases"`
	BulkSegments uint64 `json:"bulk_segments"`
	BulkBytes    uint64 `json:"bulk_bytes"`
	// SizeBins counts bulk-phase segments by payload relative to MSS:
	// <25 %, 25-50 %, 50-75 %, 75-<100 %, full (>= MSS).
	SizeBins [5]uint64 `json:"size_bins"`
	// NonFinalSmall counts bulk-phase segments below the MSS that were not
	// the last of their phase; NonFinalSmallShare divides it by the
	// non-final segments.
	NonFinalSmall      uint64  `json:"non_final_small"`
	NonFinalSmallShare float64 `json:"non_final_small_share"`
	// MultiSegmentMessages counts the direction's application messages
	// (requests from the client, responses from the server, as package
	// appproto paired them) that spanned two or more segments;
	// MessageSegments and MessageBytes what they carried, and
	// MessageSavedSegments how many fewer segments full-size ones would
	// have needed.
	MultiSegmentMessages uint64 `json:"multi_segment_messages"`
	MessageSegments      uint64 `json:"message_segments"`
	MessageBytes         uint64 `json:"message_bytes"`
	MessageSavedSegments uint64 `json:"message_saved_segments"`
	// Flights counts the bursts the bulk phases were sent in (split where
	// the sender paused for at least half a round trip).
	Flights int `json:"flights"`
	// What full-size segments would have saved in the bulk phases, at the
	// observed sending pattern (same segments per flight, same ACKs per
	// segment).
	SavedSegments   uint64  `json:"saved_segments"`
	SavedAcks       float64 `json:"saved_acks"`
	SavedRoundTrips int     `json:"saved_round_trips"`
}

// Budget splits a connection's duration (first to last packet) into the
// time spent on each Cause. The parts add up to Duration (up to a
// nanosecond a part: they are computed in seconds, at the estimated rate).
type Budget struct {
	Duration       time.Duration `json:"duration_s"`
	Transfer       time.Duration `json:"transfer_s"`
	Handshake      time.Duration `json:"handshake_s"`
	ClientThink    time.Duration `json:"client_think_s"`
	ServerThink    time.Duration `json:"server_think_s"`
	RoundTrip      time.Duration `json:"round_trip_s"`
	WindowWait     time.Duration `json:"window_wait_s"`
	ReceiverWindow time.Duration `json:"receiver_window_s"`
	ZeroWindow     time.Duration `json:"zero_window_s"`
	LossRecovery   time.Duration `json:"loss_recovery_s"`
	RTO            time.Duration `json:"rto_s"`
	QueueSelf      time.Duration `json:"queue_self_s"`
	QueueCross     time.Duration `json:"queue_cross_s"`
}

// MarshalJSON writes the budget in seconds.
func (b Budget) MarshalJSON() ([]byte, error) { return units.MarshalJSON(b) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (b Budget) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, b) }

// UnmarshalJSON reads what MarshalJSON writes.
func (b *Budget) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, b) }

// Part returns the time the budget attributes to cause c.
func (b *Budget) Part(c Cause) time.Duration { return *b.part(c) }

func (b *Budget) part(c Cause) *time.Duration {
	switch c {
	case CauseHandshake:
		return &b.Handshake
	case CauseClientThink:
		return &b.ClientThink
	case CauseServerThink:
		return &b.ServerThink
	case CauseRoundTrip:
		return &b.RoundTrip
	case CauseWindowWait:
		return &b.WindowWait
	case CauseReceiverWindow:
		return &b.ReceiverWindow
	case CauseZeroWindow:
		return &b.ZeroWindow
	case CauseLossRecovery:
		return &b.LossRecovery
	case CauseRTO:
		return &b.RTO
	case CauseQueueSelf:
		return &b.QueueSelf
	case CauseQueueCross:
		return &b.QueueCross
	}
	return &b.Transfer
}

// Sum returns the sum of the parts (equal to Duration up to rounding).
func (b *Budget) Sum() time.Duration {
	var s time.Duration
	for c := Cause(0); c < numCauses; c++ {
		s += b.Part(c)
	}
	return s
}

// Waiting returns the time spent waiting on round trips: handshake,
// application turns and window waits.
func (b *Budget) Waiting() time.Duration { return b.Handshake + b.RoundTrip + b.WindowWait }

// Queue returns the time spent in bottleneck queues, the connection's
// own and other traffic's.
func (b *Budget) Queue() time.Duration { return b.QueueSelf + b.QueueCross }

// Think returns the client's and server's think time together.
func (b *Budget) Think() time.Duration { return b.ClientThink + b.ServerThink }

// Stall is one long stretch of a connection's time with its cause.
type Stall struct {
	Start    time.Time     `json:"start"`
	End      time.Time     `json:"end"`
	Duration time.Duration `json:"duration_s"`
	Cause    Cause         `json:"cause"`
	// Packet is the capture index of the packet that ended the stall.
	Packet uint64 `json:"packet"`
}

// MarshalJSON writes the stall with its duration in seconds.
func (s Stall) MarshalJSON() ([]byte, error) { return units.MarshalJSON(s) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (s Stall) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, s) }

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Stall) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, s) }

// Phase is one bulk phase as the what-if model replays it.
type Phase struct {
	// FromServer is set when the server sent the phase.
	FromServer bool   `json:"from_server"`
	Segments   int    `json:"segments"`
	Bytes      uint64 `json:"bytes"`
	WireBytes  uint64 `json:"wire_bytes"`
	// Flights is the number of bursts observed; FirstFlight the segments
	// in the first one (0 when the phase was one burst).
	Flights     int `json:"flights"`
	FirstFlight int `json:"first_flight"`
	// Duration is the time from the phase's first segment to its last;
	// Utilisation the share of it the bottleneck was busy with the
	// phase's bytes (at the rate estimated when the phase ended).
	Duration    time.Duration `json:"duration_s"`
	Utilisation float64       `json:"utilisation"`
	// IdleBefore is the time from the direction's previous data segment
	// to the phase's first (0: the direction's first data), in whole
	// microseconds: the idle time after which a sender restarts slow
	// start (RFC 5681 section 4.1).
	IdleBefore time.Duration `json:"idle_before_s"`
	// Limit is what limited this transfer: bandwidth when the phase kept
	// the bottleneck at least 80 % busy, else the cause of most of the
	// time between its segments.
	Limit Limit `json:"limit"`
}

// MarshalJSON writes the phase with its durations in seconds.
func (ph Phase) MarshalJSON() ([]byte, error) { return units.MarshalJSON(ph) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (ph Phase) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, ph) }

// UnmarshalJSON reads what MarshalJSON writes.
func (ph *Phase) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, ph) }

// Model holds what the what-if projection replays beyond the Budget.
type Model struct {
	// RoundTrips counts the application turns that paid a round trip
	// (request to response).
	RoundTrips int `json:"round_trips"`
	// InitialWindow is the sender's initial window in segments: the first
	// flight of the first bulk phase when it was window-limited (a burst
	// the bottleneck serialized in under half the base RTT, the link then
	// idle waiting for ACKs), else 10 (RFC 6928): a longer first flight,
	// such as a LAN's, is ended by the ACK clock or by the data and says
	// nothing of the window.
	InitialWindow int `json:"initial_window"`
	// Phases lists the first MaxPhases bulk phases; PhasesDropped counts
	// the rest.
	Phases        []Phase `json:"phases"`
	PhasesDropped int     `json:"phases_dropped"`
	// RTOs counts retransmission timeouts, a SYN or SYN/ACK sent again
	// on its timer included.
	RTOs int `json:"rtos"`
	// SYNTimeouts is the time the handshake waited on SYN or SYN/ACK
	// timers (part of Budget.RTO): the initial RTO, which does not scale
	// with the path's RTT (absent when none).
	SYNTimeouts time.Duration `json:"syn_rto_s,omitempty"`
}

// Legs is where the capture point sits on the path (tcpstate.Legs): the
// base round trip from the capture point to each end and back, and what the connection's own estimate of each rests on
// ("handshake", "data_ack", "timestamps", "none"). A leg is the smaller
// of the connection's own and the smallest the other connections between
// the same hosts measured so far: a connection opened into a full queue
// times the queue in its handshake, the others saw the path empty.
//
// FrameBytes is the wire bytes of the frames that timed the legs and
// crossed the bottleneck inside them (at the client, the SYN and the
// SYN/ACK: tcpstate.Legs' frames), counted where that direction's rate is
// known, and Serialization their time at the bottleneck's rate. The legs
// hold it, but the path does not: each turn's round trip is its leg less
// that time, the turn's own frames being transfer at the same rate.
// HandshakeBytes is the wire bytes of the SYN and the SYN/ACK answering
// it, each counted when its direction's rate is known, as the turns'
// serialization is (0 when neither is, or the handshake was not
// captured): a projection's target RTT is taken as the handshake times
// it, and those frames' serialization at the target's rate is taken out
// of its turns (Target.RTT).
type Legs struct {
	ToServer       time.Duration      `json:"to_server_ms"`
	ToClient       time.Duration      `json:"to_client_ms"`
	ServerFrom     tcpstate.LegSource `json:"server_from"`
	ClientFrom     tcpstate.LegSource `json:"client_from"`
	FrameBytes     int                `json:"frame_bytes,omitempty"`
	Serialization  time.Duration      `json:"serialization_ms,omitempty"`
	HandshakeBytes int                `json:"handshake_bytes,omitempty"`
}

// MarshalJSON writes the legs in milliseconds.
func (l Legs) MarshalJSON() ([]byte, error) { return units.MarshalJSON(l) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (l Legs) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, l) }

// UnmarshalJSON reads what MarshalJSON writes.
func (l *Legs) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, l) }

// Queue is what the connection's round trips under load show of the
// bottleneck queue: the delay above the base RTT of the samples that hold
// no think time (timestamp echoes of pure ACKs in ACK-clocked data, and
// pure ACKs covering two segments; tcpstate.Analysis.TSEchoAck and RTT).
type Queue struct {
	// Samples counts them.
	Samples int `json:"samples"`
	// MaxDelay is the largest queueing delay: the most, over the
	// connection, of the smallest of four consecutive samples less the
	// base leg (robust to one delayed ACK); LoadedRTT the base RTT plus
	// it.
	MaxDelay  time.Duration `json:"max_delay_ms"`
	LoadedRTT time.Duration `json:"loaded_rtt_ms"`
	// MaxBytes is the largest queue in bytes: MaxDelay at the
	// bottleneck rate (0 when the rate is unknown).
	MaxBytes float64 `json:"max_bytes"`
}

// MarshalJSON writes the queue with its delays in milliseconds.
func (q Queue) MarshalJSON() ([]byte, error) { return units.MarshalJSON(q) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (q Queue) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, q) }

// UnmarshalJSON reads what MarshalJSON writes.
func (q *Queue) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, q) }

// RateSource says which side of the capture measured the bottleneck
// rate.
type RateSource uint8

// Rate sources.
const (
	// RateUnknown: neither allowed it.
	RateUnknown RateSource = iota
	// RateDataSpacing: the spacing of back-to-back data segments, seen
	// after the bottleneck (the capture near the receiver).
	RateDataSpacing
	// RateACKClock: the spacing of the receiver's ACKs per byte they
	// acknowledge, seen before the bottleneck (the capture near the
	// sender, whose own data leaves at its interface's rate).
	RateACKClock
	// RateGiven: given by the user for the capture's own link
	// (Options.CaptureRate).
	RateGiven
)

var rateSourceNames = [...]string{"unknown", "data_spacing", "ack_clock", "given"}

// String returns the source's name as used in reports.
func (r RateSource) String() string {
	if int(r) < len(rateSourceNames) {
		return rateSourceNames[r]
	}
	return "unknown"
}

// MarshalText makes a RateSource appear by name in JSON.
func (r RateSource) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Evidence holds the numbers a Limit verdict rests on.
type Evidence struct {
	// Share of the duration per group of causes.
	ApplicationShare float64 `json:"application_share"`
	RoundTripShare   float64 `json:"round_trip_share"`
	WindowShare      float64 `json:"window_share"`
	ReceiverShare    float64 `json:"receiver_window_share"`
	TransferShare    float64 `json:"transfer_share"`
	LossShare        float64 `json:"loss_share"`
	// QueueShare is the time in bottleneck queues (queue_self_s and
	// queue_cross_s; part of the round-trip group for the Limit).
	QueueShare float64 `json:"queue_share"`
	// Utilisation is the payload rate (both directions) over the
	// estimated bottleneck rate; 0 when the rate is unknown.
	Utilisation float64 `json:"utilisation"`
	// TurnsTimesRTT is application turns times the base RTT.
	TurnsTimesRTT time.Duration `json:"turns_x_rtt_s"`
}

// MarshalJSON writes the evidence with its duration in seconds.
func (e Evidence) MarshalJSON() ([]byte, error) { return units.MarshalJSON(e) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (e Evidence) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, e) }

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Evidence) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, e) }

// Conn is the explanation of one TCP connection.
type Conn struct {
	ID     int            `json:"id"`
	Client netip.AddrPort `json:"client"`
	Server netip.AddrPort `json:"server"`
	// Proto is the application protocol; ProtoSource says where it came
	// from: "appproto" (identified from the payload by package appproto),
	// "port" (by the server's port, when appproto could not tell), or
	// "no_payload" (Proto "none": neither side sent any data, so the port
	// says nothing of what ran).
	Proto       string    `json:"proto"`
	ProtoSource string    `json:"proto_source"`
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
	// Vantage is where the capture was taken (tcpstate's vocabulary, the
	// same as the connection's own "vantage"): "near_client",
	// "near_server", "middle" or "unknown" (the budget then takes the
	// capture to be at the client); Legs the split of the round trip it
	// rests on.
	Vantage tcpstate.Vantage `json:"vantage"`
	Legs    Legs             `json:"legs"`
	// Ending is how the connection ended (refused, reset and by whom,
	// closed...; tcpstate.Ending).
	Ending tcpstate.Ending `json:"ending"`
	// RTT is the base round-trip time: the two legs together (0: none);
	// RTTSamples counts the connection's round-trip samples tcpstate took
	// (data->ACK and timestamp echoes).
	RTT        time.Duration `json:"rtt_ms"`
	RTTSamples int           `json:"rtt_samples"`
	// Rate is the estimated bottleneck rate of the direction that
	// carried the most data (JSON: bytes per second), and RateFrom how it
	// was measured (0, "unknown": neither side of the capture allowed it).
	Rate     units.BitRate `json:"rate_bytes_per_s"`
	RateFrom RateSource    `json:"rate_from"`
	// Turns counts client application turns: client data after server
	// data (or the first data); from package appproto when it framed the
	// connection.
	Turns int `json:"turns"`
	// Transactions counts requests paired with a response (package
	// appproto; 0 when it did not frame the connection).
	Transactions uint64 `json:"transactions"`
	// C2S and S2C describe the ACKs of each direction's data and its
	// segment sizes.
	AcksC2S     AckStats     `json:"acks_c2s"`
	AcksS2C     AckStats     `json:"acks_s2c"`
	SegmentsC2S SegmentStats `json:"segments_c2s"`
	SegmentsS2C SegmentStats `json:"segments_s2c"`
	Budget      Budget       `json:"budget"`
	// Stalls are the longest stalls (not transfer), longest first.
	Stalls   []Stall  `json:"stalls"`
	Limit    Limit    `json:"limit"`
	Evidence Evidence `json:"evidence"`
	Model    Model    `json:"model"`
	Queue    Queue    `json:"queue"`
	// Caveats are the capture-quality issues that undermine figures of
	// this explanation, each with the figures it undermines (empty when
	// none).
	Caveats []Caveat `json:"caveats"`
	// Cross lists the other connections between the same hosts that
	// carried enough to queue at the bottleneck and began before this one
	// ended (at most four, largest first): the projection replays them at
	// the target (ProjectTo).
	Cross []CrossFlow `json:"cross,omitempty"`
}

// MarshalJSON writes the explanation with its durations and rate in the units their names state.
func (c Conn) MarshalJSON() ([]byte, error) { return units.MarshalJSON(c) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (c Conn) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, c) }

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Conn) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, c) }
