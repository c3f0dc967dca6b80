package flow

import "github.com/netecology/netecology/appproto"

// A Consumer rides on the Analyzer's single pass over a capture: figures,
// explanations, link quality and a tool's own output are all Consumers of
// the same pass, listed in Config.Consumers.
//
// The Analyzer calls its consumers on the goroutine that calls Add and
// Close, in the order they are listed, at these points:
//
//   - For each packet read (Add): first ConnEnd for every connection the
//     packet's timestamp ends (idle, closed and quiet, or evicted to make
//     room); then the packet is classified and, for a TCP segment, fed to
//     its connection's tcpstate.Conn and application analysis — which
//     delivers Transaction for each application transaction the segment
//     completes (a SYN reusing a four-tuple first ends the old
//     connection: ConnEnd) — and last Packet, with the segment's analysis.
//   - For each connection that ends (during Add, or in Close for those
//     still live, in first-seen order): its application analysis is
//     closed (Transaction for the transactions that completes), then
//     ConnEnd with the connection's final figures.
//
// A Consumer must not keep the *PacketInfo, the slices it refers to or the
// *appproto.Transaction beyond the call; it may keep the *Conn.
type Consumer interface {
	// Packet receives every packet read, after the Analyzer has classified
	// it and, for a TCP segment, analysed it (PacketInfo.Analysis).
	Packet(p *PacketInfo)
	// ConnEnd receives each connection when it ends; its fields are final.
	ConnEnd(c *Conn)
}

// A TransactionConsumer is a Consumer that also receives the application
// transactions (a request paired with its response, see package appproto)
// of every connection, as they complete.
type TransactionConsumer interface {
	Consumer
	// Transaction receives one completed transaction of connection c
	// (whose figures are final only once it ends).
	Transaction(c *Conn, t *appproto.Transaction)
}

// A Forker is a Consumer that can run in parallel shards (Config.Workers
// above one). Before the first packet the Analyzer calls Fork once per
// shard; each fork receives, on its shard's goroutine, the Packet,
// Transaction and ConnEnd calls of the connections assigned to that shard
// (and shard 0's of the packets of no connection), each in capture order,
// as a single consumer would. The Forker itself then receives ConnEnd for
// every connection, on the Analyzer's goroutine and in the order the
// connections ended (as one worker would have called it), each after its
// fork's ConnEnd has returned; its Packet and Transaction are not called.
// Close calls Merge once, with the forks in shard order, after each has
// seen its last call, so that the Forker can combine what they gathered.
type Forker interface {
	Consumer
	// Fork returns a new consumer for one shard.
	Fork() Consumer
	// Merge combines the forks' results into the Forker.
	Merge(forks []Consumer)
}

// ConnFunc adapts a function to a Consumer that receives each ended
// connection and ignores packets.
type ConnFunc func(*Conn)

// Packet does nothing.
func (ConnFunc) Packet(*PacketInfo) {}

// ConnEnd calls f(c).
func (f ConnFunc) ConnEnd(c *Conn) { f(c) }

// PacketFunc adapts a function to a Consumer that receives each packet and
// ignores connection ends.
type PacketFunc func(*PacketInfo)

// Packet calls f(p).
func (f PacketFunc) Packet(p *PacketInfo) { f(p) }

// ConnEnd does nothing.
func (PacketFunc) ConnEnd(*Conn) {}
