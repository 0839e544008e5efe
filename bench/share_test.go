package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
)

// TestEnvironmentsRenderAsAlone renders a synthetic system's environments
// together, where objects equal to an earlier environment's are encoded
// once and their files share its bytes, and each alone (-e), where
// nothing is shared: every file must be the same. Some files must have
// been shared (the same bytes in memory), and some not (the overrides).
func TestEnvironmentsRenderAsAlone(t *testing.T) {
	dir := t.TempDir()
	if err := WriteSystem(dir, 12, 4); err != nil {
		t.Fatal(err)
	}
	all := renderFiles(t, dir)
	envs := []string{"dev", "env3", "prod", "staging"}
	first := map[string]*byte{} // a file's name in its environment -> its first bytes' address
	shared, own := 0, 0
	for _, env := range envs {
		ctx := context.Background()
		sys, diags := compiler.Compile(ctx, dir, compiler.Options{Environments: []string{env}})
		if diags.HasErrors() {
			t.Fatalf("compile -e %s: %v", env, diags.Err())
		}
		res, diags := render.Render(ctx, sys, render.Options{Renderers: plugins.Builtins(), Partial: true})
		if diags.HasErrors() {
			t.Fatalf("render -e %s: %v", env, diags.Err())
		}
		alone, err := render.Files(res)
		if err != nil {
			t.Fatal(err)
		}
		for p, b := range alone {
			if !bytes.Equal(all[p], b) {
				t.Errorf("%s: rendered with the other environments it is\n%s\nalone\n%s", p, all[p], b)
			}
			name := strings.TrimPrefix(p, env+"/")
			if strings.HasSuffix(p, render.KustomizationFile) {
				continue
			}
			if a, ok := first[name]; ok && a == &all[p][0] {
				shared++
			} else if ok {
				own++
			} else {
				first[name] = &all[p][0]
			}
		}
	}
	for p := range all {
		if !strings.HasPrefix(p, "argocd/") && !slicesHasPrefix(p, envs) {
			t.Errorf("%s: in no environment", p)
		}
	}
	if shared == 0 || own == 0 {
		t.Errorf("%d files of later environments share an earlier one's bytes, %d have their own: want some of each", shared, own)
	}
	t.Logf("%d files shared, %d own", shared, own)
}

func slicesHasPrefix(p string, envs []string) bool {
	for _, e := range envs {
		if strings.HasPrefix(p, e+"/") {
			return true
		}
	}
	return false
}
