package linkq

import (
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/netecology/netecology/flow"
	"github.com/netecology/netecology/flow/series"
)

// Config shapes an Analyzer. Its zero value is usable: echo matching with
// port 7 for UDP and a 10 s timeout, fits over IP packet lengths, TCP RTT
// samples, link use in 5-minute bins, and no verdict.
type Config struct {
	Echo EchoConfig
	Fit  FitConfig
	// NoTCPSamples leaves TCP RTT samples out of the fits (the TCP
	// counters and the verdict are kept).
	NoTCPSamples bool
	Use          UseConfig
	// Target enables the verdict when its RTT and Rate are set.
	Target Target
	// Judge, when set, picks the connections that get a verdict (nil:
	// all). Verdicts are kept until Report (each gets its host pair's
	// duplex check then), so memory grows with the connections judged: a
	// tool that shows a few picks them here. With Workers above one it is
	// called on the shards' goroutines and must be safe for concurrent
	// use.
	Judge func(c *flow.Conn) bool
	// Workers is the flow.Config.Workers of the pass Analyze and
	// AnalyzeFile make: above one, connections are analysed in parallel
	// shards, with the same report (see Analyzer.Merge).
	Workers int
	// Loss shapes the loss by size; Duplex the duplex-mismatch check.
	Loss   LossConfig
	Duplex DuplexConfig
}

// Report is the link-quality analysis of one capture.
type Report struct {
	Echo EchoStats `json:"echo"`
	TCP  TCPStats  `json:"tcp"`
	// Paths holds one RTT-versus-size analysis per path in first-seen
	// order; DroppedPaths counts samples of paths beyond FitConfig.MaxPaths.
	Paths        []PathFit `json:"paths"`
	DroppedPaths uint64    `json:"dropped_paths"`
	// EchoMinRTT is the smallest echo RTT per interval over every echo
	// path, dated by the reply, on a grid aligned on multiples of its
	// width since the Unix epoch (EchoConfig.MinInterval, doubled as
	// often as the capture's length needs): Meek et al.'s Figure 3 in
	// bounded memory.
	EchoMinRTT series.MinRTT `json:"echo_min_rtt"`
	Use        UseReport     `json:"use"`
	// SizeLoss holds the loss by packet size of every path with echo
	// requests or TCP data, in the order their first packet came; Duplex
	// the duplex-mismatch check of every host pair that carried data, in
	// the same order.
	SizeLoss []SizeLoss     `json:"size_loss"`
	Duplex   []DuplexReport `json:"duplex"`
	// Verdicts holds one verdict per TCP connection, in the order they
	// ended (nil without a target).
	Verdicts []Verdict `json:"verdicts,omitempty"`
	// Summary is the capture's packet accounting from flow.
	Summary flow.Summary `json:"summary"`
}

// Analyzer computes link quality from the packets of one capture. It is a
// flow.Consumer: list it in flow.Config.Consumers (Analyze does this), then
// call Report after the pass. It is also a flow.Forker, so that a pass
// with flow.Config.Workers above one runs it in every shard (see Merge). It keeps no packet: memory is
// bounded by the limits in Config and by the connections flow tracks. It
// is not safe for concurrent use.
type Analyzer struct {
	cfg      Config
	echo     *echoMatcher
	tcp      *tcpTracker
	paths    *pathSet
	use      *useAcc
	sizes    *sizeLossAcc
	duplex   *duplexAcc
	verdicts []Verdict
	done     bool
	// box is set on the root of a parallel pass, toRoot on its forks: the
	// verdicts go from the forks to the root through it.
	box, toRoot *verdictBox
}

// New returns an Analyzer shaped by cfg.
func New(cfg Config) *Analyzer {
	paths := newPathSet(cfg.Fit, cfg.Echo.minInterval())
	sizes, duplex := newSizeLossAcc(cfg.Loss, cfg.Fit.maxPaths()), newDuplexAcc(cfg.Duplex)
	return &Analyzer{cfg: cfg, echo: newEchoMatcher(cfg.Echo, paths, sizes, duplex), tcp: newTCPTracker(),
		paths: paths, use: newUseAcc(cfg.Use), sizes: sizes, duplex: duplex}
}

// Packet takes one packet as flow classified it. It neither keeps p nor
// the bytes it refers to.
func (a *Analyzer) Packet(p *flow.PacketInfo) {
	if a.done {
		return
	}
	a.use.add(p) // every IP packet occupies the link, analysable or not
	if p.Skip != flow.SkipNone {
		return
	}
	if p.Seg != nil && p.Conn != nil {
		before := a.tcp.stats
		a.tcp.add(p, a.cfg.Fit.Size, a.paths, !a.cfg.NoTCPSamples)
		a.sizes.tcp(p, a.cfg.Fit.Size, before, a.tcp.stats)
		a.duplex.add(p)
		return
	}
	a.duplex.add(p)
	a.echo.add(p, a.cfg.Fit.Size)
}

// ConnEnd takes a connection flow reports ended: its verdict is made (with
// a target) and its tracking dropped. In a parallel pass the fork that
// saw the connection makes the verdict and the root keeps it, in the
// order the connections ended.
func (a *Analyzer) ConnEnd(c *flow.Conn) {
	if b := a.box; b != nil {
		b.mu.Lock()
		v, ok := b.m[c]
		delete(b.m, c)
		b.mu.Unlock()
		if ok && !a.done {
			a.verdicts = append(a.verdicts, v)
		}
		return
	}
	tc := a.tcp.conns[c.ID]
	if tc == nil {
		return
	}
	delete(a.tcp.conns, c.ID)
	if !a.cfg.Target.enabled() || a.done || a.cfg.Judge != nil && !a.cfg.Judge(c) {
		return
	}
	v := verdict(c, tc, a.cfg.Target)
	if b := a.toRoot; b != nil {
		b.mu.Lock()
		b.m[c] = v
		b.mu.Unlock()
		return
	}
	a.verdicts = append(a.verdicts, v)
}

// Report ends the analysis (requests still unanswered count as lost) and
// returns its results; each verdict gets its host pair's duplex check
// last. Call it once, after the last packet and after flow's Analyzer was
// closed.
func (a *Analyzer) Report() *Report {
	if !a.done {
		a.done = true
		a.echo.close()
	}
	r := &Report{Echo: a.echo.stats, TCP: a.tcp.stats, Paths: a.paths.fits(), DroppedPaths: a.paths.dropped,
		EchoMinRTT: a.paths.echoMin.MinRTT(), Use: a.use.report(), SizeLoss: a.sizes.report(a.cfg.Fit.Size),
		Duplex: a.duplex.reports(), Verdicts: slices.Clone(a.verdicts)}
	addDuplexChecks(r.Verdicts, r.Duplex)
	return r
}

// Analyze reads a capture from r and returns its link-quality report. A
// capture damaged part-way yields the report of what was read together
// with the error, as flow.Analyze does.
func Analyze(r io.Reader, cfg Config) (*Report, error) {
	a := New(cfg)
	res, err := flow.Analyze(r, flow.Config{Consumers: []flow.Consumer{a}, Workers: cfg.Workers})
	if res == nil {
		return nil, err
	}
	rep := a.Report()
	rep.Summary = res.Summary
	return rep, err
}

// AnalyzeFile is Analyze on the named file.
func AnalyzeFile(name string, cfg Config) (*Report, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rep, err := Analyze(f, cfg)
	if err != nil {
		err = fmt.Errorf("%s: %w", name, err)
	}
	return rep, err
}
