// Package golden compares test output with files under testdata/, and rewrites them when the
// test runs with -update.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/ with the current output")

// Assert compares got with testdata/<name>.golden.
func Assert(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run the test with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got); rerun with -update if the change is intended:\n%s", path, diff)
	}
}

// AssertSection compares got with the part of the file at path between the lines begin and end
// (marker comments such as "<!-- phases:begin -->"), and with -update rewrites that part. The
// markers themselves stay.
func AssertSection(t testing.TB, path, begin, end string, got []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok := bytes.Cut(data, []byte(begin+"\n"))
	section, after, ok2 := bytes.Cut(rest, []byte(end+"\n"))
	if !ok || !ok2 {
		t.Fatalf("%s lacks the lines %q and %q around the generated section", path, begin, end)
	}
	if *update {
		out := slices.Concat(before, []byte(begin+"\n"), got, []byte(end+"\n"), after)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(string(section), string(got)); diff != "" {
		t.Errorf("the section of %s between %s and %s differs (-want +got); rerun with -update if the change is intended:\n%s", path, begin, end, diff)
	}
}
