package plugins

import (
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/argocd"
	"github.com/kiln-ml/kiln/render/kustomize"
	"github.com/kiln-ml/kiln/render/llm"
	"github.com/kiln-ml/kiln/render/notebook"
	"github.com/kiln-ml/kiln/render/pipeline"
	"github.com/kiln-ml/kiln/render/platform"
	"github.com/kiln-ml/kiln/render/serving"
	"github.com/kiln-ml/kiln/render/sweep"
	"github.com/kiln-ml/kiln/render/training"
)

// Builtins returns kiln's built-in renderers in the order they run: the
// workloads, then the platform objects, which the platform renderer
// derives from what the workload renderers declared they need
// (render.Needs).
func Builtins() []render.Renderer {
	return []render.Renderer{
		training.Renderer{},
		pipeline.Renderer{},
		sweep.Renderer{},
		serving.Renderer{},
		llm.Renderer{},
		notebook.Renderer{},
		// After the workloads: it reads their needs.
		platform.Renderer{},
		// Last: patches see every object, Argo CD objects every kind.
		kustomize.Patcher{},
		argocd.Renderer{},
	}
}

// Names lists the names of renderers, for `kiln version -v` and messages.
func Names(rs []render.Renderer) []string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name()
	}
	return names
}
