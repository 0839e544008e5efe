package sweep

import (
	"strconv"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/argo"
	"github.com/kiln-ml/kiln/render/lineagestep"
	"github.com/kiln-ml/kiln/render/pod"
)

// Workflow-global outputs the lineage step reads: the history of trials
// (set by every round's record step, so a run stopped mid-way still has
// the rounds it finished), the best trial (set by the summary) and the
// record's URI (the same name as a pipeline's).
const (
	HistoryOutput   = "kiln-history"
	BestTrialOutput = "kiln-best-trial"
	LineageOutput   = lineagestep.Output
)

// Where the lineage step finds the history and writes the record's URI.
const (
	lineageHistory = inDir + "/history"
	lineageURIFile = outDir + "/uri"
)

// katibNoLineage is why a Katib sweep writes no record.
const katibNoLineage = "a Katib Experiment has no exit handler: nothing of kiln's runs when it ends to write the record. Write it once the Experiment has ended with 'kiln lineage record --katib' (from kubectl's JSON of the Experiment and its Trials), use the Argo backend, or set lineage: false"

// lineageImage is the image that runs `kiln lineage record`: the
// system's images.kiln, else the sweep's tools.kiln.
func lineageImage(env *ir.Environment, sw *ir.Sweep) string {
	if img := env.Spec.Images[ir.KilnImage]; img != "" {
		return img
	}
	return sw.Tools.Kiln
}

// RecordsLineage reports whether the sweep's runs write a lineage record
// in env, and if not, why ("" when it was not asked for). Like a
// pipeline, an Argo sweep records lineage by default when it can.
func RecordsLineage(env *ir.Environment, sw *ir.Sweep) (bool, string) {
	if sw.Lineage != nil && !*sw.Lineage {
		return false, ""
	}
	missing := katibNoLineage
	if sw.Backend != "katib" {
		missing = lineagestep.Missing(env, lineageImage(env, sw), "tools.kiln")
	}
	return missing == "", missing
}

// checkLineage makes lineage: true an error where the runs cannot write
// their record.
func checkLineage(c *checker, path string, sw *ir.Sweep) {
	if l := sw.Lineage; l != nil && *l {
		if ok, why := RecordsLineage(c.Env, sw); !ok {
			c.Errorf(ir.Join(path, "lineage"), "the sweep's runs cannot write lineage records: %s", why)
		}
	}
}

// LineageURI is where a run of the sweep stores its lineage record, with
// {{workflow.name}} for the run: the key a pipeline's run uses, under the
// sweep's name.
func LineageURI(sys *ir.System, env *ir.Environment, name string) string {
	return lineagestep.URI(sys, env, name)
}

// datasets are the names of the datasets a sweep's trials read: the
// trial entry's, or every step's (and its training entry's) of the trial
// pipeline.
func (b *builder) datasets() map[string]bool {
	names := map[string]bool{}
	add := func(t *ir.Training) {
		if t != nil {
			for _, d := range t.Datasets {
				names[d] = true
			}
		}
	}
	add(b.t)
	if b.p != nil {
		for _, st := range b.p.Steps {
			for _, d := range st.Datasets {
				names[d] = true
			}
			add(b.env.Spec.Training[st.Training])
		}
	}
	return names
}

// lineageTemplate is the exit handler's step that writes the run's
// lineage record with `kiln lineage record`: the history of trials (a
// file, from the workflow's kiln-history output: a raw artifact, as the
// selector's steps take it, so a long history passes through no command
// line), the best trial, and what kiln knew when it rendered the sweep.
// The record is an artifact at the key LineageURI names, stored by Argo's
// wait container, and its URI the workflow's kiln-lineage output. It
// needs no token.
func (b *builder) lineageTemplate(digest string) wfv1.Template {
	sw := b.sw
	args := []string{"lineage", "record",
		"--system", b.sys.Name,
		"--namespace", b.env.Namespace,
		"--env", b.env.Name,
		"--sweep", b.name,
		"--algorithm", sw.Algorithm,
		"--objective", sw.Objective.Metric,
		"--goal", sw.Objective.Goal,
	}
	if t := sw.Objective.Target; t != nil {
		args = append(args, "--target", strconv.FormatFloat(*t, 'g', -1, 64))
	}
	args = append(args, lineagestep.RunArgs(digest)...)
	args = append(args, lineagestep.DatasetArgs(b.env, b.datasets())...)
	args = append(args,
		"--history-file", lineageHistory,
		"--best", "{{workflow.outputs.parameters."+BestTrialOutput+"}}",
		"--uri", LineageURI(b.sys, b.env, b.name),
		"--file", lineagestep.File,
		"--uri-file", lineageURIFile,
	)
	t := argo.ContainerTemplate(b.env, "lineage", pod.Input{
		Image:     lineageImage(b.env, sw),
		Command:   []string{"kiln"},
		Args:      args,
		Resources: lineagestep.Resources,
		Security:  restricted,
	}, render.WorkflowServiceAccount(b.sys))
	t.Inputs.Artifacts = []wfv1.Artifact{{
		Name: "history", Path: lineageHistory,
		ArtifactLocation: wfv1.ArtifactLocation{Raw: &wfv1.RawArtifact{Data: "{{workflow.outputs.parameters." + HistoryOutput + "}}"}},
	}}
	t.Outputs = lineagestep.Outputs(b.sys, b.env, b.name, lineageURIFile)
	return t
}
