package training

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// value is a hyperparameter as the compiler decodes it.
func value(js string) ir.Value { return ir.Value{RawMessage: json.RawMessage(js)} }

func intp(v int) *int { return &v }

// torchrun is a command that starts PyTorch's launcher.
var torchrun = []string{"torchrun", "--nproc-per-node=gpu", "-m", "train"}

// job is a minimal entry with the schema's defaults.
func job(framework string) *ir.Training {
	return &ir.Training{
		Framework:         framework,
		Image:             "ghcr.io/acme/trainer:1.4.2",
		Command:           []string{"python", "-m", "train"},
		Workers:           1,
		MPIImplementation: "OpenMPI",
		Security:          ir.Security{Profile: "restricted", RunAsUser: 1000, RunAsGroup: 1000, FSGroup: 1000},
	}
}

// Lines of the fake spec file the sources of an entry point at.
var fieldLines = map[string]int{
	"":                                  10,
	"framework":                         11,
	"workers":                           12,
	"resources":                         13,
	"resources.gpus":                    14,
	"elastic":                           15,
	"elastic.minReplicas":               16,
	"elastic.maxReplicas":               17,
	"slotsPerWorker":                    18,
	"nprocPerNode":                      20,
	"evaluator":                         22,
	"parameterServers":                  23,
	"mpiImplementation":                 24,
	"datasets":                          25,
	"datasets.1":                        26,
	"runPolicy.ttlSecondsAfterFinished": 27,
	"resources.mig":                     28,
	"resources.gpuProduct":              29,
}

const specFile = "spec/training.cue"

// environment is an environment with a GPU budget running entries.
func environment(name string, quota, maxPerPod int, training map[string]*ir.Training) *ir.Environment {
	src := ir.Sources{"": {File: "spec/system.cue", Line: 1, Col: 1}}
	for entry := range training {
		for field, line := range fieldLines {
			p := ir.Path("training", entry)
			if field != "" {
				p = ir.Join(p, strings.Split(field, ".")...)
			}
			src[p] = diag.Pos{File: specFile, Line: line, Col: 3}
		}
	}
	return &ir.Environment{
		Name:      name,
		Namespace: "derm-ml",
		GPU:       ir.GPUPolicy{Quota: quota, MaxPerPod: maxPerPod, Products: []string{"NVIDIA-A100-SXM4-80GB"}},
		Spec: &ir.Spec{
			Training: training,
			Datasets: map[string]*ir.Dataset{
				"isic":   {URI: "s3://acme-derm/isic-2020/", Credentials: &ir.SecretRef{Secret: "s3-creds"}, ReadOnly: true},
				"shards": {URI: "pvc://derm-shards/v3", ReadOnly: true},
			},
		},
		Sources: src,
	}
}

func system(envs ...*ir.Environment) *ir.System {
	return &ir.System{Name: "skin-lesion", Namespace: "derm-ml", Environments: envs, Dir: "spec", SpecDir: "spec"}
}

func renderSystem(sys *ir.System) (*render.Result, diag.List) {
	return render.Render(context.Background(), sys, render.Options{Renderers: []render.Renderer{Renderer{}}})
}

// goldenCases are the entries whose output is kept in testdata/golden.
func goldenCases() map[string]*ir.Training {
	cases := map[string]*ir.Training{}

	// PyTorch: master + 3 workers with GPUs, shm, datasets, env,
	// hyperparameters and a run policy.
	pt := job("pytorch")
	pt.Workers = 4
	pt.Resources = ir.Resources{GPUs: 2, CPU: "8", Memory: "64Gi", SHM: "16Gi", EphemeralStorage: "100Gi"}
	pt.Command = torchrun
	pt.NprocPerNode = &ir.Value{RawMessage: json.RawMessage(`"gpu"`)}
	pt.Args = map[string]ir.Value{"epochs": value(`30`), "lr": value(`0.001`), "arch": value(`"resnet50"`)}
	pt.ExtraArgs = []string{"--amp"}
	pt.Env = map[string]ir.EnvVar{"WANDB_PROJECT": {Value: "derm"}, "WANDB_API_KEY": {Secret: &ir.SecretRef{Secret: "wandb", Key: "api-key"}}}
	pt.Datasets = []string{"isic", "shards"}
	pt.ImagePullSecrets = []string{"ghcr"}
	pt.RunPolicy = ir.RunPolicy{CleanPodPolicy: "Running", BackoffLimit: intp(3), ActiveDeadlineSeconds: intp(86400), TTLSecondsAfterFinished: intp(3600)}
	cases["pytorch"] = pt

	// Elastic PyTorch: workers only, between 2 and 4.
	el := job("pytorch")
	el.Workers = 2
	el.Resources = ir.Resources{GPUs: 1, CPU: "4", Memory: "32Gi"}
	el.Command = []string{"python", "-m", "torch.distributed.run", "-m", "train"}
	el.NprocPerNode = &ir.Value{RawMessage: json.RawMessage(`1`)}
	el.Elastic = &ir.Elastic{MinReplicas: 2, MaxReplicas: 4, MaxRestarts: intp(10), RdzvBackend: "c10d"}
	cases["pytorch-elastic"] = el

	// MIG slices instead of whole GPUs, on a pinned product.
	mig := job("pytorch")
	mig.Workers = 2
	mig.Resources = ir.Resources{GPUs: 1, MIG: "1g.10gb", GPUProduct: "NVIDIA-A100-PCIE-40GB", CPU: "2", Memory: "16Gi"}
	cases["pytorch-mig"] = mig

	// Gang-scheduled with Volcano, queued in Kueue, with a priority class.
	gang := job("pytorch")
	gang.Workers = 2
	gang.Resources = ir.Resources{GPUs: 4, CPU: "16", Memory: "128Gi"}
	gang.Scheduling = &ir.Scheduling{Gang: "volcano", Queue: "team-derm", PriorityClass: "training-high"}
	cases["pytorch-gang-kueue"] = gang

	// TensorFlow: chief, 2 workers, 2 parameter servers, an evaluator.
	tf := job("tensorflow")
	tf.Workers = 3
	tf.ParameterServers = 2
	tf.Evaluator = true
	tf.Resources = ir.Resources{GPUs: 1, CPU: "4", Memory: "16Gi", SHM: "2Gi"}
	tf.Scheduling = &ir.Scheduling{Queue: "team-derm"}
	cases["tensorflow"] = tf

	// XGBoost on CPUs, gang-scheduled with coscheduling.
	xgb := job("xgboost")
	xgb.Workers = 3
	xgb.Resources = ir.Resources{CPU: "8", Memory: "32Gi"}
	xgb.Datasets = []string{"isic"}
	xgb.Scheduling = &ir.Scheduling{Gang: "coscheduling"}
	cases["xgboost"] = xgb

	// Paddle: collective mode (workers only).
	pd := job("paddle")
	pd.Workers = 2
	pd.Resources = ir.Resources{GPUs: 2, CPU: "8", Memory: "32Gi"}
	cases["paddle"] = pd

	// Paddle: parameter-server mode (Master replicas are the servers).
	pdps := job("paddle")
	pdps.Workers = 2
	pdps.ParameterServers = 2
	pdps.Resources = ir.Resources{CPU: "4", Memory: "8Gi"}
	cases["paddle-ps"] = pdps

	// MXNet: scheduler, one server, two workers.
	mx := job("mxnet")
	mx.Workers = 2
	mx.Resources = ir.Resources{GPUs: 1, CPU: "4", Memory: "16Gi"}
	cases["mxnet"] = mx

	// MPI (OpenMPI, non-root): launcher + 2 workers × 4 GPUs; slots
	// default to the GPUs; the launcher waits for ready workers.
	mpi := job("mpi")
	mpi.Workers = 2
	mpi.Command = []string{"mpirun", "--bind-to", "none", "python", "train.py"}
	mpi.Resources = ir.Resources{GPUs: 4, CPU: "32", Memory: "256Gi", SHM: "32Gi"}
	mpi.Datasets = []string{"shards"}
	mpi.RunPolicy = ir.RunPolicy{CleanPodPolicy: "Running", BackoffLimit: intp(2)}
	cases["mpi"] = mpi

	// MPI gang-scheduled (launcher in the gang, created at startup), Intel
	// MPI, explicit slots, baseline security (root sshd).
	mpig := job("mpi")
	mpig.Workers = 3
	mpig.MPIImplementation = "Intel"
	mpig.SlotsPerWorker = 2
	mpig.Resources = ir.Resources{GPUs: 2, CPU: "16", Memory: "64Gi"}
	mpig.Scheduling = &ir.Scheduling{Gang: "volcano", PriorityClass: "training-high"}
	mpig.Security = ir.Security{Profile: "baseline", RunAsUser: 1000, RunAsGroup: 1000, FSGroup: 1000}
	mpig.RunPolicy.Suspend = true
	cases["mpi-gang-baseline"] = mpig

	// MPI with an image laid out otherwise (Horovod's, UID 1001): the
	// keys and sshd come from the entry, still restricted.
	mpis := job("mpi")
	mpis.Workers = 2
	mpis.Command = []string{"horovodrun", "-np", "4", "python", "train.py"}
	mpis.Resources = ir.Resources{GPUs: 2, CPU: "8", Memory: "32Gi"}
	mpis.Security.RunAsUser, mpis.Security.RunAsGroup, mpis.Security.FSGroup = 1001, 1001, 1001
	mpis.SSH = &ir.SSH{AuthMountPath: "/home/horovod/.ssh", WorkerCommand: []string{"/usr/sbin/sshd", "-De", "-f", "/home/horovod/.sshd_config", "-p", "2222"}}
	cases["mpi-custom-ssh"] = mpis

	// Trainer v2: the PyTorch entry above as a TrainJob on
	// torch-distributed, queued in Kueue, without the v1-only run policy.
	v2 := *pt
	v2.API = ir.TrainingV2
	v2.RunPolicy = ir.RunPolicy{ActiveDeadlineSeconds: intp(86400)}
	v2.Scheduling = &ir.Scheduling{Queue: "team-derm"}
	v2.Resources.GPUProduct = "NVIDIA-H100-80GB-HBM3"
	cases["trainjob-pytorch"] = &v2

	// Trainer v2 DeepSpeed: an mpi entry on deepspeed-distributed (its
	// launcher job runs as a node and is patched too), 2 nodes × 8 GPUs.
	ds := job("mpi")
	ds.API = ir.TrainingV2
	ds.Runtime = "deepspeed-distributed"
	ds.Workers = 2
	ds.Command = []string{"deepspeed", "--hostfile=/etc/mpi/hostfile", "train.py"}
	ds.Resources = ir.Resources{GPUs: 8, CPU: "64", Memory: "512Gi", SHM: "64Gi"}
	ds.Datasets = []string{"shards"}
	cases["trainjob-deepspeed"] = ds

	// Trainer v2 XGBoost on CPUs, suspended until someone resumes it.
	xv2 := job("xgboost")
	xv2.API = ir.TrainingV2
	xv2.Workers = 3
	xv2.Resources = ir.Resources{CPU: "8", Memory: "32Gi"}
	xv2.Datasets = []string{"isic"}
	xv2.RunPolicy.Suspend = true
	cases["trainjob-xgboost"] = xv2

	// Trainer v2 fine-tune on a torchtune runtime: its initializer jobs
	// fetch the S3 dataset (with its credentials) and a gated Hugging
	// Face model, and run restricted like the nodes.
	tt := job("pytorch")
	tt.API = ir.TrainingV2
	tt.Runtime = "torchtune-llama3.2-1b"
	tt.Image = ""
	tt.Command = nil
	tt.Workers = 1
	tt.Resources = ir.Resources{GPUs: 2, CPU: "16", Memory: "128Gi", SHM: "16Gi"}
	tt.Initializers = &ir.Initializers{Dataset: "isic", Model: "hf://meta-llama/Llama-3.2-1B-Instruct", ModelCredentials: "hf-token"}
	cases["trainjob-torchtune"] = tt

	// Trainer v2 with what a runtime patch cannot set: gang-scheduled with
	// Volcano at a priority, retried and cleaned up after a day, on a
	// TrainingRuntime kiln derives from torch-distributed.
	own := job("pytorch")
	own.API = ir.TrainingV2
	own.Workers = 2
	own.Command = torchrun
	own.Resources = ir.Resources{GPUs: 4, CPU: "16", Memory: "128Gi", SHM: "8Gi"}
	own.Scheduling = &ir.Scheduling{Gang: "volcano", Queue: "team-derm", PriorityClass: "training-high"}
	own.RunPolicy = ir.RunPolicy{BackoffLimit: intp(2), TTLSecondsAfterFinished: intp(86400)}
	cases["trainjob-own-runtime"] = own

	// Trainer v2 MPI with an image laid out otherwise, coscheduling and a
	// priority, on a TrainingRuntime derived from deepspeed-distributed.
	ownMPI := job("mpi")
	ownMPI.API = ir.TrainingV2
	ownMPI.Runtime = "deepspeed-distributed"
	ownMPI.Workers = 2
	ownMPI.Command = []string{"deepspeed", "--hostfile=/etc/mpi/hostfile", "train.py"}
	ownMPI.Resources = ir.Resources{GPUs: 8, CPU: "64", Memory: "512Gi", SHM: "64Gi"}
	ownMPI.Security.RunAsUser, ownMPI.Security.RunAsGroup, ownMPI.Security.FSGroup = 1001, 1001, 1001
	ownMPI.SSH = &ir.SSH{AuthMountPath: "/home/horovod/.ssh", WorkerCommand: []string{"/usr/sbin/sshd", "-De", "-f", "/home/horovod/.sshd_config", "-p", "2222"}}
	ownMPI.Scheduling = &ir.Scheduling{Gang: "coscheduling", PriorityClass: "training-high"}
	cases["trainjob-own-runtime-mpi"] = ownMPI

	// Trainer v2 on torch-distributed with a dataset and a model to
	// fetch: kiln adds the initializer jobs to a runtime of the entry's
	// own, with a ReadWriteMany volume the two nodes mount at /workspace.
	ini := job("pytorch")
	ini.API = ir.TrainingV2
	ini.Workers = 2
	ini.Command = torchrun
	ini.Resources = ir.Resources{GPUs: 8, CPU: "32", Memory: "256Gi", SHM: "32Gi"}
	ini.Initializers = &ir.Initializers{Dataset: "isic", Model: "hf://meta-llama/Llama-3.1-8B-Instruct", ModelCredentials: "hf-token",
		Storage: ir.InitializerStorage{Size: "200Gi", Class: "shared-rwx"}}
	cases["trainjob-initializers"] = ini
	return cases
}

func TestGolden(t *testing.T) {
	var names []string
	for name, tr := range goldenCases() {
		names = append(names, name+".yaml")
		t.Run(name, func(t *testing.T) {
			entry := "resnet"
			env := environment("prod", 64, 8, map[string]*ir.Training{entry: tr})
			res, diags := renderSystem(system(env))
			require.Empty(t, diags)
			require.Len(t, res.Environments, 1)
			items := res.Environments[0].Items
			want := 1
			if tr.API == ir.TrainingV2 && NeedsOwnRuntime(tr) {
				want = 2 // the TrainJob and its runtime
			}
			require.Len(t, items, want)

			rendertest.Golden(t, filepath.Join("testdata", "golden", name+".yaml"), rendertest.Stream(t, items), *update)
		})
	}
	rendertest.OnlyGoldens(t, filepath.Join("testdata", "golden"), names, *update)
}

// TestGoldenValidates holds every golden object to the operators' CRDs
// and, for restricted entries, to the restricted Pod Security Standard.
func TestGoldenValidates(t *testing.T) {
	v := crdValidator(t)
	for name, tr := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "golden", name+".yaml"))
			require.NoError(t, err)
			docs, err := validate.SplitYAML(b)
			require.NoError(t, err)
			require.NotEmpty(t, docs)
			for _, doc := range docs {
				assert.Empty(t, v.Validate(doc), "CRD validation")
				if tr.Security.Restricted() {
					assert.Empty(t, validate.RestrictedViolations(doc), "restricted profile")
				}
			}
		})
	}
}

// TestTopology checks the replica layout and gang size of each framework.
func TestTopology(t *testing.T) {
	type rep struct {
		Type  string
		Count int
	}
	tests := []struct {
		name   string
		tr     func() *ir.Training
		want   []rep
		gang   int
		object string
	}{
		{"pytorch single", func() *ir.Training { return job("pytorch") }, []rep{{"Master", 1}}, 1, "PyTorchJob"},
		{"pytorch 4", func() *ir.Training { t := job("pytorch"); t.Workers = 4; return t }, []rep{{"Master", 1}, {"Worker", 3}}, 4, "PyTorchJob"},
		{"pytorch elastic", func() *ir.Training {
			t := job("pytorch")
			t.Workers = 3
			t.Elastic = &ir.Elastic{MinReplicas: 2, MaxReplicas: 5}
			return t
		}, []rep{{"Worker", 3}}, 2, "PyTorchJob"},
		{"tensorflow", func() *ir.Training {
			t := job("tensorflow")
			t.Workers = 2
			t.ParameterServers = 3
			t.Evaluator = true
			return t
		}, []rep{{"Chief", 1}, {"Worker", 1}, {"PS", 3}, {"Evaluator", 1}}, 6, "TFJob"},
		{"xgboost", func() *ir.Training { t := job("xgboost"); t.Workers = 2; return t }, []rep{{"Master", 1}, {"Worker", 1}}, 2, "XGBoostJob"},
		{"paddle collective", func() *ir.Training { t := job("paddle"); t.Workers = 2; return t }, []rep{{"Worker", 2}}, 2, "PaddleJob"},
		{"paddle ps", func() *ir.Training { t := job("paddle"); t.Workers = 2; t.ParameterServers = 1; return t }, []rep{{"Master", 1}, {"Worker", 2}}, 3, "PaddleJob"},
		{"mxnet", func() *ir.Training { t := job("mxnet"); t.Workers = 2; return t }, []rep{{"Scheduler", 1}, {"Server", 1}, {"Worker", 2}}, 4, "MXJob"},
		{"mxnet servers", func() *ir.Training { t := job("mxnet"); t.ParameterServers = 2; return t }, []rep{{"Scheduler", 1}, {"Server", 2}, {"Worker", 1}}, 4, "MXJob"},
		{"mpi", func() *ir.Training { t := job("mpi"); t.Workers = 4; return t }, []rep{{"Launcher", 1}, {"Worker", 4}}, 5, "MPIJob"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := tc.tr()
			var got []rep
			for _, r := range Topology(tr) {
				got = append(got, rep{r.Type, r.Count})
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.gang, MinAvailable(tr))
			obj := Job(&ir.System{Name: "s"}, environment("dev", 8, 8, nil), "j", tr)
			require.NotNil(t, obj)
			assert.Equal(t, tc.object, obj.GetObjectKind().GroupVersionKind().Kind)
			k, ok := KindOf(tr.Framework)
			require.True(t, ok)
			assert.Equal(t, k.Kind, tc.object)
		})
	}
}

// TestKindsCoverSchema keeps the kinds in step with the schema's frameworks.
func TestKindsCoverSchema(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "schema", "training.cue"))
	if err != nil {
		t.Skipf("schema not readable: %v", err)
	}
	line := regexp.MustCompile(`framework!:\s*(.*)`).FindSubmatch(b)
	require.NotNil(t, line, "no framework field in schema/training.cue")
	fws := regexp.MustCompile(`"([a-z0-9]+)"`).FindAllSubmatch(line[1], -1)
	require.NotEmpty(t, fws)
	var names []string
	for _, m := range fws {
		names = append(names, string(m[1]))
	}
	sort.Strings(names)
	var frameworks []string
	for fw := range kinds {
		frameworks = append(frameworks, fw)
	}
	sort.Strings(frameworks)
	assert.Equal(t, names, frameworks)
}

// TestValidatorIsStrict makes sure the CRD and restricted-profile checks
// above would catch something: an unknown field, a field of the wrong type
// and a baseline pod.
func TestValidatorIsStrict(t *testing.T) {
	v := crdValidator(t)
	b, err := os.ReadFile(filepath.Join("testdata", "golden", "pytorch.yaml"))
	require.NoError(t, err)
	unknown := bytes.Replace(b, []byte("spec:\n  nprocPerNode: gpu\n"), []byte("spec:\n  nprocPerNode: gpu\n  workers: 4\n"), 1)
	require.NotEqual(t, b, unknown)
	assert.NotEmpty(t, v.Validate(unknown), "unknown field spec.workers")
	wrongType := bytes.Replace(b, []byte("replicas: 3"), []byte("replicas: three"), 1)
	require.NotEqual(t, b, wrongType)
	assert.NotEmpty(t, v.Validate(wrongType), "replicas is a string")

	b, err = os.ReadFile(filepath.Join("testdata", "golden", "mpi-gang-baseline.yaml"))
	require.NoError(t, err)
	assert.NotEmpty(t, validate.RestrictedViolations(b), "baseline pods run as the image's user")
}

// TestRenders: Renders says whether Job renders an entry, for every
// framework, an unknown one, and Trainer v2 with and without a runtime.
func TestRenders(t *testing.T) {
	sys := &ir.System{Name: "s", Namespace: "ns"}
	for _, api := range []string{ir.TrainingV1, ir.TrainingV2} {
		for _, fw := range []string{"pytorch", "tensorflow", "xgboost", "paddle", "mxnet", "mpi", "jax", "bogus"} {
			for _, runtime := range []string{"", "custom-runtime"} {
				env := &ir.Environment{Name: "dev", Namespace: "ns", Spec: &ir.Spec{}}
				tr := &ir.Training{Framework: fw, API: api, Runtime: runtime, Image: "i", Workers: 2}
				assert.Equal(t, Job(sys, env, "job", tr) != nil, Renders(env, tr), "%s %s runtime %q", api, fw, runtime)
			}
		}
	}
}

// A training entry that a pipeline step (its component lowered by the
// compiler) or a sweep runs is a template for their runs: it is not rendered on its
// own unless the entry asks for it.
func TestStandalone(t *testing.T) {
	yes, no := true, false
	spec := func() *ir.Spec {
		return &ir.Spec{
			Training: map[string]*ir.Training{"resnet": job("pytorch"), "bert": job("pytorch"), "gbm": job("xgboost")},
			Pipelines: map[string]*ir.Pipeline{"retrain": {Steps: map[string]*ir.Step{
				"train":  {Training: "resnet"},
				"fit":    {Component: "fit", Training: "bert"},
				"report": {Image: "tools:1"},
			}}},
			Sweeps: map[string]*ir.Sweep{"tune": {Trial: "resnet"}},
		}
	}
	s := spec()
	assert.Equal(t, []string{"pipelines.retrain.steps.train", "sweeps.tune"}, UsedBy(s, "resnet"))
	assert.Equal(t, []string{"pipelines.retrain.steps.fit"}, UsedBy(s, "bert"))
	assert.Empty(t, UsedBy(s, "gbm"))

	assert.False(t, Standalone(s, "resnet", s.Training["resnet"]))
	assert.False(t, Standalone(s, "bert", s.Training["bert"]))
	assert.True(t, Standalone(s, "gbm", s.Training["gbm"]))
	s.Training["resnet"].Standalone = &yes
	s.Training["gbm"].Standalone = &no
	assert.True(t, Standalone(s, "resnet", s.Training["resnet"]))
	assert.False(t, Standalone(s, "gbm", s.Training["gbm"]))

	// Rendered: only the standalone entries become jobs.
	s = spec()
	env := environment("dev", 64, 8, s.Training)
	env.Spec.Pipelines, env.Spec.Sweeps = s.Pipelines, s.Sweeps
	res, diags := renderSystem(system(env))
	require.False(t, diags.HasErrors(), "%v", diags)
	var names []string
	for _, it := range res.Environments[0].Items {
		names = append(names, it.Object.GetName())
	}
	require.Len(t, names, 1)
	assert.Regexp(t, `^gbm-[0-9a-f]{8}$`, names[0], "a standalone job's name ends in its content hash")
}
