package linkq

import (
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/units"
	"github.com/netecology/netecology/tcpstate"
)

// Mathis constants (Mathis, Semke, Mahdavi, Ott 1997): rate ≤ (MSS/RTT)·C/√p.
var (
	// MathisC is C for periodic loss with an ACK for every segment,
	// √(3/2) ≈ 1.22: the default, as in the model's paper and pathdiag.
	MathisC = math.Sqrt(1.5)
	// MathisCDelayedACK is C when the receiver ACKs every second segment
	// (delayed ACK, RFC 5681), √(3/4) ≈ 0.87: cwnd grows half as fast, so
	// the same rate tolerates half the loss. Linux and Windows receivers
	// delay ACKs; choose it for a stricter test.
	MathisCDelayedACK = math.Sqrt(0.75)
)

// MathisMaxLoss returns the largest loss rate at which a TCP flow with
// segments of mss bytes can reach rate at the round-trip time rtt:
// p ≤ (C·MSS/(RTT·rate))², rate in bytes per second. It returns 0 for
// non-positive arguments.
func MathisMaxLoss(mss int, rtt time.Duration, rate units.BitRate, c float64) float64 {
	if mss <= 0 || rtt <= 0 || rate <= 0 || c <= 0 {
		return 0
	}
	x := c * float64(mss) / (rtt.Seconds() * rate.BytesPerSecond())
	return x * x
}

// Target is what an application needs of the path (NPAD's two questions):
// a data rate at a round-trip time. The verdict is off while RTT or Rate
// is zero.
type Target struct {
	// RTT is the round-trip time of the full path the application will
	// use (the capture may have been taken on a short section of it).
	RTT time.Duration
	// Rate is the data rate the application needs.
	Rate units.BitRate
	// C is the Mathis constant; zero means MathisC.
	C float64
}

func (t Target) enabled() bool { return t.RTT > 0 && t.Rate > 0 }

func (t Target) c() float64 {
	if t.C <= 0 {
		return MathisC
	}
	return t.C
}

// Level grades one check of a verdict.
type Level uint8

// Check levels, from good to bad; Info lines carry a figure without a
// judgement.
const (
	Info Level = iota
	Pass
	Warning
	Fail
)

var levelNames = [...]string{"info", "pass", "warning", "fail"}

// String returns "info", "pass", "warning" or "fail".
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "unknown"
}

// MarshalText makes a Level appear by name in JSON.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Check is one line of a verdict: what was measured, the limit it was
// held to, and for a warning or failure what to do about it.
type Check struct {
	Name string `json:"name"`
	// Dir is the direction a per-direction check (loss) is about: "c2s"
	// or "s2c".
	Dir      string  `json:"dir,omitempty"`
	Level    Level   `json:"level"`
	Measured float64 `json:"measured"`
	Limit    float64 `json:"limit"`
	Message  string  `json:"message"`
	Action   string  `json:"action,omitempty"`
}

// Verdict judges one TCP connection against a Target, pathdiag-style. The
// loss test is made for each direction that carried data; the summary
// fields describe the data direction (the one that carried more payload).
type Verdict struct {
	Conn   int            `json:"conn"`
	Client netip.AddrPort `json:"client"`
	Server netip.AddrPort `json:"server"`
	// DataDir is "c2s" or "s2c".
	DataDir string `json:"data_dir"`
	// TargetRTT, TargetRate and C are the target judged against
	// and the Mathis constant used.
	TargetRTT  time.Duration `json:"target_rtt_ms"`
	TargetRate units.BitRate `json:"target_rate_bps"`
	C          float64       `json:"c"`
	// DataSegments and Retransmitted count the data direction's segments
	// (see TCPStats); Spurious those retransmissions tcpstate showed
	// unneeded (D-SACK or timestamps: the original had arrived); LossRate
	// is (Retransmitted - Spurious) / DataSegments and MaxLoss the Mathis
	// bound for the target with MSS. TsharkRetransmissions is tcpstate's
	// Wireshark-compatible count, for reference.
	DataSegments          uint64  `json:"data_segments"`
	Retransmitted         uint64  `json:"retransmitted"`
	Spurious              uint64  `json:"spurious"`
	LossRate              float64 `json:"loss_rate"`
	MaxLoss               float64 `json:"max_loss"`
	TsharkRetransmissions uint64  `json:"tshark_retransmissions"`
	// MSS is the segment size used: the smaller MSS option of the SYNs,
	// less 12 bytes when timestamps were negotiated; without SYNs, the
	// largest payload seen. MaxSegment is the largest payload seen.
	MSS        int `json:"mss"`
	MaxSegment int `json:"max_segment"`
	// MaxWindow is the largest receive window the data receiver
	// advertised, scaled (-1 when the scale is unknown: no SYN seen);
	// NeededWindow is rate × RTT in bytes.
	MaxWindow    int64 `json:"max_window"`
	NeededWindow int64 `json:"needed_window"`
	// Overall is the worst level of the checks.
	Overall Level   `json:"overall"`
	Checks  []Check `json:"checks"`
}

// MarshalJSON writes the verdict with its target RTT in milliseconds.
func (v Verdict) MarshalJSON() ([]byte, error) { return units.MarshalJSON(v) }

// AppendJSON appends the record MarshalJSON returns to b (units.Appender).
func (v Verdict) AppendJSON(dst []byte) ([]byte, error) { return units.AppendJSON(dst, v) }

// UnmarshalJSON reads what MarshalJSON writes.
func (v *Verdict) UnmarshalJSON(data []byte) error { return units.UnmarshalJSON(data, v) }

// ethernetMSS is the MSS a 1500-byte MTU gives over IPv4 (1500 - 20 - 20);
// IPv6 takes 20 bytes more.
const ethernetMSS = 1460

// verdict judges connection c from its tracked directions: one named
// check after the other, in the order they are reported.
func verdict(c *flow.Conn, tc *tcpConn, tg Target) Verdict {
	dd := 0
	if tc.dirs[1].payload > tc.dirs[0].payload {
		dd = 1
	}
	d := &tc.dirs[dd]
	v := Verdict{Conn: c.ID, Client: c.Client, Server: c.Server, DataDir: "c2s",
		TargetRTT: tg.RTT, TargetRate: tg.Rate, C: tg.c(),
		DataSegments: d.data, Retransmitted: d.retx, MaxSegment: d.maxSeg}
	snd, rcvOpt := c.ClientOptions, c.ServerOptions
	if dd == 1 {
		v.DataDir = "s2c"
		snd, rcvOpt = rcvOpt, snd
	}
	if d.data > 0 {
		v.LossRate = float64(d.retx) / float64(d.data)
	}
	v.checkMSS(c.Client.Addr().Is4(), snd, rcvOpt, d.maxSeg)
	v.MaxLoss = MathisMaxLoss(v.MSS, tg.RTT, tg.Rate, v.C)
	v.checkLoss(c, tc, dd, tg)
	rcv := &tc.dirs[1-dd] // the data receiver's segments carry its window
	v.checkWindow(c.Midstream, rcv, tg)
	v.checkSymptoms(c, rcv, dd)
	v.checkRate(d, tg)
	for _, ck := range v.Checks {
		v.Overall = max(v.Overall, ck.Level)
	}
	return v
}

// checkMSS judges the MSS options of the SYNs (snd: the data sender's,
// rcv: the receiver's) against a 1500-byte MTU and sets v.MSS, the
// segment size the loss bound uses: the smaller MSS, less 12 bytes when
// both sides use timestamps; without SYNs, the largest segment seen.
func (v *Verdict) checkMSS(ipv4 bool, snd, rcv tcpstate.HandshakeOptions, maxSeg int) {
	if snd.MSS == 0 && rcv.MSS == 0 {
		v.MSS = maxSeg
		v.Checks = append(v.Checks, Check{Name: "mss", Level: Warning, Measured: float64(maxSeg),
			Message: fmt.Sprintf("no SYN captured: MSS unknown, using the largest segment seen (%d bytes)", maxSeg),
			Action:  "capture the connection from its start to check the MSS"})
		return
	}
	m := int(snd.MSS)
	if m == 0 || rcv.MSS > 0 && int(rcv.MSS) < m {
		m = int(rcv.MSS)
	}
	full := ethernetMSS
	if !ipv4 {
		full -= 20
	}
	ck := Check{Name: "mss", Measured: float64(m), Limit: float64(full)}
	if m >= full {
		ck.Level = Pass
		ck.Message = fmt.Sprintf("MSS %d bytes: the path carries full 1500-byte packets", m)
	} else {
		ck.Level = Warning
		ck.Message = fmt.Sprintf("MSS %d bytes is below the %d of a 1500-byte MTU", m, full)
		ck.Action = "look for MSS clamping, a tunnel or PPPoE on the path; smaller segments need proportionally lower loss for the same rate"
	}
	if snd.Timestamps && rcv.Timestamps {
		m -= 12 // the timestamp option rides in every segment
	}
	v.MSS = m
	v.Checks = append(v.Checks, ck)
}

// checkLoss judges the loss against the Mathis bound v.MaxLoss in each
// direction that carried data, the data direction dd first (always
// reported), and sets the data direction's loss figures.
func (v *Verdict) checkLoss(c *flow.Conn, tc *tcpConn, dd int, tg Target) {
	for _, k := range [2]int{dd, 1 - dd} {
		x := &tc.dirs[k]
		ts := st(c, k)
		spur := min(ts.SpuriousDSACK+ts.SpuriousTS, x.retx)
		var rate float64
		if x.data > 0 {
			rate = float64(x.retx-spur) / float64(x.data)
		}
		if k == dd {
			v.Spurious, v.LossRate, v.TsharkRetransmissions = spur, rate, ts.Retransmissions
		}
		if x.data == 0 && k != dd {
			continue
		}
		v.Checks = append(v.Checks, lossCheck(tcpstate.Dir(k).String(), x.data, x.retx, spur, rate, v.MaxLoss, v.MSS, v.C, tg))
	}
}

// checkWindow judges the largest receive window the data receiver rcv
// advertised, in bytes as tcpstate scaled it (by the receiver's window
// scale once both SYNs agreed on scaling), against rate × RTT, and sets
// v.NeededWindow and v.MaxWindow (-1 when the scale or the window is
// unknown).
func (v *Verdict) checkWindow(midstream bool, rcv *tcpDir, tg Target) {
	v.NeededWindow = int64(math.Ceil(tg.Rate.BytesPerSecond() * tg.RTT.Seconds()))
	ck := Check{Name: "window", Limit: float64(v.NeededWindow)}
	switch {
	case midstream && rcv.maxWin > 0:
		v.MaxWindow = -1
		ck.Level = Warning
		ck.Measured = float64(rcv.maxWin)
		ck.Message = fmt.Sprintf("no SYN captured: window scale unknown (largest raw window %d)", rcv.maxWin)
		ck.Action = "capture the connection from its start to check the receive window"
	case rcv.maxWin == 0 && rcv.zeroWin == 0:
		v.MaxWindow = -1
		ck.Level = Info
		ck.Message = "no segment from the receiver: window not seen"
	default:
		v.MaxWindow = int64(rcv.maxBytes)
		ck.Measured = float64(v.MaxWindow)
		if v.MaxWindow >= v.NeededWindow {
			ck.Level = Pass
			ck.Message = fmt.Sprintf("largest receive window %d bytes covers the %d bytes (rate × RTT) the target needs", v.MaxWindow, v.NeededWindow)
			break
		}
		ck.Level = Fail
		ck.Message = fmt.Sprintf("largest receive window %d bytes is below the %d bytes (rate × RTT) the target needs: at most %s at %s",
			v.MaxWindow, v.NeededWindow, rateString(float64(v.MaxWindow)*8/tg.RTT.Seconds()), tg.RTT)
		ck.Action = fmt.Sprintf("raise the receiver's maximum window to at least %d bytes (socket receive buffer / tcp_rmem)", v.NeededWindow)
		if rcv.shift <= 0 && v.NeededWindow > 65535 {
			ck.Action += " and enable window scaling (RFC 7323) on both ends"
		}
	}
	v.Checks = append(v.Checks, ck)
}

// checkSymptoms adds a warning for each capture-side symptom: the data
// receiver rcv advertising a zero window (a slow reader), and from
// tcpstate's analysis retransmissions after a timeout (either direction)
// and the data sender (direction dd) filling the receiver's window.
func (v *Verdict) checkSymptoms(c *flow.Conn, rcv *tcpDir, dd int) {
	if rcv.zeroWin > 0 {
		v.Checks = append(v.Checks, Check{Name: "zero_window", Level: Warning, Measured: float64(rcv.zeroWin),
			Message: fmt.Sprintf("the receiver advertised a zero window %d times: it did not read its data fast enough", rcv.zeroWin),
			Action:  "make the receiving application read faster (or give it a larger buffer)"})
	}
	if rto := c.C2S.RetransTimeout + c.S2C.RetransTimeout; rto > 0 {
		v.Checks = append(v.Checks, Check{Name: "timeouts", Level: Warning, Measured: float64(rto),
			Message: fmt.Sprintf("%d retransmissions after a timeout: the sender waited at least one RTO (200 ms or more) each time", rto),
			Action:  "find the loss; losses that no later data reveals (the last segment of a request or answer) need a timeout unless both ends use RACK-TLP"})
	}
	if wf := st(c, dd).WindowFull; wf > 0 {
		v.Checks = append(v.Checks, Check{Name: "window_full", Level: Warning, Measured: float64(wf),
			Message: fmt.Sprintf("the sender filled the receiver's advertised window %d times: the receive window limited the data rate", wf),
			Action:  "raise the receiver's maximum window (socket receive buffer / tcp_rmem)"})
	}
}

// checkRate reports, for information, the rate the data direction d
// achieved over its span of time, when it carried payload.
func (v *Verdict) checkRate(d *tcpDir, tg Target) {
	span := d.last.Sub(d.first).Seconds()
	if span <= 0 || d.payload == 0 {
		return
	}
	r := float64(d.payload) * 8 / span
	v.Checks = append(v.Checks, Check{Name: "rate", Level: Info, Measured: r, Limit: float64(tg.Rate),
		Message: fmt.Sprintf("data direction carried %d payload bytes in %.3f s: %s (target %s)", d.payload, span, rateString(r), rateString(float64(tg.Rate)))})
}

// st returns tcpstate's counters of direction k (0 = c2s) of c.
func st(c *flow.Conn, k int) *tcpstate.DirStats {
	if k == 1 {
		return &c.S2C
	}
	return &c.C2S
}

// lossCheck judges the loss of one direction.
func lossCheck(dir string, data, retx, spur uint64, rate, maxLoss float64, mss int, c float64, tg Target) Check {
	ck := Check{Name: "loss", Dir: dir, Measured: rate, Limit: maxLoss}
	lost := retx - spur
	what := fmt.Sprintf("%s loss %.3f%% (%d of %d segments retransmitted", dir, 100*rate, retx, data)
	if spur > 0 {
		what += fmt.Sprintf(", %d of them needlessly", spur)
	}
	what += ")"
	switch {
	case data == 0 || mss == 0:
		ck.Level = Info
		ck.Message = dir + ": no data segments, loss not measured"
	case rate <= maxLoss:
		ck.Level = Pass
		ck.Message = fmt.Sprintf("%s is within the %.3f%% that %s at %s allows with MSS %d",
			what, 100*maxLoss, rateString(float64(tg.Rate)), tg.RTT, mss)
		if n := 1 / maxLoss; float64(data) < n {
			ck.Message += fmt.Sprintf(" (only %d segments seen; %.0f are needed to resolve that rate)", data, math.Ceil(n))
		}
	default:
		ck.Level = Fail
		ck.Message = fmt.Sprintf("%s exceeds the %.3f%% that %s at %s allows with MSS %d",
			what, 100*maxLoss, rateString(float64(tg.Rate)), tg.RTT, mss)
		ck.Action = fmt.Sprintf("find and fix the loss on this path section: it must stay below %.4f%% (1 in %.0f segments); "+
			"at %.3f%% (%d lost) the model allows only %s at %s",
			100*maxLoss, math.Ceil(1/maxLoss), 100*rate, lost, rateString(mathisRate(mss, tg.RTT, rate, c)), tg.RTT)
	}
	return ck
}

// mathisRate returns the rate (bit/s) the Mathis model allows at loss p.
func mathisRate(mss int, rtt time.Duration, p, c float64) float64 {
	if p <= 0 || rtt <= 0 {
		return math.Inf(1)
	}
	return float64(mss) * 8 / rtt.Seconds() * c / math.Sqrt(p)
}

// rateString formats bit/s with an SI prefix and three significant
// digits, as the messages give rates.
func rateString(bps float64) string { return units.BitRate(bps).Format(3) }

// UnmarshalText reads a Level by name.
func (l *Level) UnmarshalText(t []byte) error {
	for i, n := range levelNames {
		if n == string(t) {
			*l = Level(i)
			return nil
		}
	}
	return fmt.Errorf("unknown level %q", t)
}

// CheckAbout says what a verdict check tests and the model or rule it
// applies, for a report's explanation of a verdict line.
type CheckAbout struct {
	Tests string
	Model string
}

// aboutChecks describe the checks verdict makes, by name.
var aboutChecks = map[string]CheckAbout{
	"mss": {"the MSS options of the SYNs against the 1460 bytes (1440 over IPv6) of a 1500-byte MTU",
		"smaller segments carry less per round trip and per loss: the Mathis bound scales with the MSS; a clamp " +
			"points at a tunnel, PPPoE or a middlebox"},
	"loss": {"the data direction's retransmitted segments per data segment (retransmissions tcpstate showed needless " +
		"taken off) against the largest loss the target rate tolerates at the target RTT",
		"Mathis et al. 1997: rate ≤ (MSS/RTT)·C/√p, so p ≤ (C·MSS/(RTT·rate))²; C = 1.22 (√(3/2), an ACK per " +
			"segment) or 0.87 with delayed ACKs"},
	"window": {"the largest receive window the data receiver advertised, scaled by its window scale (RFC 7323), " +
		"against rate × RTT, the bytes in flight the target needs",
		"a sender can have at most one receive window in flight per round trip: rate ≤ window / RTT"},
	"zero_window": {"whether the data receiver advertised a zero window",
		"a zero window stops the sender until the receiving application reads: a slow reader, not the network"},
	"timeouts": {"retransmissions tcpstate found sent after a retransmission timeout",
		"RFC 6298: a timeout costs at least 200 ms (Linux) or 1 s and collapses the window to one segment"},
	"window_full": {"how often the sender filled the receiver's advertised window (tcpstate's window-full label)",
		"a full window stops the sender until an ACK opens it: the receive window limited the rate"},
	"rate": {"the rate the data direction achieved over its span, for information",
		"payload bytes × 8 / time from the direction's first to its last packet"},
}

// AboutCheck returns what the named check of a verdict tests and the
// model it applies; for a name verdict does not make, both are empty.
func AboutCheck(name string) CheckAbout { return aboutChecks[name] }
