// Package plot draws netecology's figures with gonum/plot, headless, to
// PNG, SVG or PDF:
//
//   - PacketFlow: the packet-flow and bandwidth figure of "Wide Area
//     Network Ecology" (Meek et al., LISA '98) — every packet of one
//     connection as a mark of its size over time, one direction above the
//     axis and the other below, over the bandwidth of the connection and
//     of the whole capture per interval;
//   - Bandwidth: a capture's bandwidth over time per direction, by traffic
//     class, stacked or as lines, optionally against a link rate;
//   - TimeSequence: the tcptrace/Stevens time-sequence graph;
//   - RTT: round-trip time samples and the minimum per interval;
//   - Timeline: application transactions as NetLogger-style lifelines.
//   - Lifeline: a connection's events as NetLogger lifelines through the
//     client, the capture point and the server (Lifeliner, LifeMarker;
//     package flow/netlog's Lines and Marks implement them).
//   - EchoFit: round-trip time against packet size with fitted lines (Figure
//     1 of Meek et al.: intercept = fixed delay, slope = serialization per
//     byte, RMS residual = the link's consistency).
//
// The package draws results only; it does no analysis. Data comes in
// through small interfaces in the manner of gonum's plotter.XYer
// (ByteBinner, MinRTTer, Packeter, RTTSampler, SeqRanger, SeqMarker,
// Transactioner, FitLiner), which package flow/series's results (Bins,
// MinRTT, Points, RTTSamples, SeqRanges, SeqMarks, Turns) and package
// flow/linkq's (Points, NamedLines) implement, so they plug in without
// conversion. The constructors read the data once, copy what they draw
// and validate it: no data, too little to span a time axis, a negative or
// non-finite value, or a time before the figure's start is an error
// (wrapping ErrNoData or ErrBadData), never a broken file. A Figure is a
// grid of panels; Beside puts figures side by side on shared vertical
// scales, and Render writes one to any io.Writer. Only command-line tools
// choose file names.
//
// Time axes are in seconds since Header.Start, whose date and time of
// day (UTC) appear in the title. Bandwidth is in kbit/s (1000 bits per
// second) of wire bytes (whole frames). Figures are not safe for
// concurrent use.
package plot
