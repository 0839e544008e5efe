package graph_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/graph"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden draws every example in each format and compares the result
// with testdata/<example>.<ext>. The SVG of skin-lesion is the README's
// picture.
func TestGolden(t *testing.T) {
	for _, ex := range []string{"skin-lesion", "fraud-detect"} {
		sys, diags := compiler.Compile(context.Background(), filepath.Join("..", "examples", ex), compiler.Options{})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", ex, diags)
		}
		for format, ext := range map[string]string{"mermaid": "mmd", "dot": "dot", "svg": "svg"} {
			t.Run(ex+"."+ext, func(t *testing.T) {
				var b bytes.Buffer
				if err := graph.Build(sys).Write(&b, format); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", ex+"."+ext)
				if *update {
					if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b.Bytes(), want) {
					t.Errorf("%s differs from a fresh drawing; run go test ./graph -update and review the diff", golden)
				}
			})
		}
	}
}
