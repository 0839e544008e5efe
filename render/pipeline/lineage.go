package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/lineage"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/argo"
	"github.com/kiln-ml/kiln/render/pod"
)

// Where the lineage step writes the record and its URI.
const (
	lineageFile    = "/tmp/lineage/record.json"
	lineageURIFile = OutputDir + "/uri"
)

// LineageOutput is the workflow's global output parameter holding the
// URI of the run's lineage record.
const LineageOutput = "kiln-lineage"

// promotionOutput is a promote step's output parameter: what `kiln
// promote --result` wrote (the serving entry, model, commit, pull
// request), handed to the lineage record.
const promotionOutput = "kiln-promotion"

// Resources of the lineage container: it writes one small file, but
// kiln itself holds about 72 MB resident when it starts.
var lineageResources = ir.Resources{CPU: "50m", Memory: "128Mi"}

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
	var missing string
	switch r := env.Spec.Artifacts; {
	case r == nil || (r.S3 == nil) == (r.GCS == nil):
		missing = "environment " + env.Name + " has no artifact repository to store the record in (artifacts.s3 or artifacts.gcs)"
	case lineageImage(env, g) == "":
		missing = "the system has no kiln image to write the record with: build one with 'make image IMAGE=<registry>/kiln:<tag>' in kiln's repository and name it in images." + ir.KilnImage
	}
	return missing == "", missing
}

// LineageURI is where a run of the pipeline stores its lineage record,
// with {{workflow.name}} for the run.
func LineageURI(sys *ir.System, env *ir.Environment, pipeline string) string {
	r := env.Spec.Artifacts
	switch {
	case r == nil:
		return ""
	case r.S3 != nil:
		return "s3://" + r.S3.Bucket + "/" + lineageKey(sys, env, r.S3.KeyPrefix, pipeline)
	case r.GCS != nil:
		return "gs://" + r.GCS.Bucket + "/" + lineageKey(sys, env, r.GCS.KeyPrefix, pipeline)
	}
	return ""
}

func lineageKey(sys *ir.System, env *ir.Environment, prefix, pipeline string) string {
	return lineage.Key(prefix, env.Namespace, sys.Name, render.ObjectName(pipeline), "{{workflow.name}}")
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

// specDigest is the digest of the rendered pipeline: it changes when
// what the pipeline does changes, never with the run or the time.
func specDigest(spec *wfv1.WorkflowSpec) string {
	b, err := json.Marshal(spec)
	if err != nil {
		panic("pipeline: " + err.Error()) // a typed spec always marshals
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
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
		"--run-name", "{{workflow.name}}",
		"--run-uid", "{{workflow.uid}}",
		"--phase", "{{workflow.status}}",
		"--started", "{{workflow.creationTimestamp}}",
		"--spec-digest", digest,
	}
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
	for _, d := range slices.Sorted(maps.Keys(datasets)) {
		if ds := env.Spec.Datasets[d]; ds != nil {
			args = append(args, "--dataset", d+"="+ds.URI)
		}
	}
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
	args = append(args, "--uri", uri, "--file", lineageFile, "--uri-file", lineageURIFile)
	in := pod.Input{
		Image:     lineageImage(env, g),
		Command:   []string{"kiln"},
		Args:      args,
		Resources: lineageResources,
		Security:  g.p.Security,
	}
	t := argo.ContainerTemplate(env, name, in, sa)
	t.Outputs.Parameters = []wfv1.Parameter{{
		Name:       "uri",
		GlobalName: LineageOutput,
		ValueFrom:  &wfv1.ValueFrom{Path: lineageURIFile, Default: wfv1.AnyStringPtr("")},
	}}
	loc := pinnedLocation(env.Spec.Artifacts, "", "", "")
	switch {
	case loc.S3 != nil:
		loc.S3.Key = lineageKey(sys, env, env.Spec.Artifacts.S3.KeyPrefix, g.name)
	case loc.GCS != nil:
		loc.GCS.Key = lineageKey(sys, env, env.Spec.Artifacts.GCS.KeyPrefix, g.name)
	}
	t.Outputs.Artifacts = []wfv1.Artifact{{
		Name:             "record",
		Path:             lineageFile,
		Archive:          &wfv1.ArchiveStrategy{None: &wfv1.NoneStrategy{}},
		ArtifactLocation: loc,
	}}
	return t
}
