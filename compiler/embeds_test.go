package compiler

import (
	"testing"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"
)

func TestEmbedsSystem(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{"package p\nimport \"github.com/kiln-ml/kiln/schema\"\nschema.#System & {name: \"x\"}\n", true},
		{"package p\nimport \"github.com/kiln-ml/kiln/schema\"\n{name: \"x\"} & (schema.#System)\n", true},
		{"package p\nimport k \"github.com/kiln-ml/kiln/schema\"\nk.#System\nname: \"x\"\n", true},
		// Not embedded, or not #System, or not the schema's: unify.
		{"package p\nimport \"github.com/kiln-ml/kiln/schema\"\nx: schema.#System & {name: \"x\"}\n", false},
		{"package p\nimport \"github.com/kiln-ml/kiln/schema\"\nschema.#Training & {name: \"x\"}\n", false},
		{"package p\nimport \"github.com/kiln-ml/kiln/schema\"\nschema.#System | {name: \"x\"}\n", false},
		{"package p\nimport schema \"example.com/other/schema\"\nschema.#System & {name: \"x\"}\n", false},
		{"package p\nname: \"x\"\n", false},
	} {
		f, err := parser.ParseFile("spec.cue", tc.src)
		if err != nil {
			t.Fatal(err)
		}
		if got := embedsSystem([]*ast.File{f}); got != tc.want {
			t.Errorf("embedsSystem(%q) = %v, want %v", tc.src, got, tc.want)
		}
	}
}
