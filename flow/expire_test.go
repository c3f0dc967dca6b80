package flow

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestOlderThan holds olderThan to time.Sub's verdict (now.Sub(t) > d) at
// the edges of whole seconds, for the durations the Analyzer uses and
// for timestamps far apart (years 1 and 9999: Sub saturates).
func TestOlderThan(t *testing.T) {
	base := time.Date(2026, 12, 1, 23, 19, 33, 491733000, time.UTC)
	var ts []time.Time
	for _, sec := range []int64{-3, -2, -1, 0, 1, 2, 59, 60, 61, 62, 299, 300, 301, 7200} {
		for _, ns := range []int64{0, 1, 508266999, 508267000, 508267001, 999999999} {
			ts = append(ts, base.Add(time.Duration(sec)*time.Second+time.Duration(ns)))
		}
	}
	ts = append(ts, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC))
	ds := []time.Duration{0, time.Nanosecond, 500 * time.Millisecond, time.Second, time.Minute, time.Minute + 1, 5 * time.Minute, 2 * time.Hour, -time.Second}
	for _, now := range ts {
		for _, then := range ts {
			for _, d := range ds {
				if got, want := olderThan(now, then, d), now.Sub(then) > d; got != want {
					assert.Equal(t, want, got, "now %v, t %v, d %v", now, then, d)
				}
			}
		}
	}
}
