package pipeline_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/validate"
)

var update = flag.Bool("update", false, "rewrite golden files")

var (
	validatorOnce sync.Once
	validator     *validate.Validator
	validatorErr  error
	validatorDir  string
	validatorSkip bool
)

func crdValidator(t *testing.T) *validate.Validator {
	t.Helper()
	validatorOnce.Do(func() {
		dir, ok := validate.FindCRDDir(".")
		if !ok {
			validatorSkip, validatorDir = true, dir
			return
		}
		validator, validatorErr = validate.Load(dir)
	})
	if validatorSkip {
		t.Skipf("upstream CRDs not found (looked for %q; set KILN_TEST_CRDS)", validatorDir)
	}
	require.NoError(t, validatorErr)
	return validator
}

// renderSpec compiles and renders a spec directory of testdata/specs with
// the built-in renderers, returning the pipeline renderer's objects (and
// the platform Role they need) as files.
func renderSpec(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	sys, diags := compiler.Compile(context.Background(), dir, compiler.Options{})
	require.False(t, diags.HasErrors(), "%v", diags)
	res, diags := render.Render(context.Background(), sys, render.Options{Renderers: plugins.Builtins()})
	require.False(t, diags.HasErrors(), "%v", diags)
	files, err := render.Files(res)
	require.NoError(t, err)
	out := map[string][]byte{}
	for p, b := range files {
		base := filepath.Base(p)
		for _, prefix := range []string{"workflowtemplate-", "cronworkflow-", "configmap-", "role-", "rolebinding-"} {
			if strings.HasPrefix(base, prefix) {
				out[p] = b
			}
		}
	}
	return out
}

// TestGolden renders the specs in testdata/specs and compares the
// pipeline objects with testdata/golden; -update rewrites them. Every
// object must pass the CRDs, Argo's own validator and the restricted
// Pod Security profile.
func TestGolden(t *testing.T) {
	specs, err := filepath.Glob(filepath.Join("testdata", "specs", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, specs)
	for _, spec := range specs {
		name := filepath.Base(spec)
		t.Run(name, func(t *testing.T) {
			files := renderSpec(t, spec)
			require.NotEmpty(t, files)
			docs := map[string][]byte{}
			for p, b := range files {
				golden := filepath.Join("testdata", "golden", name, filepath.FromSlash(p))
				docs[p] = b
				if *update {
					require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
					require.NoError(t, os.WriteFile(golden, b, 0o644))
					continue
				}
				want, err := os.ReadFile(golden)
				require.NoError(t, err, "missing golden file; run go test ./render/pipeline -update")
				assert.Equal(t, string(want), string(b), p)
				assert.Empty(t, validate.RestrictedViolations(b), p)
				assert.NotContains(t, string(b), "generateName", p)
			}
			v := crdValidator(t)
			for p, problems := range v.ValidateAll(docs) {
				assert.Empty(t, problems, p)
			}
		})
	}
}

// TestDeterministic renders twice and expects the same bytes.
func TestDeterministic(t *testing.T) {
	a := renderSpec(t, filepath.Join("testdata", "specs", "full"))
	b := renderSpec(t, filepath.Join("testdata", "specs", "full"))
	require.Equal(t, len(a), len(b))
	for p := range a {
		assert.True(t, bytes.Equal(a[p], b[p]), p)
	}
}
