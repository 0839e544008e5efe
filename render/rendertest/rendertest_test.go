package rendertest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	for p, c := range files {
		dst := filepath.Join(dir, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		require.NoError(t, os.WriteFile(dst, []byte(c), 0o644))
	}
}

func TestGoldenDir(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.yaml": "a\n", "sub/b.yaml": "b\n", "sub/stale.yaml": "old\n"})
	got := map[string][]byte{"a.yaml": []byte("a\n"), "sub/b.yaml": []byte("B\n"), "new.yaml": []byte("n\n")}

	r := &recorder{TB: t}
	GoldenDir(r, dir, got, false)
	if assert.Len(t, r.errs, 3, "%q", r.errs) {
		assert.Contains(t, r.errs[0], "new.yaml: no golden file")
		assert.Contains(t, r.errs[1], "output differs from "+dir+"/sub/b.yaml")
		assert.Contains(t, r.errs[2], "sub/stale.yaml: stale golden file")
	}

	r = &recorder{TB: t}
	GoldenDir(r, dir, got, true)
	assert.Empty(t, r.errs)
	assert.NoFileExists(t, filepath.Join(dir, "sub", "stale.yaml"), "-update deletes stale goldens")
	r = &recorder{TB: t}
	GoldenDir(r, dir, got, false)
	assert.Empty(t, r.errs, "after -update the directory matches")
}

func TestOnlyGoldens(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.yaml": "a\n", "gone.yaml": "g\n", "case/x.yaml": "x\n", "cases/y.yaml": "y\n"})
	r := &recorder{TB: t}
	OnlyGoldens(r, dir, []string{"a.yaml", "b.yaml", "case"}, false)
	if assert.Len(t, r.errs, 2, "%q", r.errs) {
		assert.Contains(t, r.errs[0], "cases/y.yaml: stale golden file")
		assert.Contains(t, r.errs[1], "gone.yaml: stale golden file")
	}
	r = &recorder{TB: t}
	OnlyGoldens(r, dir, []string{"a.yaml", "case"}, true)
	assert.Empty(t, r.errs)
	assert.NoFileExists(t, filepath.Join(dir, "gone.yaml"))
	assert.NoFileExists(t, filepath.Join(dir, "cases", "y.yaml"))
	assert.FileExists(t, filepath.Join(dir, "a.yaml"))
	assert.FileExists(t, filepath.Join(dir, "case", "x.yaml"))
}

// TestSubstitute evaluates both kinds of Argo tag through Argo's code,
// in YAML text where the expression's double quotes sit in a
// single-quoted scalar, as kiln renders a job's name.
func TestSubstitute(t *testing.T) {
	in := "name: '{{=replace(workflow.name, \".\", \"-\")}}-{{inputs.parameters.trial}}'\nrun: {{workflow.name}}\nother: {{workflow.uid}}\n"
	got := Substitute(t, in, map[string]string{"workflow.name": "retrain.v2", "inputs.parameters.trial": "t07"})
	assert.Equal(t, "name: 'retrain-v2-t07'\nrun: retrain.v2\nother: {{workflow.uid}}\n", got)
}
