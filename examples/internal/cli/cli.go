// Package cli holds what the example tools share on the command line:
// opening the captures named as arguments ("-" for standard input, several
// rotated files as one capture), a progress line on a terminal, standard
// input spooled for tools that read their capture twice, and the order
// of records written as connections end. It uses only netecology's public
// API.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netecology/netecology/flow"
)

// Input is the capture a tool reads: one file, standard input, or several
// files read as one (flow.MultiReader).
type Input struct {
	// Src delivers the packets.
	Src flow.PacketSource
	// Size is the total size in bytes of the files (0 when unknown, as
	// for standard input).
	Size    int64
	read    atomic.Int64
	packets atomic.Int64
	files   []*os.File
}

// Open opens the captures named: "-" (alone) is stdin. Several names are
// read as one capture, merged by timestamp.
func Open(names []string, stdin io.Reader) (*Input, error) {
	if len(names) == 0 {
		return nil, errors.New("no capture named")
	}
	in := &Input{}
	readers := make([]io.Reader, len(names))
	for i, n := range names {
		if n == "-" {
			if len(names) > 1 {
				in.Close()
				return nil, errors.New(`"-" (standard input) cannot be read with other files`)
			}
			readers[i] = &counting{r: stdin, n: &in.read}
			continue
		}
		f, err := os.Open(n)
		if err != nil {
			in.Close()
			return nil, err
		}
		in.files = append(in.files, f)
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			in.Size += st.Size()
		}
		readers[i] = &counting{r: f, n: &in.read}
	}
	var err error
	if len(names) == 1 {
		var rd *flow.Reader
		if rd, err = flow.NewReader(readers[0]); err == nil {
			in.Src = &countingSource{PacketSource: rd, n: &in.packets}
		} else {
			err = fmt.Errorf("%s: %w", names[0], err)
		}
	} else {
		var m *flow.MultiReader
		if m, err = flow.NewMultiReader(names, readers); err == nil {
			in.Src = &countingSource{PacketSource: m, n: &in.packets}
		}
	}
	if err != nil {
		in.Close()
		return nil, err
	}
	return in, nil
}

// MaxConnsUsage is the help of the tools' -max-conns flag
// (flow.Config.MaxConns).
const MaxConnsUsage = "most connections tracked at once (0: flow.DefaultMaxConns); past it single-packet and mid-stream connections are ended first"

// Files returns the files one capture argument names: "-" (standard
// input), a file, or several files joined by commas ("a.pcap,b.pcap":
// the rotated files of one capture, read as one by Open). A name that is
// an existing file is that file, commas and all.
func Files(arg string) []string {
	if arg == "-" || !strings.Contains(arg, ",") {
		return []string{arg}
	}
	if _, err := os.Stat(arg); err == nil {
		return []string{arg}
	}
	var out []string
	for _, f := range strings.Split(arg, ",") {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Name names a capture made of files in titles: the file's base name,
// "standard input", or the first file's and how many follow.
func Name(files []string) string {
	switch {
	case len(files) == 0:
		return ""
	case len(files) == 1 && files[0] == "-":
		return "standard input"
	case len(files) > 1:
		return fmt.Sprintf("%s (+%d files)", filepath.Base(files[0]), len(files)-1)
	}
	return filepath.Base(files[0])
}

// Spool copies r (standard input) to a temporary file for a tool that
// reads its capture twice, and returns the file's name and a function
// that removes it: memory stays bounded, the disk holds the capture.
func Spool(r io.Reader) (name string, remove func(), err error) {
	f, err := os.CreateTemp("", "netecology-stdin-*.pcap")
	if err != nil {
		return "", nil, err
	}
	remove = func() { os.Remove(f.Name()) }
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		remove()
		return "", nil, fmt.Errorf("standard input: %w", err)
	}
	if err := f.Close(); err != nil {
		remove()
		return "", nil, err
	}
	return f.Name(), remove, nil
}

// Close closes the files.
func (in *Input) Close() {
	for _, f := range in.files {
		f.Close()
	}
	in.files = nil
}

// Analyze runs flow's analysis over the input.
func (in *Input) Analyze(cfg flow.Config) (*flow.Result, error) {
	return flow.AnalyzeSource(in.Src, cfg)
}

type counting struct {
	r io.Reader
	n *atomic.Int64
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type countingSource struct {
	flow.PacketSource
	n *atomic.Int64
}

func (c *countingSource) Next() (*flow.Packet, error) {
	p, err := c.PacketSource.Next()
	if err == nil {
		c.n.Add(1)
	}
	return p, err
}

// Progress shows, on w when it is a terminal and quiet is false, a line
// updated every second: the share of the input read, packets and
// packets per second, and the time left. The returned function stops it
// and clears the line.
func (in *Input) Progress(w *os.File, quiet bool, tool string) (stop func()) {
	if quiet || !isTerminal(w) {
		return func() {}
	}
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\x1b[K")
				return
			case now := <-t.C:
				fmt.Fprint(w, "\r\x1b[K"+in.line(tool, now.Sub(start)))
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// line is the progress line after elapsed time.
func (in *Input) line(tool string, elapsed time.Duration) string {
	read, pk := in.read.Load(), in.packets.Load()
	s := fmt.Sprintf("%s: %.2f M packets (%.2f M/s)", tool, float64(pk)/1e6, float64(pk)/1e6/elapsed.Seconds())
	if in.Size > 0 && read > 0 {
		frac := min(float64(read)/float64(in.Size), 1)
		s += fmt.Sprintf(", %.0f%% of %.2f GB", 100*frac, float64(in.Size)/1e9)
		if frac > 0 {
			left := time.Duration(float64(elapsed) * (1 - frac) / frac).Round(time.Second)
			s += fmt.Sprintf(", %s left", left)
		}
	}
	return s
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
