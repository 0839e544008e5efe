package publish

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/kiln-ml/kiln/diff"
	"github.com/kiln-ml/kiln/render/write"
)

// Tree is rendered output to publish: the files, written under Path of
// the clone the way `kiln render --out` writes them (files kiln did not
// generate are left alone, stale generated ones in Scope deleted), and
// what the write changed, for the pull request's comment and the
// command's summary.
type Tree struct {
	// Path is the directory in the repository, slash-separated and
	// relative to its root.
	Path string
	// Files are the output's files by slash-separated path.
	Files map[string][]byte
	// Scope says which previously generated files this output owns
	// (all, without -e); nil owns all.
	Scope func(path string) bool

	report *diff.Report
}

// Change writes the tree into the clone at dir; it is a [Change].
func (t *Tree) Change(_ context.Context, dir string) error {
	out := filepath.Join(dir, filepath.FromSlash(t.Path))
	old, err := diff.ReadTree(out, t.Scope)
	if err != nil {
		return err
	}
	t.report = diff.Compare(old, t.Files)
	_, err = write.Tree(out, t.Files, write.Options{Scope: t.Scope})
	return err
}

// Report is what the last Change did to the tree in the repository; nil
// before one ran.
func (t *Tree) Report() *diff.Report { return t.report }

// RenderMessage is the commit message of a publish of system's output:
// the subject (kiln's own when subject is empty) and a body that records
// the spec's revision in a trailer. A pull request takes them as its title
// and description.
func RenderMessage(system, revision, subject string) (string, string) {
	if subject == "" {
		subject = "kiln: render " + system
	}
	return subject, fmt.Sprintf("Rendered by kiln from the spec of system %s at revision %s.\n\nKiln-Spec-Revision: %s", system, revision, revision)
}
