package plot

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot/plotter"
)

// testLines is a Lifeliner of literal points.
type testLines []struct {
	kind string
	pts  []testPoint
}

type testPoint struct {
	row int
	at  time.Time
}

func (l testLines) Len() int                                { return len(l) }
func (l testLines) Lifeline(i int) (string, int)            { return l[i].kind, len(l[i].pts) }
func (l testLines) LifelinePoint(i, j int) (int, time.Time) { return l[i].pts[j].row, l[i].pts[j].at }

type testMarks []struct {
	kind string
	testPoint
}

func (m testMarks) Len() int { return len(m) }
func (m testMarks) LifeMark(i int) (string, int, time.Time) {
	return m[i].kind, m[i].row, m[i].at
}

// A handshake and a transaction over legs of 0.5 ms (client) and 20 ms
// (server), and a retransmission: each point lands on its row at its
// seconds since the start, the kinds in first-seen order.
func lifelineFixture() (testLines, testMarks) {
	lines := testLines{
		{"handshake", []testPoint{{RowClient, at(0)}, {RowCapture, at(1)}, {RowServer, at(21)},
			{RowServer, at(21)}, {RowCapture, at(41)}, {RowClient, at(42)}}},
		{"transaction", []testPoint{{RowClient, at(50)}, {RowCapture, at(51)}, {RowServer, at(71)},
			{RowServer, at(80)}, {RowCapture, at(100)}, {RowCapture, at(130)}, {RowClient, at(131)}}},
	}
	marks := testMarks{{"tcp.retransmission", testPoint{RowCapture, at(110)}}}
	return lines, marks
}

func TestLifelineData(t *testing.T) {
	lines, marks := lifelineFixture()
	d, err := readLifelines(Header{Start: t0}, lines, marks)
	require.NoError(t, err)
	assert.Equal(t, []string{"handshake", "transaction"}, d.kinds)
	assert.Equal(t, []string{"tcp.retransmission"}, d.markKinds)
	require.Len(t, d.lines[1], 1)
	assert.Equal(t, plotter.XYs{{X: 0.05, Y: 0}, {X: 0.051, Y: 1}, {X: 0.071, Y: 2}, {X: 0.08, Y: 2},
		{X: 0.1, Y: 1}, {X: 0.13, Y: 1}, {X: 0.131, Y: 0}}, d.lines[1][0])
	assert.Equal(t, plotter.XYs{{X: 0.11, Y: 1}}, d.marks[0])
	assert.Equal(t, 0.0, d.lo)
	assert.Equal(t, 0.131, d.hi)
	assert.Equal(t, 13, d.n)
	assert.Equal(t, 2, d.count())
}

func TestLifelineFigure(t *testing.T) {
	lines, marks := lifelineFixture()
	f, err := Lifeline(Header{Title: "conn 1", Start: t0}, lines, marks, LifelineOptions{})
	require.NoError(t, err)
	assert.Equal(t, 1, f.Rows())
	lo, hi := f.YRange(0, 0)
	assert.Less(t, lo, 0.0, "room below the client row")
	assert.Greater(t, hi, 2.0, "room above the server row")
	var b bytes.Buffer
	require.NoError(t, f.Render(&b, "png"))
	assert.True(t, strings.HasPrefix(b.String(), "\x89PNG"))
	// marks alone make a figure
	_, err = Lifeline(Header{Start: t0}, nil, testMarks{{"a", testPoint{RowCapture, at(1)}}, {"b", testPoint{RowServer, at(2)}}},
		LifelineOptions{Rows: [3]string{"A", "B", "C"}})
	assert.NoError(t, err)
}

func TestLifelineErrors(t *testing.T) {
	h := Header{Start: t0}
	_, err := Lifeline(h, nil, nil, LifelineOptions{})
	assert.ErrorIs(t, err, ErrNoData)
	_, err = Lifeline(h, testLines{{"x", []testPoint{{RowCapture, at(5)}, {RowCapture, at(5)}}}}, nil, LifelineOptions{})
	assert.ErrorIs(t, err, ErrNoData, "all at one instant")
	_, err = Lifeline(h, testLines{{"x", []testPoint{{RowCapture, at(5)}}}}, nil, LifelineOptions{})
	assert.ErrorIs(t, err, ErrBadData, "a line of one point")
	_, err = Lifeline(h, testLines{{"x", []testPoint{{RowCapture, at(5)}, {3, at(6)}}}}, nil, LifelineOptions{})
	assert.ErrorIs(t, err, ErrBadData, "no row 3")
	_, err = Lifeline(h, testLines{{"x", []testPoint{{RowCapture, at(-1)}, {RowServer, at(6)}}}}, nil, LifelineOptions{})
	assert.ErrorIs(t, err, ErrBadData, "before the start")
	_, err = Lifeline(h, nil, testMarks{{"m", testPoint{RowClient, time.Time{}}}}, LifelineOptions{})
	assert.ErrorIs(t, err, ErrBadData, "a mark without a time")
	_, err = Lifeline(Header{}, testLines{{"x", []testPoint{{RowCapture, at(5)}, {RowServer, at(6)}}}}, nil, LifelineOptions{})
	assert.ErrorIs(t, err, ErrBadData, "no start")
}
