// Package rendertest holds what every renderer's golden tests share:
// encoding rendered objects as one YAML stream, and comparing it with a
// golden file that `go test -update` rewrites. Goldens are held as whole
// directories: a golden file that no test writes any more (its object is
// no longer rendered, its case was removed) fails the test, and -update
// deletes it.
package rendertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/jsonmap"
)

// Stream encodes items in order as one YAML stream, as `kiln render
// --stdout` would (without the file headers).
func Stream(tb testing.TB, items []render.Item) []byte {
	tb.Helper()
	var out bytes.Buffer
	for i, it := range items {
		SameMap(tb, it.Object)
		b, err := render.Marshal(it.Object)
		if err != nil {
			tb.Fatalf("marshal %s: %v", it.Key(), err)
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(b)
	}
	return out.Bytes()
}

// SameMap checks that jsonmap builds the same map of obj as JSON text
// does (json.Marshal, then decoding with UseNumber), for obj and, when it
// wraps another object (argo.Object), for that one: every object a golden
// test renders holds jsonmap to its oracle.
func SameMap(tb testing.TB, obj any) {
	tb.Helper()
	for obj != nil {
		b, err := json.Marshal(obj)
		if err != nil {
			tb.Fatalf("%T: %v", obj, err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			tb.Fatalf("%T: %v", obj, err)
		}
		got, err := jsonmap.Of(obj)
		if err != nil {
			tb.Fatalf("jsonmap of %T: %v", obj, err)
		}
		if !reflect.DeepEqual(got, want) {
			tb.Fatalf("jsonmap of %T differs from its JSON:\n got %#v\nwant %#v", obj, got, want)
		}
		w, ok := obj.(interface{ Unwrap() render.Object })
		if !ok {
			return
		}
		obj = w.Unwrap()
	}
}

// Golden compares got with the golden file, after writing got to it when
// update is set (the package's -update flag).
func Golden(tb testing.TB, file string, got []byte, update bool) {
	tb.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		tb.Fatalf("%v (run the test with -update to create it)", err)
	}
	if string(want) != string(got) {
		tb.Errorf("output differs from %s; rerun with -update if the change is intended:\n%s", file, lineDiff(string(want), string(got)))
	}
}

// GoldenDir compares got, file contents by slash-separated path relative
// to dir, with every file below dir: a differing file, a missing one and a
// stale one (below dir but not in got) each fail the test. With update, dir
// is first rewritten to hold exactly got.
func GoldenDir(tb testing.TB, dir string, got map[string][]byte, update bool) {
	tb.Helper()
	if update {
		if err := os.RemoveAll(dir); err != nil {
			tb.Fatal(err)
		}
		for p, b := range got {
			dst := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				tb.Fatal(err)
			}
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	}
	want := readDir(tb, dir)
	for _, p := range slices.Sorted(maps.Keys(got)) {
		w, ok := want[p]
		switch {
		case !ok:
			tb.Errorf("%s/%s: no golden file (run the test with -update to create it)", dir, p)
		case string(w) != string(got[p]):
			tb.Errorf("output differs from %s/%s; rerun with -update if the change is intended:\n%s", dir, p, lineDiff(string(w), string(got[p])))
		}
	}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		if _, ok := got[p]; !ok {
			tb.Errorf("%s/%s: stale golden file, its object is no longer rendered (-update deletes it)", dir, p)
		}
	}
}

// OnlyGoldens checks that dir holds no file but names (slash-separated
// paths relative to dir, each a golden file or a directory of them), for
// tests that compare one golden file or directory per case: a golden file
// no case writes fails the test, and update deletes it.
func OnlyGoldens(tb testing.TB, dir string, names []string, update bool) {
	tb.Helper()
	for _, p := range slices.Sorted(maps.Keys(readDir(tb, dir))) {
		if slices.ContainsFunc(names, func(n string) bool { return p == n || strings.HasPrefix(p, n+"/") }) {
			continue
		}
		if update {
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
				tb.Fatal(err)
			}
			continue
		}
		tb.Errorf("%s/%s: stale golden file, no test case writes it (-update deletes it)", dir, p)
	}
}

// readDir reads every file below dir, by slash-separated relative path; a
// missing dir holds nothing.
func readDir(tb testing.TB, dir string) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		tb.Fatal(err)
	}
	return out
}

// lineDiff shows the first lines where want and got differ, enough to see
// what changed.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out strings.Builder
	for i, shown := 0, 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&out, "line %d:\n  - %s\n  + %s\n", i+1, wl, gl)
			shown++
		}
	}
	return out.String()
}
