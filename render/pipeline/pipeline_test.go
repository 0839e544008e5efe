package pipeline_test

import (
	"bytes"
	"context"
	"flag"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/pipeline"
	"github.com/kiln-ml/kiln/render/rendertest"
	"github.com/kiln-ml/kiln/validate"
	"github.com/kiln-ml/kiln/validate/validatetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// crdValidator is the validator with the upstream CRDs, loaded once.
func crdValidator(t *testing.T) *validate.Validator { return validatetest.CRDs(t) }

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
	var names []string
	for _, spec := range specs {
		name := filepath.Base(spec)
		names = append(names, name)
		t.Run(name, func(t *testing.T) {
			files := renderSpec(t, spec)
			require.NotEmpty(t, files)
			rendertest.GoldenDir(t, filepath.Join("testdata", "golden", name), files, *update)
			docs := map[string][]byte{}
			for p, b := range files {
				docs[p] = b
				if name == "build" && strings.Contains(p, "workflowtemplate-") {
					// The build step runs as root, under baseline,
					// which the spec asks for; every other step stays
					// restricted.
					problems := validate.RestrictedViolations(b)
					assert.NotEmpty(t, problems, p)
					for _, v := range problems {
						assert.True(t, strings.HasPrefix(v, "spec.templates[1].container (main): "), "%s: %s", p, v)
					}
					assert.Empty(t, validate.PodViolations(b, "baseline", validate.Cluster{}), p)
					continue
				}
				assert.Empty(t, validate.RestrictedViolations(b), p)
				assert.NotContains(t, string(b), "generateName", p)
			}
			v := crdValidator(t)
			for p, problems := range v.ValidateAll(docs) {
				assert.Empty(t, problems, p)
			}
			// The jobs that resource templates create are valid too,
			// once Argo has substituted the parameters.
			n := 0
			for p, b := range docs {
				for i, m := range manifests(t, b) {
					n++
					assert.Empty(t, v.Validate(m), "%s: manifest %d", p, i)
					assert.Empty(t, validate.RestrictedViolations(m), "%s: manifest %d", p, i)
				}
			}
			if name == "full" {
				assert.Equal(t, 1, n, "the full spec has one training step")
			}
		})
	}
	rendertest.OnlyGoldens(t, filepath.Join("testdata", "golden"), names, *update)
}

// placeholderRE matches Argo template expressions.
var placeholderRE = regexp.MustCompile(`\{\{[^}]*\}\}`)

// manifests returns the resource templates' manifests of a
// WorkflowTemplate document as a run named with a dot would create
// them: the run's name put in by Argo's own substitution, every other
// {{...}} replaced by a value of the kind Argo would substitute.
func manifests(t *testing.T, doc []byte) [][]byte {
	var wt wfv1.WorkflowTemplate
	require.NoError(t, yaml.Unmarshal(doc, &wt))
	if wt.Kind != "WorkflowTemplate" {
		return nil
	}
	var out [][]byte
	for _, tmpl := range wt.Spec.Templates {
		if tmpl.Resource == nil || tmpl.Resource.Action == "delete" {
			continue
		}
		m := rendertest.Substitute(t, tmpl.Resource.Manifest, map[string]string{"workflow.name": "run.x7k2p"})
		m = placeholderRE.ReplaceAllString(m, "5")
		out = append(out, []byte(m))
	}
	return out
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

// TestBrokenReferencesDoNotPanic renders IR the compiler would have
// rejected: the renderer must not fall over on it.
func TestBrokenReferencesDoNotPanic(t *testing.T) {
	env := &ir.Environment{Name: "dev", Namespace: "demo", Sources: ir.Sources{}, Spec: &ir.Spec{
		Training: map[string]*ir.Training{"odd": {Framework: "jax", Image: "t:1", Workers: 1}},
		Pipelines: map[string]*ir.Pipeline{"p": {PodGC: "OnPodSuccess", Steps: map[string]*ir.Step{
			"a": {Training: "missing"},
			"b": {Training: "odd"},
			"c": {Component: "nope", After: []string{"zzz", "c"}, Inputs: &ir.StepInputs{Artifacts: []string{"x"}}},
			"d": {Promote: &ir.Promote{Serving: "web"}, When: "c.out > 1"},
		}}},
	}}
	sys := &ir.System{Name: "demo", Namespace: "demo", Environments: []*ir.Environment{env}}
	_, diags := render.Render(context.Background(), sys, render.Options{Renderers: []render.Renderer{pipeline.Renderer{}}})
	assert.True(t, diags.HasErrors())
}
