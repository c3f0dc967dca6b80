package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netecology/netecology/examples/internal/cli"
)

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	odd := filepath.Join(dir, "a,b.pcap")
	require.NoError(t, os.WriteFile(odd, nil, 0o644))
	assert.Equal(t, []string{"-"}, cli.Files("-"))
	assert.Equal(t, []string{"x.pcap"}, cli.Files("x.pcap"))
	assert.Equal(t, []string{"x.pcap0", "x.pcap1"}, cli.Files("x.pcap0,x.pcap1,"))
	assert.Equal(t, []string{odd}, cli.Files(odd), "an existing file is one file, commas and all")
}

func TestSpool(t *testing.T) {
	name, remove, err := cli.Spool(strings.NewReader("capture bytes"))
	require.NoError(t, err)
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	assert.Equal(t, "capture bytes", string(b))
	remove()
	_, err = os.Stat(name)
	assert.True(t, os.IsNotExist(err))
}

// Records come out in number order while at most Window wait; past that,
// those waiting come out in order and the rest as they arrive.
func TestReorder(t *testing.T) {
	var got []int
	r := cli.Reorder[int]{Window: 2, Emit: func(v int) { got = append(got, v) }}
	for _, id := range []int{2, 1, 4, 3} {
		r.Add(id, id)
	}
	assert.Equal(t, []int{1, 2, 3, 4}, got)
	assert.Equal(t, "first_seen", r.Order())
	for _, id := range []int{7, 6, 8, 5, 9} { // 7, 6, 8 wait: more than 2
		r.Add(id, id)
	}
	r.Flush()
	assert.Equal(t, []int{1, 2, 3, 4, 6, 7, 8, 5, 9}, got)
	assert.True(t, r.EndOrder())
	assert.Equal(t, "end", r.Order())
}
