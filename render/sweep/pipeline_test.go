package sweep_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/rendertest"
	"github.com/kiln-ml/kiln/render/sweep"
	"github.com/kiln-ml/kiln/validate"
	"github.com/kiln-ml/kiln/validate/validatetest"
)

// A sweep over a pipeline: each trial is a run of the pipeline's
// WorkflowTemplate. The spec is compiled and rendered with every built-in
// renderer, so the child Workflow's templateRef resolves against the
// pipeline's real WorkflowTemplate when validated.
const pipelineSpec = `package t

name:      "vision"
namespace: "vision"
images: tools: "ghcr.io/acme/tools:1.0"
pipelines: train: {
	parameters: {
		lr: default:    "0.01"
		batch: default: "64"
	}
	steps: {
		fit: {
			image: images.tools
			command: ["fit", "--lr", "{{workflow.parameters.lr}}", "--batch", "{{workflow.parameters.batch}}"]
		}
		evaluate: {
			after: ["fit"]
			image: images.tools
			command: ["evaluate"]
			outputs: parameters: ["val_accuracy", "val_loss"]
		}
	}
}
sweeps: tune: {
	pipeline: "train"
	objective: {metric: "val_accuracy", goal: "maximize", additionalMetrics: ["val_loss"]}
	algorithm: "random"
	parameters: {
		lr: {min: 1e-4, max: 1e-1, scale: "log"}
		batch: values: [32, 64, 128]
	}
	maxTrials: 6
	parallel:  2
}
`

func TestPipelineTrials(t *testing.T) {
	ctx := context.Background()
	sys, diags := compiler.Compile(ctx, "spec", compiler.Options{Overlay: map[string][]byte{"spec.cue": []byte(pipelineSpec)}})
	require.False(t, diags.HasErrors(), "%v", diags)
	res, diags := render.Render(ctx, sys, render.Options{Renderers: plugins.Builtins()})
	require.False(t, diags.HasErrors(), "%v", diags)
	require.Len(t, res.Environments, 1)

	all := map[string][]byte{}
	var golden bytes.Buffer
	for _, it := range res.Environments[0].Items {
		b, err := render.Marshal(it.Object)
		require.NoError(t, err)
		all[it.Key()] = b
		if it.Origin.Component == sweep.Component {
			if golden.Len() > 0 {
				golden.WriteString("---\n")
			}
			golden.Write(b)
		}
		if it.GVK().Kind == "Role" {
			assert.Contains(t, string(b), "- workflows\n", "the sweep creates and reads pipeline runs")
		}
	}
	rendertest.Golden(t, filepath.Join("testdata", "golden", "pipeline.yaml"), golden.Bytes(), *sweep.UpdateFlag())
	assert.NotContains(t, golden.String(), "outputs.result", "no step's stdout passes through a parameter")
	// kiln's own steps run a default image pinned by digest: a rebuilt
	// tag cannot change what a sweep runs.
	for _, line := range strings.Split(golden.String(), "\n") {
		if img, ok := strings.CutPrefix(strings.TrimSpace(line), "image: "); ok && img != "ghcr.io/acme/tools:1.0" {
			assert.Regexp(t, `@sha256:[0-9a-f]{64}$`, img, "a default tool image")
		}
	}

	v := validatetest.CRDs(t)
	// The run a trial creates, with a name in place of generateName,
	// validated beside the pipeline's WorkflowTemplate it refers to.
	manifest := between(string(all["argoproj.io/WorkflowTemplate vision/tune"]), "manifest: |\n", "\n      setOwnerReference")
	require.NotEmpty(t, manifest)
	manifest = dedent(manifest)
	manifest = strings.Replace(manifest, "generateName: train-{{inputs.parameters.trial}}-", "name: train-08ba8f8cab-x7k2p\n  namespace: vision", 1)
	manifest = strings.ReplaceAll(manifest, "'{{workflow.name}}'", "tune-x7k2p")
	// Argo substitutes the trial's values before it creates the run.
	manifest = strings.ReplaceAll(manifest, "'{{inputs.parameters.batch}}'", `"64"`)
	manifest = strings.ReplaceAll(manifest, "'{{inputs.parameters.lr}}'", `"0.001"`)
	assert.Contains(t, manifest, "workflowTemplateRef:\n    name: train\n")
	all["run"] = []byte(manifest)
	assert.Empty(t, v.ValidateAll(all))
	for k, doc := range all {
		assert.Empty(t, validate.RestrictedViolations(doc), k)
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return ""
}

// dedent removes the indentation of a YAML block scalar.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	indent := len(lines[0]) - len(strings.TrimLeft(lines[0], " "))
	for i, l := range lines {
		if len(l) >= indent {
			lines[i] = l[indent:]
		}
	}
	return strings.Join(lines, "\n") + "\n"
}
