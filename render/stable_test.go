package render_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
)

// The same system three ways: as written, with comments added and its
// fields and map entries in another order, and split over two files.
var stableSpecs = map[string]map[string]string{
	"written": {"system.cue": `package x
name: "x"
namespace: "x"
environments: {
	dev: {gpu: quota: 4, overrides: training: bert: workers: 1}
	prod: {production: true, gpu: quota: 16}
}
training: bert: {
	framework: "pytorch"
	image:     "ghcr.io/acme/bert:1.0"
	args: {lr: 0.1, epochs: 3}
	workers: 2
	resources: {gpus: 1, cpu: "4", memory: "16Gi"}
}
pipelines: nightly: steps: {
	prep: {image: "ghcr.io/acme/tools:1.0", command: ["prep"]}
	train: {after: ["prep"], training: "bert"}
}
serving: scorer: {
	model: {format: "sklearn", storageUri: "gs://acme/model/v1"}
	resources: {cpu: "1", memory: "2Gi"}
}
`},
	"reordered": {"system.cue": `// A comment at the top moves every line.

package x

// Entries in another order.
serving: scorer: {
	resources: {memory: "2Gi", cpu: "1"}
	model: {storageUri: "gs://acme/model/v1", format: "sklearn"}
}
pipelines: nightly: steps: {
	train: {training: "bert", after: ["prep"]}
	prep: {command: ["prep"], image: "ghcr.io/acme/tools:1.0"}
}

training: bert: {
	resources: {memory: "16Gi", cpu: "4", gpus: 1}
	workers: 2
	args: {epochs: 3, lr: 0.1}
	image:     "ghcr.io/acme/bert:1.0"
	framework: "pytorch"
}
environments: {
	prod: {gpu: quota: 16, production: true}
	dev: {overrides: training: bert: workers: 1, gpu: quota: 4}
}
namespace: "x"
name: "x"
`},
	"split": {
		"a.cue": `package x
name: "x"
namespace: "x"
environments: {
	dev: {gpu: quota: 4, overrides: training: bert: workers: 1}
	prod: {production: true, gpu: quota: 16}
}
serving: scorer: {
	model: {format: "sklearn", storageUri: "gs://acme/model/v1"}
	resources: {cpu: "1", memory: "2Gi"}
}
`,
		"b.cue": `package x

pipelines: nightly: steps: {
	prep: {image: "ghcr.io/acme/tools:1.0", command: ["prep"]}
	train: {after: ["prep"], training: "bert"}
}
training: bert: {
	framework: "pytorch"
	image:     "ghcr.io/acme/bert:1.0"
	args: {lr: 0.1, epochs: 3}
	workers: 2
	resources: {gpus: 1, cpu: "4", memory: "16Gi"}
}
`},
}

func renderFiles(t *testing.T, spec map[string]string) map[string][]byte {
	t.Helper()
	overlay := map[string][]byte{}
	for name, src := range spec {
		overlay[name] = []byte(src)
	}
	sys, diags := compiler.Compile(context.Background(), "/virtual/spec", compiler.Options{Overlay: overlay})
	require.False(t, diags.HasErrors(), "%v", diags)
	res, diags := render.Render(context.Background(), sys, render.Options{Renderers: plugins.Builtins()})
	require.False(t, diags.HasErrors(), "%v", diags)
	files, err := render.Files(res)
	require.NoError(t, err)
	return files
}

// Objects change only when their meaning does: comments, the order of
// fields and entries, and which file of the spec an entry is written in
// change no rendered byte, and no object names a spec position.
func TestOutputIgnoresLayout(t *testing.T) {
	want := renderFiles(t, stableSpecs["written"])
	require.NotEmpty(t, want)
	position := regexp.MustCompile(`\.cue:\d`)
	for p, b := range want {
		assert.NotRegexp(t, position, string(b), "%s names a spec position", p)
	}
	for _, name := range []string{"reordered", "split"} {
		got := renderFiles(t, stableSpecs[name])
		assert.ElementsMatch(t, keys(want), keys(got), "%s: files", name)
		for p, b := range want {
			assert.Equal(t, string(b), string(got[p]), "%s: %s", name, p)
		}
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
