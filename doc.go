// Package netecology reads packet captures offline and explains why an
// application is slow over a wide-area network.
//
// The classic case (Meek et al., "Wide Area Network Ecology", LISA '98): a
// client that sends bulk data in many small segments and acknowledges each
// one pays a round trip per exchange. On a 1 ms LAN nobody notices; on a
// 150 ms WAN the same session crawls. netecology finds such behaviour in a
// capture, attributes it to the application protocol and prices it in
// round trips and seconds.
//
// The module is a pipeline of packages, data flowing one way:
//
//	capture file (pcap / pcapng, gzip or not, any io.Reader)
//	      |
//	      v
//	flow       read records, decode link/IP/TCP (gopacket), account for
//	      |    every packet, demultiplex TCP connections by four-tuple
//	      |    (bounded by Config: live connections, idle timeout)
//	      |-- segments (plain values) --> tcpstate   one connection's TCP
//	      |                                          state, counters, analysis
//	      |-- directed byte streams ----> appproto   protocol identification,
//	      |                                          message framing
//	      v
//	results (typed structs, JSON tags)
//	      |
//	      |-- flow/explain  why a connection was slow: ACKs per segment,
//	      |                 small segments, a time budget that adds up,
//	      |                 the limiting cause, what-if at another RTT/rate
//	      |-- flow/linkq    echo RTT-vs-size fits, link use, verdicts
//	      |-- flow/series   figure data in bounded bins
//	      v
//	plot (figures), examples/ (flows, compare, figures, linkq)
//
// plot imports neither flow nor its consumers: it reads results through
// small interfaces in the manner of gonum/plot's plotter.XYer, which the
// types of flow/series and flow/linkq implement.
//
// Only flow imports gopacket; tcpstate and appproto take plain values
// (netip.AddrPort, sequence numbers, time.Time, []byte) and know nothing of
// capture formats. Library packages never print, never exit and never read
// the clock: time is the capture's.
//
// The consumers of flow (explain, linkq, series, and a tool's own output)
// ride on the same single pass: each is a flow.Consumer listed in
// flow.Config.Consumers, called in a documented order (packets, application
// transactions, connection ends) on the Analyzer's goroutine.
// The command-line tools under examples/ use the public API only; start
// with examples/compare and examples/flows.
package netecology
