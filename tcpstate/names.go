package tcpstate

import (
	"fmt"
	"slices"
)

// unmarshalName finds text among names, the inverse of the types' String.
func unmarshalName(names []string, text []byte, kind string) (uint8, error) {
	i := slices.Index(names, string(text))
	if i < 0 {
		return 0, fmt.Errorf("tcpstate: unknown %s %q", kind, text)
	}
	return uint8(i), nil
}

// UnmarshalText reads a Vantage by name.
func (v *Vantage) UnmarshalText(b []byte) error {
	x, err := unmarshalName(vantageNames[:], b, "vantage")
	*v = Vantage(x)
	return err
}

// UnmarshalText reads a State by name.
func (s *State) UnmarshalText(b []byte) error {
	x, err := unmarshalName(stateNames[:], b, "state")
	*s = State(x)
	return err
}

// UnmarshalText reads an Ending by name.
func (e *Ending) UnmarshalText(b []byte) error {
	x, err := unmarshalName(endingNames[:], b, "ending")
	*e = Ending(x)
	return err
}

// UnmarshalText reads a LegSource by name.
func (s *LegSource) UnmarshalText(b []byte) error {
	x, err := unmarshalName(legSourceNames[:], b, "leg source")
	*s = LegSource(x)
	return err
}

// UnmarshalText reads an MSSSource by name.
func (s *MSSSource) UnmarshalText(b []byte) error {
	x, err := unmarshalName(mssSourceNames[:], b, "MSS source")
	*s = MSSSource(x)
	return err
}

// UnmarshalText reads an Issue by name.
func (i *Issue) UnmarshalText(b []byte) error {
	x, err := unmarshalName(issueNames[:], b, "issue")
	*i = Issue(x)
	return err
}
