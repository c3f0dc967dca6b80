package netlog

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/netecology/netecology/flow"
)

// JSONWriter writes events as JSON lines, one object per event (the
// Event's JSON form), each block in one Write. It is a Handler.
type JSONWriter struct {
	w   io.Writer
	buf jsonBuf
	enc *json.Encoder
}

type jsonBuf struct{ b []byte }

func (j *jsonBuf) Write(p []byte) (int, error) {
	j.b = append(j.b, p...)
	return len(p), nil
}

// NewJSONWriter returns a JSONWriter writing to w.
func NewJSONWriter(w io.Writer) *JSONWriter {
	j := &JSONWriter{w: w}
	j.enc = json.NewEncoder(&j.buf)
	return j
}

// Events writes the block's lines.
func (j *JSONWriter) Events(_ *flow.Conn, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	j.buf.b = j.buf.b[:0]
	for i := range events {
		if err := j.enc.Encode(&events[i]); err != nil {
			return fmt.Errorf("netlog: encode event: %w", err)
		}
	}
	if _, err := j.w.Write(j.buf.b); err != nil {
		return fmt.Errorf("netlog: write JSON: %w", err)
	}
	return nil
}
