package lineage_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/lineage"
)

var update = flag.Bool("update", false, "rewrite golden files")

// validator compiles the embedded schema.
func validator(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(lineage.Schema))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	require.NoError(t, c.AddResource("record.schema.json", doc))
	s, err := c.Compile("record.schema.json")
	require.NoError(t, err)
	return s
}

// valid asserts that b, a stored record, satisfies the schema.
func valid(t *testing.T, b []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	assert.NoError(t, validator(t).Validate(v))
}

// The exit handler of skin-lesion's retrain pipeline, as Argo hands it
// over after a run that promoted.
var succeeded = lineage.Inputs{
	System: "skin-lesion", Namespace: "derm-ml", Environment: "prod", Pipeline: "retrain",
	RunName: "retrain-x7k2p", RunUID: "5b0c8a6e-3f1d-4c2a-9d7e-0a1b2c3d4e5f", Phase: "Succeeded",
	Started:    "2026-12-07T02:00:04Z",
	Finished:   time.Date(2026, 12, 7, 9, 41, 17, 500, time.UTC),
	SpecDigest: "sha256:" + string(bytes.Repeat([]byte("ab"), 32)),
	Datasets:   []string{"isic=s3://acme-derm/isic-2020/?versionId=3HL4kqtJlcpXroDTDmJ"},
	Parameters: []string{"epochs=30", "source=s3://acme-derm/incoming/"},
	Outputs: []string{
		"evaluate.accuracy=0.934",
		"evaluate.model_uri=s3://acme-models/skin/v9",
		"evaluate.notes=held-out split 2026-11",
	},
	Promotions: []string{`promote={"serving":"classifier","environment":"prod","modelUri":"s3://acme-models/skin/v9","canary":10,"commit":"9f2c1e7a5b3d","pullRequest":"https://github.com/acme/derm-ml-deploy/pull/42"}`},
	URI:        "s3://acme-ml-artifacts/skin-lesion/lineage/derm-ml/skin-lesion/retrain/retrain-x7k2p.json",
}

// A run whose training failed: Argo could not resolve the outputs of the
// steps that never ran and left them as written.
var failed = lineage.Inputs{
	System: "skin-lesion", Namespace: "derm-ml", Environment: "dev", Pipeline: "retrain",
	RunName: "retrain-q2m8d", RunUID: "{{workflow.uid}}", Phase: "Failed",
	Started:    "2026-12-07T02:00:04Z",
	Finished:   time.Date(2026, 12, 7, 3, 12, 0, 0, time.UTC),
	Datasets:   []string{"isic=s3://acme-derm/isic-2020/"},
	Parameters: []string{"epochs=30", "source={{workflow.parameters.source}}"},
	Outputs: []string{
		"evaluate.accuracy={{workflow.outputs.parameters.evaluate__accuracy}}",
		"evaluate.model_uri={{workflow.outputs.parameters.evaluate__model_uri}}",
	},
	Promotions: []string{"promote={{workflow.outputs.parameters.promote__kiln-promotion}}"},
	URI:        "s3://acme-ml-artifacts/skin-lesion/lineage/derm-ml/skin-lesion/retrain/retrain-q2m8d.json",
}

// The exit handler of a sweep after a run that reached its target on the
// third trial; the history is what the sweep's bookkeeping (selector.py
// record) kept. Its trials run a pipeline whose evaluate step outputs the
// model's URI.
var sweepRun = lineage.Inputs{
	System: "skin-lesion", Namespace: "derm-ml", Environment: "prod",
	Sweep: "resnet-tune", Algorithm: "sobol", Objective: "val_accuracy", Goal: "maximize", Target: "0.92",
	RunName: "resnet-tune-4wq9z", RunUID: "0f6e2d1c-8b7a-4c3d-9e8f-1a2b3c4d5e6f", Phase: "Succeeded",
	Started:    "2026-12-07T03:00:00Z",
	Finished:   time.Date(2026, 12, 7, 7, 12, 44, 0, time.UTC),
	SpecDigest: "sha256:" + string(bytes.Repeat([]byte("cd"), 32)),
	Datasets:   []string{"isic=s3://acme-derm/isic-2020/"},
	History: `{"reason":"target reached by trial 5e0c7d2a91","rounds":2,"trials":[` +
		`{"metrics":{"val_accuracy":0.884,"val_loss":0.41},"name":"a41f09c3b2","parameters":{"batch":"32","lr":"0.0001"},"round":0,"status":"Succeeded"},` +
		`{"metrics":{},"name":"c7d1e2f3a4","parameters":{"batch":"128","lr":"0.1"},"round":0,"status":"Failed"},` +
		`{"metrics":{"val_accuracy":0.931,"val_loss":0.22},"models":{"evaluate.model_uri":"s3://acme-models/skin/tune-5e0c7d2a91"},"name":"5e0c7d2a91","parameters":{"batch":64,"lr":"0.00316"},"round":1,"status":"Succeeded"}]}`,
	Best: "5e0c7d2a91",
	URI:  "s3://acme-ml-artifacts/skin-lesion/lineage/derm-ml/skin-lesion/resnet-tune/resnet-tune-4wq9z.json",
}

// A sweep run stopped before its first round was recorded: Argo left the
// history and the best trial as written.
var sweepStopped = lineage.Inputs{
	System: "skin-lesion", Namespace: "derm-ml", Environment: "prod",
	Sweep: "resnet-tune", Algorithm: "tpe", Objective: "val_loss", Goal: "minimize",
	RunName: "resnet-tune-8ct2m", Phase: "Failed",
	Started:  "2026-12-07T03:00:00Z",
	Finished: time.Date(2026, 12, 7, 3, 4, 0, 0, time.UTC),
	History:  "{{workflow.outputs.parameters.kiln-history}}",
	Best:     "{{workflow.outputs.parameters.kiln-best-trial}}",
	URI:      "gs://acme-ml-artifacts/lineage/derm-ml/skin-lesion/resnet-tune/resnet-tune-8ct2m.json",
}

// TestRecordGolden builds records from recorded inputs, compares them with
// testdata/*.json and validates them against the schema.
func TestRecordGolden(t *testing.T) {
	for name, in := range map[string]lineage.Inputs{"succeeded": succeeded, "failed": failed, "sweep": sweepRun, "sweep-stopped": sweepStopped} {
		t.Run(name, func(t *testing.T) {
			r, err := lineage.Build(in)
			require.NoError(t, err)
			b, err := r.Marshal()
			require.NoError(t, err)
			valid(t, b)
			golden := filepath.Join("testdata", name+".json")
			if *update {
				require.NoError(t, os.WriteFile(golden, b, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(b))
		})
	}
}

func TestRecordContent(t *testing.T) {
	r, err := lineage.Build(succeeded)
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"evaluate.accuracy": 0.934}, r.Metrics)
	assert.Equal(t, []lineage.Model{{URI: "s3://acme-models/skin/v9", Step: "evaluate", Output: "model_uri"}}, r.Models)
	assert.Equal(t, "3HL4kqtJlcpXroDTDmJ", r.Datasets[0].Version)
	assert.Equal(t, "9f2c1e7a5b3d", r.Spec.Revision, "the promote step's commit is the spec's revision")
	require.Len(t, r.Promotions, 1)
	assert.Equal(t, "promote", r.Promotions[0].Step)

	r, err = lineage.Build(failed)
	require.NoError(t, err)
	assert.Equal(t, "Failed", r.Run.Phase)
	assert.Empty(t, r.Run.UID)
	assert.Empty(t, r.Metrics)
	assert.Empty(t, r.Models)
	assert.Empty(t, r.Promotions)
	assert.Equal(t, map[string]string{"epochs": "30"}, r.Parameters)
}

// TestMalformedFlags: a value of a NAME=VALUE flag without its name or
// its '=' is refused with the flag named, whichever kind it is; so are
// an output not named step.output and an image without a digest.
func TestMalformedFlags(t *testing.T) {
	for want, edit := range map[string]func(in *lineage.Inputs){
		"--dataset isic: want NAME=VALUE":         func(in *lineage.Inputs) { in.Datasets = append(in.Datasets, "isic") },
		"--param =3: want NAME=VALUE":             func(in *lineage.Inputs) { in.Parameters = append(in.Parameters, "=3") },
		"--output acc: want NAME=VALUE":           func(in *lineage.Inputs) { in.Outputs = append(in.Outputs, "acc") },
		"--output acc=1: want step.output=VALUE":  func(in *lineage.Inputs) { in.Outputs = append(in.Outputs, "acc=1") },
		"--promotion promote: want NAME=VALUE":    func(in *lineage.Inputs) { in.Promotions = append(in.Promotions, "promote") },
		"--image trainer: want NAME=VALUE":        func(in *lineage.Inputs) { in.Images = append(in.Images, "trainer") },
		"--image t=reg/t:1: want NAME=REF@DIGEST": func(in *lineage.Inputs) { in.Images = append(in.Images, "t=reg/t:1") },
	} {
		in := succeeded
		in.Datasets, in.Parameters, in.Outputs = slices.Clone(in.Datasets), slices.Clone(in.Parameters), slices.Clone(in.Outputs)
		in.Promotions, in.Images = slices.Clone(in.Promotions), slices.Clone(in.Images)
		edit(&in)
		_, err := lineage.Build(in)
		if assert.Error(t, err, want) {
			assert.Equal(t, want, err.Error())
		}
	}
}

func TestSweepRecord(t *testing.T) {
	r, err := lineage.Build(sweepRun)
	require.NoError(t, err)
	require.NotNil(t, r.Sweep)
	assert.Empty(t, r.Pipeline)
	assert.Equal(t, "sweep resnet-tune", r.Of())
	assert.Equal(t, "5e0c7d2a91", r.Sweep.Best)
	assert.Equal(t, "target reached by trial 5e0c7d2a91", r.Sweep.Stopped)
	assert.Equal(t, 0.92, *r.Sweep.Objective.Target)
	require.Len(t, r.Sweep.Trials, 3)
	assert.Equal(t, "Failed", r.Sweep.Trials[1].Status)
	// The best trial's parameters (a number as written) and metrics are
	// the record's own.
	assert.Equal(t, map[string]string{"batch": "64", "lr": "0.00316"}, r.Parameters)
	assert.Equal(t, map[string]float64{"5e0c7d2a91.val_accuracy": 0.931, "5e0c7d2a91.val_loss": 0.22}, r.Metrics)
	// ... and so are its models.
	want := []lineage.Model{{URI: "s3://acme-models/skin/tune-5e0c7d2a91", Step: "evaluate", Output: "model_uri"}}
	assert.Equal(t, want, r.Sweep.Trials[2].Models)
	assert.Equal(t, want, r.Models)
	assert.Empty(t, r.Sweep.Trials[0].Models)

	r, err = lineage.Build(sweepStopped)
	require.NoError(t, err)
	assert.Empty(t, r.Sweep.Trials)
	assert.Empty(t, r.Sweep.Best)
	assert.Empty(t, r.Metrics)

	for name, edit := range map[string]func(in *lineage.Inputs){
		"best not a trial": func(in *lineage.Inputs) { in.Best = "0000000000" },
		"history":          func(in *lineage.Inputs) { in.History = "{" },
		"target":           func(in *lineage.Inputs) { in.Target = "high" },
		"goal":             func(in *lineage.Inputs) { in.Goal = "max" },
	} {
		in := sweepRun
		edit(&in)
		_, err := lineage.Build(in)
		assert.Error(t, err, name)
	}
}

// TestSchemaRefuses proves the schema is not vacuous: records a reader
// could not trust fail it.
func TestSchemaRefuses(t *testing.T) {
	r, err := lineage.Build(succeeded)
	require.NoError(t, err)
	good, err := r.Marshal()
	require.NoError(t, err)
	for name, edit := range map[string]func(m map[string]any){
		"apiVersion":                 func(m map[string]any) { m["apiVersion"] = "kiln.dev/lineage/v2" },
		"unknown field":              func(m map[string]any) { m["extra"] = 1 },
		"no run":                     func(m map[string]any) { delete(m, "run") },
		"metric string":              func(m map[string]any) { m["metrics"] = map[string]any{"evaluate.accuracy": "high"} },
		"bad phase":                  func(m map[string]any) { m["run"].(map[string]any)["phase"] = "Running" },
		"bad digest":                 func(m map[string]any) { m["spec"] = map[string]any{"digest": "md5:00"} },
		"neither pipeline nor sweep": func(m map[string]any) { delete(m, "pipeline") },
		"pipeline and sweep": func(m map[string]any) {
			m["sweep"] = map[string]any{"name": "t", "algorithm": "grid", "objective": map[string]any{"metric": "m", "goal": "maximize"}, "trials": []any{}}
		},
	} {
		t.Run(name, func(t *testing.T) {
			var m map[string]any
			require.NoError(t, json.Unmarshal(good, &m))
			edit(m)
			v, err := json.Marshal(m)
			require.NoError(t, err)
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(v))
			require.NoError(t, err)
			assert.Error(t, validator(t).Validate(doc))
		})
	}
}

func TestKey(t *testing.T) {
	assert.Equal(t, "skin-lesion/lineage/derm-ml/skin-lesion/retrain/r1.json", lineage.Key("skin-lesion/", "derm-ml", "skin-lesion", "retrain", "r1"))
	assert.Equal(t, "lineage/ns/s/p/r1.json", lineage.Key("", "ns", "s", "p", "r1"))
}

func TestBuildRefusesMalformedPairs(t *testing.T) {
	for _, in := range []lineage.Inputs{
		{Outputs: []string{"accuracy=1"}},
		{Parameters: []string{"=1"}},
		{Datasets: []string{"isic"}},
	} {
		_, err := lineage.Build(in)
		assert.Error(t, err, "%+v", in)
	}
	// A promotion kiln promote did not write is kept as it is.
	r, err := lineage.Build(lineage.Inputs{Promotions: []string{"promote={not json"}})
	require.NoError(t, err)
	assert.Empty(t, r.Promotions)
	assert.Equal(t, map[string]string{"promote.promotion": "{not json"}, r.Outputs)
}

func TestDatasetVersions(t *testing.T) {
	for uri, want := range map[string]string{
		"s3://b/k/?versionId=abc":   "abc",
		"s3://b/k/":                 "",
		"gs://b/o#1700000000000000": "1700000000000000",
		"gs://b/o#latest":           "",
		"hf://acme/tickets@v2":      "v2",
		"hf://acme/tickets":         "",
		"pvc://claim/data":          "",
	} {
		r, err := lineage.Build(lineage.Inputs{Datasets: []string{"d=" + uri}})
		require.NoError(t, err)
		assert.Equal(t, want, r.Datasets[0].Version, uri)
	}
}
