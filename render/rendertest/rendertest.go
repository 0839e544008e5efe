// Package rendertest holds what every renderer's golden tests share:
// encoding rendered objects as one YAML stream, and comparing it with a
// golden file that `go test -update` rewrites.
package rendertest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/render"
)

// Stream encodes items in order as one YAML stream, as `kiln render
// --stdout` would (without the file headers).
func Stream(tb testing.TB, items []render.Item) []byte {
	tb.Helper()
	var out bytes.Buffer
	for i, it := range items {
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
