package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/lineage"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/argo"
	"github.com/kiln-ml/kiln/render/pod"
)

// Workflow-global outputs the lineage step reads: the history of trials
// (set by every round's record step, so a run stopped mid-way still has
// the rounds it finished), the best trial (set by the summary) and the
// record's URI (the same name as a pipeline's).
const (
	HistoryOutput   = "kiln-history"
	BestTrialOutput = "kiln-best-trial"
	LineageOutput   = "kiln-lineage"
)

// Where the lineage step finds the history and writes the record and its
// URI.
const (
	lineageHistory = inDir + "/history"
	lineageFile    = "/tmp/lineage/record.json"
	lineageURIFile = outDir + "/uri"
)

// lineageResources are those of a pipeline's lineage step: kiln itself
// holds about 72 MB resident when it starts; the history of 1000 trials
// is a few hundred kB more.
var lineageResources = ir.Resources{CPU: "50m", Memory: "128Mi"}

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
	var missing string
	switch r := env.Spec.Artifacts; {
	case sw.Backend == "katib":
		missing = katibNoLineage
	case r == nil || (r.S3 == nil) == (r.GCS == nil):
		missing = "environment " + env.Name + " has no artifact repository to store the record in (artifacts.s3 or artifacts.gcs)"
	case lineageImage(env, sw) == "":
		missing = "the system has no kiln image to write the record with: build one with 'make image IMAGE=<registry>/kiln:<tag>' in kiln's repository and name it in images." + ir.KilnImage + " (or in tools.kiln)"
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
	key, bucket := lineageKey(sys, env, name)
	switch r := env.Spec.Artifacts; {
	case r == nil:
		return ""
	case r.S3 != nil:
		return "s3://" + bucket + "/" + key
	case r.GCS != nil:
		return "gs://" + bucket + "/" + key
	}
	return ""
}

// lineageKey is the record's key in the artifact repository, and the
// repository's bucket.
func lineageKey(sys *ir.System, env *ir.Environment, name string) (key, bucket string) {
	var prefix string
	switch r := env.Spec.Artifacts; {
	case r == nil:
	case r.S3 != nil:
		prefix, bucket = r.S3.KeyPrefix, r.S3.Bucket
	case r.GCS != nil:
		prefix, bucket = r.GCS.KeyPrefix, r.GCS.Bucket
	}
	return lineage.Key(prefix, env.Namespace, sys.Name, render.ObjectName(name), "{{workflow.name}}"), bucket
}

// datasets are the datasets a sweep's trials read, NAME=URI: the trial
// entry's, or every step's (and its training entry's) of the trial
// pipeline.
func (b *builder) datasets() []string {
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
	var out []string
	for _, d := range slices.Sorted(maps.Keys(names)) {
		if ds := b.env.Spec.Datasets[d]; ds != nil {
			out = append(out, d+"="+ds.URI)
		}
	}
	return out
}

// specDigest is the digest of the rendered sweep: the workflow and its
// plan (the trials of a compile-time search are in the plan, not in the
// workflow). It changes when what the sweep does changes, never with the
// run or the time.
func specDigest(spec *wfv1.WorkflowSpec, plan []byte) string {
	b, err := json.Marshal(spec)
	if err != nil {
		panic("sweep: " + err.Error()) // a typed spec always marshals
	}
	h := sha256.New()
	h.Write(b)
	h.Write([]byte{0})
	h.Write(plan)
	sum := h.Sum(nil)
	return "sha256:" + hex.EncodeToString(sum)
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
	args = append(args,
		"--run-name", "{{workflow.name}}",
		"--run-uid", "{{workflow.uid}}",
		"--phase", "{{workflow.status}}",
		"--started", "{{workflow.creationTimestamp}}",
		"--spec-digest", digest,
	)
	for _, d := range b.datasets() {
		args = append(args, "--dataset", d)
	}
	args = append(args,
		"--history-file", lineageHistory,
		"--best", "{{workflow.outputs.parameters."+BestTrialOutput+"}}",
		"--uri", LineageURI(b.sys, b.env, b.name),
		"--file", lineageFile,
		"--uri-file", lineageURIFile,
	)
	t := argo.ContainerTemplate(b.env, "lineage", pod.Input{
		Image:     lineageImage(b.env, sw),
		Command:   []string{"kiln"},
		Args:      args,
		Resources: lineageResources,
		Security:  restricted,
	}, render.WorkflowServiceAccount(b.sys))
	t.Inputs.Artifacts = []wfv1.Artifact{{
		Name: "history", Path: lineageHistory,
		ArtifactLocation: wfv1.ArtifactLocation{Raw: &wfv1.RawArtifact{Data: "{{workflow.outputs.parameters." + HistoryOutput + "}}"}},
	}}
	t.Outputs.Parameters = []wfv1.Parameter{{
		Name:       "uri",
		GlobalName: LineageOutput,
		ValueFrom:  &wfv1.ValueFrom{Path: lineageURIFile, Default: wfv1.AnyStringPtr("")},
	}}
	key, _ := lineageKey(b.sys, b.env, b.name)
	var loc wfv1.ArtifactLocation
	if b.env.Spec.Artifacts.S3 != nil {
		loc.S3 = &wfv1.S3Artifact{Key: key}
	} else {
		loc.GCS = &wfv1.GCSArtifact{Key: key}
	}
	t.Outputs.Artifacts = []wfv1.Artifact{{
		Name:             "record",
		Path:             lineageFile,
		Archive:          &wfv1.ArchiveStrategy{None: &wfv1.NoneStrategy{}},
		ArtifactLocation: loc,
	}}
	return t
}
