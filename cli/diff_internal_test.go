package cli

import (
	"testing"

	"github.com/kiln-ml/kiln/diff"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/term"
)

func TestPaintUnified(t *testing.T) {
	in := "--- a/x.yaml\n+++ b/x.yaml\n@@ -1,2 +1,2 @@\n kind: Pod\n-a: 1\n+a: 2\n"
	if got := paintUnified(term.Painter{}, in); got != in {
		t.Errorf("colour off changed the diff:\n%q", got)
	}
	want := "\x1b[1m--- a/x.yaml\x1b[0m\n\x1b[1m+++ b/x.yaml\x1b[0m\n\x1b[36m@@ -1,2 +1,2 @@\x1b[0m\n kind: Pod\n\x1b[31m-a: 1\x1b[0m\n\x1b[32m+a: 2\x1b[0m\n"
	if got := paintUnified(term.Always(), in); got != want {
		t.Errorf("paintUnified =\n%q\nwant\n%q", got, want)
	}
}

// diff groups changes by the annotation the renderers write; it keeps its
// own copy of the name so that it need not import render.
func TestEntryAnnotation(t *testing.T) {
	if diff.EntryAnnotation != render.AnnotationPath {
		t.Errorf("diff reads %s, the renderers write %s", diff.EntryAnnotation, render.AnnotationPath)
	}
}
