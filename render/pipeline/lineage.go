package pipeline

import (
	"maps"
	"slices"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/argo"
	"github.com/kiln-ml/kiln/render/lineagestep"
	"github.com/kiln-ml/kiln/render/pod"
)

// Where the lineage step writes the record's URI.
const lineageURIFile = OutputDir + "/uri"

// LineageOutput is the workflow's global output parameter holding the
// URI of the run's lineage record.
const LineageOutput = lineagestep.Output

// promotionOutput is a promote step's output parameter: what `kiln
// promote --result` wrote (the serving entry, model, commit, pull
// request), handed to the lineage record.
const promotionOutput = "kiln-promotion"

// lineageImage is the image that runs `kiln lineage record`: the
// system's images.kiln, else the image of the pipeline's first promote
// step (the compiler resolved components and images.kiln into it).
func lineageImage(env *ir.Environment, g *graph) string {
	if img := env.Spec.Images[ir.KilnImage]; img != "" {
		return img
	}
	for _, n := range g.stepNames() {
		if pr := g.steps[n].Promote; pr != nil && pr.Image != "" {
			return pr.Image
		}
	}
	return ""
}

// recordsLineage reports whether the pipeline's runs write a lineage
// record in env, and if not, why ("" when it was not asked for).
func recordsLineage(env *ir.Environment, g *graph) (bool, string) {
	if g.p.Lineage != nil && !*g.p.Lineage {
		return false, ""
	}
	missing := lineagestep.Missing(env, lineageImage(env, g), "")
	return missing == "", missing
}

// LineageURI is where a run of the pipeline stores its lineage record,
// with {{workflow.name}} for the run.
func LineageURI(sys *ir.System, env *ir.Environment, pipeline string) string {
	return lineagestep.URI(sys, env, pipeline)
}

// globalOutput is the workflow-wide name of a step's output parameter,
// which the exit handler reads as {{workflow.outputs.parameters.<it>}}.
// Step template names have no '_', so the first "__" separates.
func globalOutput(step, output string) string {
	return render.ObjectName(step) + "__" + output
}

// exported reports whether a step's output parameters are exported to
// the workflow's outputs for the lineage record: a fanned-out step's
// items would overwrite one another, and the user's exit step runs
// beside the record, not before it.
func (g *graph) exported(name string) bool {
	st := g.steps[name]
	return name != g.p.OnExit && len(st.WithItems) == 0
}

// lineageTemplate is the exit handler's step that writes the run's
// lineage record with `kiln lineage record`, as an artifact at the key
// LineageURI names and the URI as the output parameter uri (exported as
// the workflow's kiln-lineage). It reads only what Argo hands it, so it
// needs no token; Argo's wait container uploads the record.
func lineageTemplate(sys *ir.System, env *ir.Environment, g *graph, name, sa, digest string) wfv1.Template {
	uri := LineageURI(sys, env, g.name)
	args := []string{"lineage", "record",
		"--system", sys.Name,
		"--namespace", env.Namespace,
		"--env", env.Name,
		"--pipeline", g.name,
	}
	args = append(args, lineagestep.RunArgs(digest)...)
	datasets := map[string]bool{}
	for _, n := range g.stepNames() {
		st := g.steps[n]
		for _, d := range st.Datasets {
			datasets[d] = true
		}
		if t := env.Spec.Training[st.Training]; t != nil {
			for _, d := range t.Datasets {
				datasets[d] = true
			}
		}
	}
	args = append(args, lineagestep.DatasetArgs(env, datasets)...)
	for _, p := range slices.Sorted(maps.Keys(g.p.Parameters)) {
		args = append(args, "--param", p+"={{workflow.parameters."+p+"}}")
	}
	for _, n := range g.stepNames() {
		st := g.steps[n]
		if !g.exported(n) {
			continue
		}
		if st.Promote != nil {
			args = append(args, "--promotion", n+"={{workflow.outputs.parameters."+globalOutput(n, promotionOutput)+"}}")
			continue
		}
		if st.Outputs == nil || st.Training != "" {
			continue
		}
		for _, o := range st.Outputs.Parameters {
			args = append(args, "--output", n+"."+o+"={{workflow.outputs.parameters."+globalOutput(n, o)+"}}")
		}
	}
	for _, b := range g.builds.tasks() {
		args = append(args, "--image", b.image+"="+b.b.Ref+"@{{workflow.outputs.parameters."+globalOutput(b.task, digestOutput)+"}}")
	}
	args = append(args, "--uri", uri, "--file", lineagestep.File, "--uri-file", lineageURIFile)
	in := pod.Input{
		Image:     lineageImage(env, g),
		Command:   []string{"kiln"},
		Args:      args,
		Resources: lineagestep.Resources,
		Security:  g.p.Security,
	}
	t := argo.ContainerTemplate(env, name, in, sa)
	t.Outputs = lineagestep.Outputs(sys, env, g.name, lineageURIFile)
	return t
}
