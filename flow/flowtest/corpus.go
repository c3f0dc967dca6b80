// Package flowtest holds helpers for tests of netecology and of programs
// that use it, in the manner of net/http/httptest: locating the shared
// capture corpus and building captures from scripted segments.
package flowtest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot returns the root directory of the netecology module.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// CorpusDir returns the directory ../shared/corpus/<sub> next to the
// module. When it is missing the test is skipped with a message, except
// under CI=true, where a missing corpus is a failure.
func CorpusDir(t testing.TB, sub string) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(), "..", "shared", "corpus", sub)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus folder %s is missing (CI=true requires it)", dir)
		}
		t.Skipf("corpus folder %s is missing; skipping (set up ../shared/corpus to run)", dir)
	}
	return dir
}

// Captures returns the capture files (.pcap, .pcapng, .cap, and those
// ending .gz) under dir, recursively, sorted.
func Captures(t testing.TB, dir string) []string {
	t.Helper()
	out, err := CaptureFiles(dir)
	if err != nil {
		t.Fatalf("list captures in %s: %v", dir, err)
	}
	return out
}

// CaptureFiles is Captures for programs: the capture files under dir,
// recursively, sorted, or the error that stopped the walk.
func CaptureFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		switch filepath.Ext(p) {
		case ".pcap", ".pcapng", ".cap", ".gz":
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// LabCaptures returns the committed lab captures (testdata/lab and its
// sub-folders), the sources of the mutation campaign.
func LabCaptures() ([]string, error) {
	return CaptureFiles(filepath.Join(RepoRoot(), "testdata", "lab"))
}
