package linkq_test

import (
	"fmt"

	"github.com/netecology/netecology/flow/linkq"
)

// Test whether loss depends on packet size: 180 echoes in three size
// bins, half of the largest lost. The best split is at 1000 bytes;
// Fisher's P(X ≥ 30) for 30 of the 31 losses among the 60 echoes above it
// is (C(31,30)·C(149,30) + C(149,29))/C(180,60) = 2.2e-16, times 2 splits.
func ExampleSizeDependence() {
	bins := []linkq.LossBin{
		{Lo: 0, Hi: 500, Sent: 60, Lost: 0},
		{Lo: 500, Hi: 1000, Sent: 60, Lost: 1},
		{Lo: 1000, Hi: 1500, Sent: 60, Lost: 30},
	}
	st := linkq.SizeDependence(bins, linkq.LossConfig{})
	fmt.Printf("%s: from %d bytes up %.0f%% lost, below %.1f%%; step %.2f, p = %.1g over %d splits\n",
		st.Level, st.Split, 100*st.LossAbove, 100*st.LossBelow, st.Step, st.PValue, st.Splits)
	// Output:
	// fail: from 1000 bytes up 50% lost, below 0.8%; step 0.49, p = 4e-16 over 2 splits
}
