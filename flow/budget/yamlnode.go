package budget

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// ErrSpec is matched (errors.Is) by every *SpecError: a budget or baseline
// file that cannot be used.
var ErrSpec = errors.New("budget: bad spec")

// SpecError is a mistake in a budget or baseline file: where it is (line
// and column, 1-based; 0 when the file could not be read at all) and the
// path of the field, such as checks[2].check.
type SpecError struct {
	File   string
	Line   int
	Column int
	Path   string
	Msg    string
}

func (e *SpecError) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
		if e.Column > 0 {
			s += ":" + strconv.Itoa(e.Column)
		}
	}
	if e.Path != "" {
		s += ": " + e.Path
	}
	return s + ": " + e.Msg
}

// Is makes errors.Is(err, ErrSpec) true for a *SpecError.
func (e *SpecError) Is(target error) bool { return target == ErrSpec }

// MaxFileSize bounds a budget or baseline file.
const MaxFileSize = 4 << 20

// readSpecFile reads a budget or baseline file, bounded by MaxFileSize.
func readSpecFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, &SpecError{File: name, Msg: fmt.Sprintf("larger than the %d bytes a budget file may have", MaxFileSize)}
	}
	return data, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML reads a YAML (or JSON) document into its node tree.
func parseYAML(file string, data []byte) (*yaml.Node, error) {
	if len(data) > MaxFileSize {
		return nil, &SpecError{File: file, Msg: fmt.Sprintf("%d bytes: larger than the %d bytes a budget file may have", len(data), MaxFileSize)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		e := &SpecError{File: file, Msg: err.Error()}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = m[2]
			if l := problemLine(data); l > 0 {
				e.Line = l
			}
			if e.Msg == "did not find expected comment or line break" || e.Msg == "did not find expected key" {
				e.Msg += " (a value starting with > or another YAML indicator needs quotes)"
			}
		}
		return nil, e
	}
	if len(doc.Content) == 0 {
		return nil, &SpecError{File: file, Msg: "empty file"}
	}
	return doc.Content[0], nil
}

// problemLine finds the line where a block-style YAML document stops
// parsing: the first line whose prefix fails. The YAML library names the
// line where the enclosing block began, which can be far above. Flow-style
// documents (JSON) are left to the library: their prefixes never parse.
func problemLine(data []byte) int {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] == '{' || trimmed[0] == '[' || bytes.Count(data, []byte("\n")) > 2000 {
		return 0
	}
	end := 0
	for line := 1; end < len(data); line++ {
		next := bytes.IndexByte(data[end:], '\n')
		if next < 0 {
			end = len(data)
		} else {
			end += next + 1
		}
		var n yaml.Node
		if yaml.Unmarshal(data[:end], &n) != nil {
			return line
		}
	}
	return 0
}

// nodes decodes YAML nodes with positions for messages.
type nodes struct{ file string }

func (d nodes) errf(n *yaml.Node, path, format string, a ...any) error {
	e := &SpecError{File: d.file, Path: path, Msg: fmt.Sprintf(format, a...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// resolve follows an alias.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// field is one key/value pair of a mapping.
type field struct {
	key  string
	k, v *yaml.Node
}

// mapping returns the pairs of mapping n, rejecting keys outside allowed
// and duplicate keys.
func (d nodes) mapping(n *yaml.Node, path string, allowed ...string) ([]field, error) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, d.errf(n, path, "want a mapping (key: value)")
	}
	var out []field
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k == nil || k.Kind != yaml.ScalarNode {
			return nil, d.errf(n.Content[i], path, "want a plain key")
		}
		if seen[k.Value] {
			return nil, d.errf(k, join(path, k.Value), "given twice")
		}
		seen[k.Value] = true
		ok := false
		for _, a := range allowed {
			ok = ok || a == k.Value
		}
		if !ok {
			return nil, d.errf(k, join(path, k.Value), "unknown field (want one of %v)", allowed)
		}
		out = append(out, field{k.Value, k, v})
	}
	return out, nil
}

// scalar returns the text of scalar n.
func (d nodes) scalar(n *yaml.Node, path string) (string, error) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return "", d.errf(n, path, "want a single value")
	}
	return n.Value, nil
}

// scalars returns the text of a scalar or of each scalar of a sequence.
func (d nodes) scalars(n *yaml.Node, path string) ([]string, error) {
	n = resolve(n)
	if n != nil && n.Kind == yaml.SequenceNode {
		if len(n.Content) == 0 {
			return nil, d.errf(n, path, "empty list")
		}
		out := make([]string, 0, len(n.Content))
		for i, c := range n.Content {
			s, err := d.scalar(c, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := d.scalar(n, path)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

// number returns the value of a numeric scalar.
func (d nodes) number(n *yaml.Node, path string) (float64, error) {
	s, err := d.scalar(n, path)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, d.errf(n, path, "want a number, not %q", s)
	}
	return v, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
