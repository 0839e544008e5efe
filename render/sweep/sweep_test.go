package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/rendertest"
	"github.com/kiln-ml/kiln/validate"
	"github.com/kiln-ml/kiln/validate/validatetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// crdValidator is the validator with the upstream CRDs, loaded once.
func crdValidator(t *testing.T) *validate.Validator { return validatetest.CRDs(t) }

func fp(f float64) *float64  { return &f }
func ip(i int) *int          { return &i }
func val(js string) ir.Value { return ir.Value{RawMessage: json.RawMessage(js)} }

// resnet is the example's training job: 4 workers × 2 GPUs, or one
// single-process worker.
func resnet(workers, gpus int) *ir.Training {
	return &ir.Training{
		Framework:         "pytorch",
		Image:             "ghcr.io/acme/skin-trainer:1.4.2",
		Command:           []string{"python", "-m", "skin.train"},
		Args:              map[string]ir.Value{"epochs": val(`30`), "lr": val(`0.001`), "batch": val(`64`), "arch": val(`"resnet50"`)},
		Datasets:          []string{"isic"},
		Workers:           workers,
		Resources:         ir.Resources{GPUs: gpus, CPU: "8", Memory: "64Gi", SHM: "16Gi"},
		RunPolicy:         ir.RunPolicy{CleanPodPolicy: "Running", BackoffLimit: ip(3)},
		Security:          ir.Security{Profile: "restricted", RunAsUser: 1000, RunAsGroup: 1000, FSGroup: 1000},
		MPIImplementation: "OpenMPI",
	}
}

// sweep is the example's sweep with the schema's defaults.
// queued puts t in a Kueue queue at a priority class.
func queued(t *ir.Training) *ir.Training {
	t.Scheduling = &ir.Scheduling{Queue: "team-derm", PriorityClass: "training-high"}
	return t
}

// nasSweep is a Katib architecture search over the CNN operations of
// Katib's ENAS and DARTS examples.
func nasSweep(alg string) *ir.Sweep {
	sw := newSweep(alg)
	sw.Backend = "katib"
	sw.Parameters = nil
	sw.Objective.Target = nil
	list := func(vs ...string) *ir.SweepParameter {
		p := &ir.SweepParameter{Scale: "linear"}
		for _, v := range vs {
			p.Values = append(p.Values, val(v))
		}
		return p
	}
	switch alg {
	case "enas":
		sw.NAS = &ir.NAS{Layers: 8, InputSizes: []int{32, 32, 3}, OutputSizes: []int{10},
			Operations: map[string]map[string]*ir.SweepParameter{
				"convolution":           {"filter_size": list("3", "5", "7"), "num_filter": list("32", "64", "128"), "stride": list("1", "2")},
				"separable_convolution": {"filter_size": list("3", "5"), "num_filter": list("32", "64"), "stride": list("1"), "depth_multiplier": list("1", "2")},
				"reduction":             {"reduction_type": list(`"max_pooling"`, `"avg_pooling"`), "pool_size": {Min: fp(2), Max: fp(3), Scale: "linear"}},
			},
			Settings: map[string]ir.Value{"controller_train_steps": val("30"), "controller_hidden_size": val("64")},
		}
	case "darts":
		sw.Objective.Metric = "Best-Genotype"
		sw.NAS = &ir.NAS{Layers: 3,
			Operations: map[string]map[string]*ir.SweepParameter{
				"separable_convolution": {"filter_size": list("3", "5")},
				"max_pooling":           {"filter_size": list("3")},
				"skip_connection":       {"filter_size": list("3")},
			},
			Settings: map[string]ir.Value{"num_epochs": val("10"), "init_channels": val("16"), "w_lr": val("0.025")},
		}
	}
	return sw
}

func newSweep(alg string) *ir.Sweep {
	sw := &ir.Sweep{Trial: "resnet", Algorithm: alg, Seed: 1, MaxTrials: 12, Parallel: 2, Backend: "argo"}
	sw.Objective.Metric = "val_accuracy"
	sw.Objective.Goal = "maximize"
	sw.Objective.Target = fp(0.92)
	sw.Objective.AdditionalMetrics = []string{"val_loss"}
	sw.Parameters = map[string]*ir.SweepParameter{
		"lr":    {Min: fp(1e-4), Max: fp(1e-1), Scale: "log"},
		"batch": {Values: []ir.Value{val(`32`), val(`64`), val(`128`)}, Scale: "linear"},
	}
	sw.Metrics.Collector = "stdout"
	sw.Tools.Python = "python:3.12-alpine"
	sw.Tools.Kiln = "ghcr.io/kiln-ml/kiln:v0.1.0"
	sw.TTL = 604800
	return sw
}

const specFile = "spec/system.cue"

// environment runs sweeps over the resnet job in an environment with
// quota GPUs; every sweep field has a line in the fake spec file.
func environment(quota int, t *ir.Training, sweeps map[string]*ir.Sweep) *ir.Environment {
	src := ir.Sources{"": {File: specFile, Line: 1, Col: 1}}
	line := 10
	for name := range sweeps {
		for _, f := range []string{"", "trial", "objective", "objective.metric", "objective.additionalMetrics.0", "algorithm", "parameters", "parameters.lr", "parameters.lr.min", "parameters.lr.max", "parameters.batch", "maxTrials", "parallel", "metrics", "metrics.collector", "backend", "hyperband", "earlyStopping", "schedule"} {
			p := ir.Path("sweeps", name)
			if f != "" {
				p = ir.Join(p, strings.Split(f, ".")...)
			}
			src[p] = diag.Pos{File: specFile, Line: line, Col: 3}
			line++
		}
	}
	return &ir.Environment{
		Name: "prod", Namespace: "derm-ml",
		GPU: ir.GPUPolicy{Quota: quota, MaxPerPod: 8, Products: []string{"NVIDIA-A100-SXM4-80GB"}},
		Spec: &ir.Spec{
			Training: map[string]*ir.Training{"resnet": t},
			Sweeps:   sweeps,
			Datasets: map[string]*ir.Dataset{"isic": {URI: "s3://acme-derm/isic-2020/", Credentials: &ir.SecretRef{Secret: "s3-creds"}, ReadOnly: true}},
		},
		Sources: src,
	}
}

func renderEnv(env *ir.Environment) (*render.Result, diag.List) {
	sys := &ir.System{Name: "skin-lesion", Namespace: "derm-ml", Environments: []*ir.Environment{env}, Dir: "spec", SpecDir: "spec"}
	return render.Render(context.Background(), sys, render.Options{Renderers: []render.Renderer{Renderer{}}})
}

type goldenCase struct {
	t  *ir.Training
	sw *ir.Sweep
	// artifacts gives the environment an artifact repository.
	artifacts bool
	// katib describes the environment's Katib.
	katib *ir.Katib
	// repo is the environment's artifact repository, kiln its images.kiln.
	repo *ir.ArtifactRepository
	kiln string
}

func goldenCases() map[string]goldenCase {
	cases := map[string]goldenCase{}

	// The example: Sobol over a log-scale learning rate and the batch
	// size, single-process trials, weekly.
	sobol := newSweep("sobol")
	sobol.MaxTrials = 8
	sobol.TrialTimeout = "6h"
	sobol.Schedule = &ir.Schedule{Cron: "0 3 * * 1", ConcurrencyPolicy: "Forbid", SuccessfulJobsHistoryLimit: 3, FailedJobsHistoryLimit: 3}
	cases["sobol-single"] = goldenCase{t: resnet(1, 1), sw: sobol, artifacts: true}

	// Distributed trials (4 workers × 2 GPUs): created as PyTorchJobs,
	// metrics from the master's log.
	random := newSweep("random")
	random.MaxFailedTrials = 2
	random.TrialTimeout = "4h"
	cases["random-distributed"] = goldenCase{t: resnet(4, 2), sw: random}

	// The same trials on Kubeflow Trainer v2: each trial is a TrainJob on
	// torch-distributed, and the cleanup deletes the run's TrainJobs.
	v2 := resnet(4, 2)
	v2.API = ir.TrainingV2
	v2.RunPolicy = ir.RunPolicy{} // v1's clean-up policy is an error on v2, and retries need a runtime
	cases["random-trainjob"] = goldenCase{t: v2, sw: newSweep("random")}

	// A grid with a metrics file.
	grid := newSweep("grid")
	grid.Parameters["lr"].Step = fp(10)
	grid.Metrics.Collector = "file"
	grid.Metrics.Path = "/tmp/metrics.txt"
	grid.Objective.Target = nil
	cases["grid-file"] = goldenCase{t: resnet(1, 1), sw: grid}

	// Hyperband over epochs from 3 to 27.
	hb := newSweep("hyperband")
	hb.MaxTrials = 30
	hb.Hyperband = &struct {
		Resource string `json:"resource"`
		Min      int    `json:"min"`
		Max      int    `json:"max"`
		Eta      int    `json:"eta"`
	}{"epochs", 3, 27, 3}
	cases["hyperband"] = goldenCase{t: resnet(1, 1), sw: hb}

	// TPE with the user's suggestion image.
	tpe := newSweep("tpe")
	tpe.Suggestion = &struct {
		Image   string   `json:"image"`
		Command []string `json:"command,omitempty"`
	}{"ghcr.io/acme/optuna-suggest:1.0", []string{"python", "-m", "suggest"}}
	cases["tpe-suggestion"] = goldenCase{t: resnet(1, 1), sw: tpe}

	// TPE with kiln's own suggester, over a job in a Kueue queue.
	cases["tpe-builtin"] = goldenCase{t: queued(resnet(1, 1)), sw: newSweep("tpe")}

	// Katib: random with median stopping over the distributed job.
	katib := newSweep("random")
	katib.Backend = "katib"
	katib.MaxFailedTrials = 3
	katib.EarlyStopping = &struct {
		Median struct {
			MinTrials int  `json:"minTrials"`
			StartStep *int `json:"startStep,omitempty"`
		} `json:"median"`
	}{}
	katib.EarlyStopping.Median.MinTrials = 3
	katib.EarlyStopping.Median.StartStep = ip(5)
	cases["katib-random"] = goldenCase{t: resnet(4, 2), sw: katib}

	// Katib over Trainer v2, on a cluster whose katib-config runs
	// TrainJobs: each trial is a TrainJob (gang-scheduled, so on the
	// entry's own TrainingRuntime), done when Complete, its metrics read
	// from the first node.
	kv2 := resnet(4, 2)
	kv2.API = ir.TrainingV2
	kv2.RunPolicy = ir.RunPolicy{}
	kv2.Scheduling = &ir.Scheduling{Gang: "volcano"}
	ksw := newSweep("random")
	ksw.Backend = "katib"
	cases["katib-trainjob"] = goldenCase{t: kv2, sw: ksw, katib: &ir.Katib{TrainJobs: true}}

	// Neural architecture search with ENAS: the layers pick among
	// convolutions and reductions; each trial gets the architecture and
	// its config as args.
	cases["katib-enas"] = goldenCase{t: resnet(1, 1), sw: nasSweep("enas")}

	// DARTS: one trial searches the whole space; its genotype is read
	// from the log as well as the numeric metrics.
	darts := nasSweep("darts")
	darts.MaxTrials, darts.Parallel = 1, 1
	cases["katib-darts"] = goldenCase{t: resnet(1, 1), sw: darts}

	// Katib Hyperband: the resource becomes a parameter; Katib runs the
	// first rung's 27 trials at once, from 1 epoch.
	khb := newSweep("hyperband")
	khb.Backend = "katib"
	khb.Parallel = 27
	khb.MaxTrials = 60
	khb.Hyperband = &struct {
		Resource string `json:"resource"`
		Min      int    `json:"min"`
		Max      int    `json:"max"`
		Eta      int    `json:"eta"`
	}{"epochs", 1, 27, 3}
	cases["katib-hyperband"] = goldenCase{t: resnet(1, 1), sw: khb}

	// Katib grid with a file collector; a log-scale step becomes a list.
	kgrid := newSweep("grid")
	kgrid.Backend = "katib"
	kgrid.Parameters["lr"].Step = fp(10)
	kgrid.Parameters["layers"] = &ir.SweepParameter{Min: fp(2), Max: fp(4), Scale: "linear"}
	kgrid.MaxTrials = 36
	kgrid.Parallel = 4
	kgrid.Metrics.Collector = "file"
	kgrid.Metrics.Path = "/var/log/katib/metrics.log"
	cases["katib-grid"] = goldenCase{t: resnet(1, 1), sw: kgrid}

	// Lineage: with an S3 artifact repository and a kiln image, the exit
	// handler writes each run's record beside deleting a failed run's
	// distributed trial jobs.
	lin := newSweep("random")
	lin.MaxFailedTrials = 2
	cases["lineage"] = goldenCase{t: resnet(4, 2), sw: lin, kiln: "ghcr.io/acme/kiln:0.1.0",
		repo: &ir.ArtifactRepository{S3: &ir.S3Repository{Bucket: "acme-ml-artifacts", Endpoint: "s3.amazonaws.com", Region: "eu-west-1", KeyPrefix: "skin-lesion"}}}
	return cases
}

func renderCase(t *testing.T, name string, gc goldenCase) []render.Item {
	t.Helper()
	env := environment(64, gc.t, map[string]*ir.Sweep{"resnet-tune": gc.sw})
	if gc.artifacts {
		env.Spec.Artifacts = &ir.ArtifactRepository{}
	}
	if gc.repo != nil {
		env.Spec.Artifacts = gc.repo
	}
	if gc.kiln != "" {
		env.Spec.Images = map[string]string{ir.KilnImage: gc.kiln}
	}
	env.Spec.Katib = gc.katib
	res, diags := renderEnv(env)
	require.Empty(t, diags, "%s", name)
	return res.Environments[0].Items
}

func TestGolden(t *testing.T) {
	// pipeline.yaml is TestPipelineTrials' golden.
	names := []string{"pipeline.yaml"}
	for name, gc := range goldenCases() {
		names = append(names, name+".yaml")
		t.Run(name, func(t *testing.T) {
			rendertest.Golden(t, filepath.Join("testdata", "golden", name+".yaml"), rendertest.Stream(t, renderCase(t, name, gc)), *update)
		})
	}
	rendertest.OnlyGoldens(t, filepath.Join("testdata", "golden"), names, *update)
}

// TestGoldenValidates holds every golden object to the CRDs, Argo's own
// validator (templates and the CronWorkflow's reference resolved
// together) and the restricted profile, trial pods inside Katib's trial
// spec and Argo's resource manifests included.
func TestGoldenValidates(t *testing.T) {
	v := crdValidator(t)
	for name := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "golden", name+".yaml"))
			require.NoError(t, err)
			docs, err := validate.SplitYAML(b)
			require.NoError(t, err)
			all := map[string][]byte{}
			for i, doc := range docs {
				all[strings.Repeat("d", i+1)] = doc
				assert.Empty(t, validate.RestrictedViolations(doc), "restricted profile")
				// The training jobs a workflow creates are strings in
				// resource templates: check them as the API server will
				// see them, with a run's name (one with a dot, as a run
				// submitted by hand may have) put in by Argo's own
				// substitution.
				for _, m := range manifests(t, doc) {
					named := rendertest.Substitute(t, m, map[string]string{"workflow.name": "resnet-tune.by-hand", "inputs.parameters.trial": "08ba8f8cab"})
					named = strings.Replace(named, "metadata:\n", "metadata:\n  namespace: derm-ml\n", 1)
					assert.Empty(t, v.Validate([]byte(named)), "trial job CRD validation")
					var job struct {
						Metadata struct{ Name string } `json:"metadata"`
					}
					require.NoError(t, yaml.Unmarshal([]byte(named), &job))
					// The operators want a DNS-1035 label: no dot.
					assert.Equal(t, "resnet-tune-by-hand-08ba8f8cab", job.Metadata.Name, "trial job's name")
					assert.Empty(t, validate.RestrictedViolations([]byte(named)), "trial job restricted profile")
				}
			}
			assert.Empty(t, v.ValidateAll(all))
		})
	}
}

// TestValidatorCatches makes sure the validation above can fail: a step
// calling a template that does not exist, an output read from a step
// that does not exist, and a pod that may escalate privileges.
func TestValidatorCatches(t *testing.T) {
	v := crdValidator(t)
	b, err := os.ReadFile(filepath.Join("testdata", "golden", "random-distributed.yaml"))
	require.NoError(t, err)
	docs, err := validate.SplitYAML(b)
	require.NoError(t, err)
	var wt []byte
	for _, d := range docs {
		if bytes.Contains(d, []byte("kind: WorkflowTemplate")) {
			wt = d
		}
	}
	require.NotNil(t, wt)
	for _, bad := range []struct{ from, to string }{
		{"template: record\n", "template: recrod\n"},
		{"'{{steps.record.outputs.parameters.history}}'", "'{{steps.recrod.outputs.parameters.history}}'"},
	} {
		mutated := bytes.Replace(wt, []byte(bad.from), []byte(bad.to), 1)
		require.NotEqual(t, wt, mutated, bad.from)
		assert.NotEmpty(t, v.Validate(mutated), "%s → %s", bad.from, bad.to)
	}
	escalate := bytes.ReplaceAll(wt, []byte("allowPrivilegeEscalation: false"), []byte("allowPrivilegeEscalation: true"))
	assert.NotEmpty(t, validate.RestrictedViolations(escalate))
}

// TestDeterministic renders every case twice: same bytes.
func TestDeterministic(t *testing.T) {
	for name, gc := range goldenCases() {
		a, b := renderCase(t, name, gc), renderCase(t, name, gc)
		require.Equal(t, len(a), len(b))
		for i := range a {
			x, err := render.Marshal(a[i].Object)
			require.NoError(t, err)
			y, err := render.Marshal(b[i].Object)
			require.NoError(t, err)
			assert.Equal(t, string(x), string(y), name)
		}
	}
}

// manifests returns the manifests of a workflow's resource templates.
func manifests(t *testing.T, doc []byte) []string {
	var obj struct {
		Kind string `json:"kind"`
		Spec struct {
			Templates []struct {
				Resource *struct {
					Manifest string `json:"manifest"`
				} `json:"resource"`
			} `json:"templates"`
		} `json:"spec"`
	}
	j, err := yaml.YAMLToJSON(doc)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(j, &obj))
	var out []string
	for _, tm := range obj.Spec.Templates {
		if tm.Resource != nil {
			out = append(out, tm.Resource.Manifest)
		}
	}
	return out
}

// BenchmarkPlan expands the largest sweeps kiln allows: 1000 Sobol and
// random trials over six parameters, and a 1000-point grid.
func BenchmarkPlan(b *testing.B) {
	for _, alg := range []string{"sobol", "random", "grid"} {
		sw := newSweep(alg)
		sw.MaxTrials = MaxTrials
		sw.Parameters["lr"].Step = fp(10)
		sw.Parameters["layers"] = &ir.SweepParameter{Min: fp(1), Max: fp(10), Scale: "linear"}
		sw.Parameters["width"] = &ir.SweepParameter{Min: fp(16), Max: fp(512), Scale: "log", Step: fp(2)}
		if alg != "grid" {
			sw.Parameters["dropout"] = &ir.SweepParameter{Min: fp(0), Max: fp(0.5), Scale: "linear"}
			sw.Parameters["opt"] = &ir.SweepParameter{Values: []ir.Value{val(`"adam"`), val(`"sgd"`)}}
		}
		b.Run(alg, func(b *testing.B) {
			for b.Loop() {
				p, err := NewPlan("bench", sw)
				if err != nil {
					b.Fatal(err)
				}
				if len(p.Trials) == 0 {
					b.Fatal("no trials")
				}
			}
		})
	}
}

// Katib refuses most updates to an Experiment, so its name carries a hash
// of its spec: the same spec keeps its name (no flapping), a changed spec
// gets a new one (a new Experiment Argo CD can create).
func TestExperimentNameHashesTheSpec(t *testing.T) {
	spec := ExperimentSpec{MaxTrialCount: 12, ParallelTrialCount: 2}
	a, err := ExperimentName("resnet_tune", spec)
	require.NoError(t, err)
	b, err := ExperimentName("resnet_tune", spec)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.Regexp(t, `^resnet-tune-[0-9a-f]{8}$`, a)
	assert.Len(t, a, len("resnet-tune")+HashLength)

	spec.ParallelTrialCount = 3
	c, err := ExperimentName("resnet_tune", spec)
	require.NoError(t, err)
	assert.NotEqual(t, a, c)
}
