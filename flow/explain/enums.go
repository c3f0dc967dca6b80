package explain

import (
	"fmt"
	"slices"
)

func unmarshalName(names []string, text []byte, kind string) (uint8, error) {
	i := slices.Index(names, string(text))
	if i < 0 {
		return 0, fmt.Errorf("explain: unknown %s %q", kind, text)
	}
	return uint8(i), nil
}

// UnmarshalText reads a Cause by name.
func (c *Cause) UnmarshalText(b []byte) error {
	v, err := unmarshalName(causeNames[:], b, "cause")
	*c = Cause(v)
	return err
}

// UnmarshalText reads a Limit by name.
func (l *Limit) UnmarshalText(b []byte) error {
	v, err := unmarshalName(limitNames[:], b, "limit")
	*l = Limit(v)
	return err
}

// UnmarshalText reads an AckVerdict by name.
func (v *AckVerdict) UnmarshalText(b []byte) error {
	x, err := unmarshalName(ackVerdictNames[:], b, "ACK verdict")
	*v = AckVerdict(x)
	return err
}

// UnmarshalText reads an AckCarrier by name.
func (c *AckCarrier) UnmarshalText(b []byte) error {
	v, err := unmarshalName(carrierNames[:], b, "ACK carrier")
	*c = AckCarrier(v)
	return err
}

// UnmarshalText reads a RateSource by name.
func (r *RateSource) UnmarshalText(b []byte) error {
	v, err := unmarshalName(rateSourceNames[:], b, "rate source")
	*r = RateSource(v)
	return err
}
