// Package plot draws netecology's figures with gonum/plot, headless, to
// PNG, SVG or PDF:
//
//   - PacketFlow: the packet-flow and bandwidth figure of "Wide Area
//     Network Ecology" (Meek et al., LISA '98) — every packet of one
//     connection as a mark of its size over time, one direction above the
//     axis and the other below, the ACK-only packets as ticks in a lane of
//     their own by the axis (stacked in rows where they come too close, so
//     that each stays visible: Figure.Lanes counts them), SYN, FIN and RST
//     as marks of their own, a line at each sender's full-size frame, over
//     the bandwidth of the connection and of the whole capture per
//     interval, with notes (ACKs per segment, turns...) beside it;
//   - Bandwidth: a capture's bandwidth over time per direction, by traffic
//     class, stacked or as lines, optionally against a link rate;
//   - TimeSequence: the tcptrace/Stevens time-sequence graph, in
//     tcptrace's colours (data black, retransmissions red with an R, the
//     window line yellow, the ACK line green, SACK blocks purple);
//   - RTT: round-trip time samples and the minimum per interval, from TCP
//     and from echoes (Meek et al.'s Figure 3);
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
// grid of panels, each with its key (legend and notes) drawn beside the
// data, never on it; Beside puts figures side by side on shared vertical
// scales and units, and Render writes one to any io.Writer. Only
// command-line tools choose file names.
//
// Time axes are in seconds since Header.Start, whose date and time of
// day (UTC) appear in the title; a zoom (Header.From, End) keeps those
// seconds, and an axis spanning two hours or more gives the time of day
// (UTC) instead. Rates are of wire bytes (whole frames), in kbit/s, Mbit/s
// or Gbit/s, whichever keeps the axis below 10 000. Figures are not safe
// for concurrent use.
package plot
