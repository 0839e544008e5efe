package cli_test

import (
	"maps"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/kustomize"
)

// TestExampleKustomizeBuild runs `kustomize build` (in process) on every
// directory with a kustomization.yaml that the example renders: each
// environment and the Argo CD directory. Every object file must be listed
// and come out of the build.
func TestExampleKustomizeBuild(t *testing.T) {
	got := renderExample(t, "skin-lesion")
	files := map[string][]byte{}
	for p, s := range got {
		files[p] = []byte(s)
	}
	var dirs []string
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if path.Base(p) == render.KustomizationFile {
			dirs = append(dirs, path.Dir(p))
		}
	}
	if !slices.Contains(dirs, "argocd/skin-lesion") || !slices.Contains(dirs, "dev/skin-lesion") || !slices.Contains(dirs, "prod/skin-lesion") {
		t.Fatalf("kustomization directories: %v", dirs)
	}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			m, err := kustomize.Build(files, dir)
			if err != nil {
				t.Fatalf("kustomize build %s: %v", dir, err)
			}
			objects := 0
			for p := range files {
				if path.Dir(p) == dir && path.Base(p) != render.KustomizationFile && strings.HasSuffix(p, ".yaml") &&
					!strings.HasSuffix(p, "argocd-cm-health.yaml") {
					objects++
				}
			}
			if m.Size() != objects {
				t.Errorf("kustomize build %s: %d objects, want the %d object files", dir, m.Size(), objects)
			}
		})
	}
}
