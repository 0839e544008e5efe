package sweep

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/lineage"
)

func s3Repo() *ir.ArtifactRepository {
	return &ir.ArtifactRepository{S3: &ir.S3Repository{Bucket: "acme-ml-artifacts", Endpoint: "s3.amazonaws.com", KeyPrefix: "skin-lesion"}}
}

func gcsRepo() *ir.ArtifactRepository {
	return &ir.ArtifactRepository{GCS: &ir.GCSRepository{Bucket: "acme-ml-artifacts"}}
}

// flagValues are the values of a flag in a command line.
func flagValues(args []string, flag string) []string {
	var vs []string
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag {
			vs = append(vs, args[i+1])
		}
	}
	return vs
}

// TestSweepLineage: a sweep run's exit handler writes its record from
// the globals the round and summary steps set, at the pipeline's key
// scheme, whatever the trials are.
func TestSweepLineage(t *testing.T) {
	// Single-pod trials: the exit handler is the record alone.
	wt := workflowTemplate(t, renderCase(t, "single", goldenCase{t: resnet(1, 1), sw: newSweep("tpe"), repo: gcsRepo(), kiln: "ghcr.io/acme/kiln:0.1.0"}))
	require.Equal(t, ExitHandler, wt.Spec.OnExit)
	handler := template(t, wt, ExitHandler)
	require.Len(t, handler.DAG.Tasks, 1)
	assert.Equal(t, "lineage", handler.DAG.Tasks[0].Name)
	assert.Empty(t, handler.DAG.Tasks[0].When, "a failed run gets a record too")

	assert.Equal(t, HistoryOutput, template(t, wt, "record").Outputs.Parameters[0].GlobalName)
	assert.Equal(t, "history", template(t, wt, "record").Outputs.Parameters[0].Name)
	assert.Equal(t, BestTrialOutput, template(t, wt, "summary").Outputs.Parameters[0].GlobalName)
	assert.Equal(t, "best-trial", template(t, wt, "summary").Outputs.Parameters[0].Name)

	rec := template(t, wt, "lineage")
	args := rec.Container.Args
	assert.Equal(t, []string{"resnet-tune"}, flagValues(args, "--sweep"))
	assert.Empty(t, flagValues(args, "--pipeline"))
	assert.Equal(t, []string{"isic=s3://acme-derm/isic-2020/"}, flagValues(args, "--dataset"))
	assert.Equal(t, []string{"gs://acme-ml-artifacts/lineage/derm-ml/skin-lesion/resnet-tune/{{workflow.name}}.json"}, flagValues(args, "--uri"))
	assert.Equal(t, []string{"0.92"}, flagValues(args, "--target"))
	// The history is a file, never a command-line argument.
	require.Len(t, rec.Inputs.Artifacts, 1)
	assert.Equal(t, []string{rec.Inputs.Artifacts[0].Path}, flagValues(args, "--history-file"))
	assert.Equal(t, "{{workflow.outputs.parameters."+HistoryOutput+"}}", rec.Inputs.Artifacts[0].Raw.Data)
	for _, a := range args {
		assert.NotContains(t, a, "{{workflow.outputs.parameters."+HistoryOutput)
	}
	require.Len(t, rec.Outputs.Artifacts, 1)
	require.NotNil(t, rec.Outputs.Artifacts[0].GCS)
	assert.Equal(t, "lineage/derm-ml/skin-lesion/resnet-tune/{{workflow.name}}.json", rec.Outputs.Artifacts[0].GCS.Key)
	assert.Equal(t, LineageOutput, rec.Outputs.Parameters[0].GlobalName)
	assert.False(t, *rec.AutomountServiceAccountToken, "the record step reads only what Argo hands it")

	// The digest names what the sweep does: another search space, another
	// digest; the same sweep, the same.
	digest := func(sw *ir.Sweep) string {
		wt := workflowTemplate(t, renderCase(t, "digest", goldenCase{t: resnet(1, 1), sw: sw, repo: s3Repo(), kiln: "k:1"}))
		return flagValues(template(t, wt, "lineage").Container.Args, "--spec-digest")[0]
	}
	wider := newSweep("random")
	wider.Parameters["lr"].Max = fp(0.5)
	assert.Equal(t, digest(newSweep("random")), digest(newSweep("random")))
	assert.NotEqual(t, digest(newSweep("random")), digest(wider))

	// lineage: false records nothing, and leaves the globals alone.
	off := newSweep("random")
	off.Lineage = new(false)
	wt = workflowTemplate(t, renderCase(t, "off", goldenCase{t: resnet(1, 1), sw: off, repo: s3Repo(), kiln: "k:1"}))
	assert.Empty(t, wt.Spec.OnExit)
	assert.Empty(t, template(t, wt, "record").Outputs.Parameters[0].GlobalName)

	// Unset, a sweep without a kiln image records nothing, silently.
	noKiln := newSweep("random")
	noKiln.Tools.Kiln = ""
	wt = workflowTemplate(t, renderCase(t, "nokiln", goldenCase{t: resnet(1, 1), sw: noKiln, repo: s3Repo()}))
	assert.Empty(t, wt.Spec.OnExit)

	// tools.kiln serves when images.kiln is not set.
	wt = workflowTemplate(t, renderCase(t, "tools", goldenCase{t: resnet(1, 1), sw: newSweep("random"), repo: s3Repo()}))
	assert.Equal(t, "ghcr.io/kiln-ml/kiln:v0.1.0", template(t, wt, "lineage").Container.Image)
}

// TestSweepLineageRequired: lineage: true is an error where the runs
// cannot write a record, Katib sweeps above all.
func TestSweepLineageRequired(t *testing.T) {
	for name, c := range map[string]struct {
		sw   func() *ir.Sweep
		repo *ir.ArtifactRepository
		want string
	}{
		"katib":         {func() *ir.Sweep { sw := newSweep("random"); sw.Backend = "katib"; return sw }, s3Repo(), "a Katib Experiment has no exit handler"},
		"no repository": {func() *ir.Sweep { return newSweep("random") }, nil, "environment prod has no artifact repository"},
		"no kiln image": {func() *ir.Sweep { sw := newSweep("random"); sw.Tools.Kiln = ""; return sw }, s3Repo(), "the system has no kiln image"},
	} {
		t.Run(name, func(t *testing.T) {
			sw := c.sw()
			sw.Lineage = new(true)
			env := environment(64, resnet(1, 1), map[string]*ir.Sweep{"resnet-tune": sw})
			env.Spec.Artifacts = c.repo
			_, diags := renderEnv(env)
			require.Len(t, diags, 1)
			assert.Contains(t, diags[0].Msg, "the sweep's runs cannot write lineage records: "+c.want)
			assert.Equal(t, `sweeps."resnet-tune".lineage`, diags[0].Path)
		})
	}
	// Unset, a Katib sweep renders its Experiment and records nothing.
	sw := newSweep("random")
	sw.Backend = "katib"
	env := environment(64, resnet(1, 1), map[string]*ir.Sweep{"resnet-tune": sw})
	env.Spec.Artifacts = s3Repo()
	_, diags := renderEnv(env)
	assert.Empty(t, diags)
}

// TestSweepRecordFromSelector plays a sweep with the selector as the
// workflow runs it, then builds the record from what the exit handler is
// handed (the history and the best trial): the record holds every trial,
// the best one's parameters, and satisfies the schema.
func TestSweepRecordFromSelector(t *testing.T) {
	sw := newSweep("random")
	sw.MaxTrials = 6
	sw.Parallel = 3
	sw.MaxFailedTrials = 1
	sw.Objective.Target = nil
	p, err := NewPlan("resnet-tune", sw)
	require.NoError(t, err)
	s := newSelector(t, p)
	failed := p.Trials[2].Name
	out, err, _ := simulate(t, s, p, func(_ int, it map[string]string) outcome {
		if it["trial"] == failed {
			return outcome{"CUDA out of memory\n", "Failed"}
		}
		return outcome{trainerLog(30, func(e int) float64 { return response(it, e) }), "Succeeded"}
	}, nil)
	require.NoError(t, err)

	wt := workflowTemplate(t, renderCase(t, "record", goldenCase{t: resnet(1, 1), sw: sw, repo: s3Repo(), kiln: "k:1"}))
	args := template(t, wt, "lineage").Container.Args
	assert.Empty(t, flagValues(args, "--target"), "the sweep has none")
	in := lineage.Inputs{
		System: flagValues(args, "--system")[0], Namespace: flagValues(args, "--namespace")[0], Environment: flagValues(args, "--env")[0],
		Sweep: flagValues(args, "--sweep")[0], Algorithm: flagValues(args, "--algorithm")[0],
		Objective: flagValues(args, "--objective")[0], Goal: flagValues(args, "--goal")[0],
		RunName: "resnet-tune-x7k2p", Phase: "Succeeded", SpecDigest: flagValues(args, "--spec-digest")[0],
		Datasets: flagValues(args, "--dataset"),
		History:  out["history.json"], Best: out["best-trial"],
		URI: strings.ReplaceAll(flagValues(args, "--uri")[0], "{{workflow.name}}", "resnet-tune-x7k2p"),
	}
	r, err := lineage.Build(in)
	require.NoError(t, err)
	require.Len(t, r.Sweep.Trials, 6)
	assert.Equal(t, out["best-trial"], r.Sweep.Best)
	assert.Equal(t, "every planned trial has run", r.Sweep.Stopped)
	var bp map[string]string
	require.NoError(t, json.Unmarshal([]byte(out["best-parameters"]), &bp))
	assert.Equal(t, bp, r.Parameters)
	assert.Contains(t, r.Metrics, out["best-trial"]+".val_accuracy")
	statuses := map[string]string{}
	for _, tr := range r.Sweep.Trials {
		statuses[tr.Name] = tr.Status
	}
	assert.Equal(t, "Failed", statuses[failed])

	b, err := r.Marshal()
	require.NoError(t, err)
	schema, err := jsonschema.UnmarshalJSON(bytes.NewReader(lineage.Schema))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("record.schema.json", schema))
	v, err := c.Compile("record.schema.json")
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	assert.NoError(t, v.Validate(doc))
}
