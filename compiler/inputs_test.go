package compiler

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, src := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Inputs lists the spec's package (its directory and the ones above it up
// to the module root), cue.mod whole, and the module's packages the spec
// imports, transitively, with their own parents; not the other specs of
// the repository, packages nobody imports, hidden files or other files.
func TestInputs(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"cue.mod/module.cue":                "module: \"example.com/ml@v0\"\nlanguage: version: \"v0.17.0\"\n",
		"cue.mod/pkg/other.example/x/x.cue": "package x\n",
		"top.cue":                           "package ml\n",
		"README.md":                         "not CUE",
		"systems/a/a.cue":                   "package a\n\nimport (\n\t\"strings\"\n\t\"example.com/ml/lib@v0:lib\"\n\t\"other.example/x\"\n)\n",
		"systems/a/.#a.cue":                 "package a\n",
		"systems/a/_scratch.cue":            "package a\n",
		"systems/a/notes.txt":               "not CUE",
		"systems/b/b.cue":                   "package b\n",
		"lib/lib.cue":                       "package lib\n\nimport \"example.com/ml/lib/deep\"\n",
		"lib/deep/deep.cue":                 "package deep\n",
		"unused/u.cue":                      "package unused\n",
	})
	got, err := Inputs(filepath.Join(root, "systems", "a"))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range got {
		got[i], _ = filepath.Rel(root, p)
		got[i] = filepath.ToSlash(got[i])
	}
	want := []string{
		"cue.mod/module.cue",
		"cue.mod/pkg/other.example/x/x.cue",
		"lib/deep/deep.cue",
		"lib/lib.cue",
		"systems/a/a.cue",
		"top.cue",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Inputs (-want +got):\n%s", diff)
	}
}

// A spec outside any module reads its own directory only, and imports of
// the module kiln gives it resolve inside it.
func TestInputsNoModule(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"spec/s.cue":     "package s\n\nimport \"kiln.local/spec/sub\"\n",
		"spec/sub/x.cue": "package sub\n",
		"above.cue":      "package s\n",
	})
	got, err := Inputs(filepath.Join(root, "spec"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(root, "spec", "s.cue"), filepath.Join(root, "spec", "sub", "x.cue")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Inputs (-want +got):\n%s", diff)
	}
}

// A file that embeds others, or that does not parse, makes the inputs
// unknown rather than incomplete.
func TestInputsUnknown(t *testing.T) {
	for name, src := range map[string]string{
		"embed":  "@extern(embed)\npackage a\n\nx: _ @embed(file=data.json)\n",
		"syntax": "package a\n\nimport \"unterminated\n",
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, map[string]string{"a.cue": src})
			if _, err := Inputs(root); !errors.Is(err, ErrUnknownInputs) {
				t.Errorf("Inputs: %v, want ErrUnknownInputs", err)
			}
		})
	}
}
