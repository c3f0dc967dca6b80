package flow

import (
	"errors"
	"io"
	"os"
)

// A PacketSource delivers packets in capture order: a *Reader for one
// capture, a *MultiReader for several read as one.
type PacketSource interface {
	// Next returns the next packet, io.EOF after the last one, or an
	// error for damage that ended reading. The packet is valid until the
	// next call.
	Next() (*Packet, error)
	// Format is the capture's file format.
	Format() Format
	// Gzipped reports whether the capture was gzip-compressed.
	Gzipped() bool
	// Warnings counts the record flaws read around so far, by name (see
	// Summary.Warnings); nil when there are none.
	Warnings() map[string]uint64
}

// A MultiReader reads several captures as one: the rotated files of one
// capture (tcpdump -C or -G), or captures of the same traffic taken
// apart. Packets are merged by timestamp (on a tie, the earlier file
// first) and numbered from 1 across the files, so a connection that spans
// files is one connection. A file that is damaged part-way gives up what
// it held before the damage and drops out; the others are read to their
// ends, and Next then returns the first such error (a *FileError) instead
// of io.EOF.
type MultiReader struct {
	files []*multiFile
	index uint64
	err   error // the first damage seen
	last  *multiFile
	pkt   Packet
}

type multiFile struct {
	name string
	rd   *Reader
	cur  *Packet // the file's next packet, nil once it is exhausted
}

// FileError is a read error of one of a MultiReader's files.
type FileError struct {
	Name string
	Err  error
}

func (e *FileError) Error() string { return e.Name + ": " + e.Err.Error() }

func (e *FileError) Unwrap() error { return e.Err }

// NewMultiReader reads the file headers of the captures readers, named by
// names (for errors), and returns a MultiReader positioned at the first
// packet. It fails if a header cannot be read.
func NewMultiReader(names []string, readers []io.Reader) (*MultiReader, error) {
	if len(names) != len(readers) || len(names) == 0 {
		return nil, errors.New("flow: NewMultiReader needs one name per reader and at least one")
	}
	m := &MultiReader{}
	for i, r := range readers {
		rd, err := NewReader(r)
		if err != nil {
			return nil, &FileError{names[i], err}
		}
		m.files = append(m.files, &multiFile{name: names[i], rd: rd})
	}
	for _, f := range m.files {
		m.advance(f)
	}
	return m, nil
}

// advance reads f's next packet.
func (m *MultiReader) advance(f *multiFile) {
	p, err := f.rd.Next()
	if err != nil {
		f.cur = nil
		if !errors.Is(err, io.EOF) && m.err == nil {
			m.err = &FileError{f.name, err}
		}
		return
	}
	f.cur = p
}

// Next returns the earliest packet among the files' next ones.
func (m *MultiReader) Next() (*Packet, error) {
	if m.last != nil {
		m.advance(m.last)
		m.last = nil
	}
	var best *multiFile
	for _, f := range m.files {
		if f.cur != nil && (best == nil || f.cur.Time.Before(best.cur.Time)) {
			best = f
		}
	}
	if best == nil {
		if m.err != nil {
			return nil, m.err
		}
		return nil, io.EOF
	}
	m.last = best
	m.index++
	m.pkt = *best.cur
	m.pkt.Index = m.index
	return &m.pkt, nil
}

// Format returns the first file's format.
func (m *MultiReader) Format() Format { return m.files[0].rd.Format() }

// Gzipped reports whether the first file was gzip-compressed.
func (m *MultiReader) Gzipped() bool { return m.files[0].rd.Gzipped() }

// Warnings adds up the files' warnings (see Reader.Warnings).
func (m *MultiReader) Warnings() map[string]uint64 {
	var w map[string]uint64
	for _, f := range m.files {
		for k, n := range f.rd.Warnings() {
			if w == nil {
				w = make(map[string]uint64)
			}
			w[k] += n
		}
	}
	return w
}

// AnalyzeSource analyses every packet of src, as Analyze does for one
// capture: a source damaged part-way yields the analysis of everything
// read together with the error.
func AnalyzeSource(src PacketSource, cfg Config) (*Result, error) {
	a := NewAnalyzer(cfg)
	var readErr error
	for {
		p, err := src.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		a.Add(p)
	}
	a.Close()
	sum := a.Summary()
	sum.Warnings = src.Warnings()
	return &Result{Format: src.Format(), Gzipped: src.Gzipped(), Conns: a.Conns(), Summary: sum}, readErr
}

// AnalyzeFiles analyses the named captures as one (see MultiReader).
func AnalyzeFiles(names []string, cfg Config) (*Result, error) {
	readers := make([]io.Reader, len(names))
	for i, n := range names {
		f, err := os.Open(n)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		readers[i] = f
	}
	m, err := NewMultiReader(names, readers)
	if err != nil {
		return nil, err
	}
	return AnalyzeSource(m, cfg)
}
