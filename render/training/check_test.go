package training

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

// want is one expected diagnostic: its CUE path, the line of the spec it
// points at and its message.
type want struct {
	Path string
	Line int
	Msg  string
}

func diagsOf(l diag.List) []want {
	var out []want
	for _, d := range l {
		out = append(out, want{d.Path, d.Pos.Line, d.Msg})
	}
	return out
}

func TestChecks(t *testing.T) {
	long := strings.Repeat("a", 55) // + "-worker-N" is 64 characters
	tests := []struct {
		name  string
		entry string
		// quota and maxPerPod of the one environment, "prod".
		quota, maxPerPod int
		tr               func() *ir.Training
		want             []want
	}{
		{
			name: "quota exceeded", entry: "resnet", quota: 8, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Workers, t.Resources.GPUs = 4, 4
				return t
			},
			want: []want{{"training.resnet", 10, "training.resnet needs 16 GPUs in prod (4 workers × 4); prod allows 8"}},
		},
		{
			name: "no GPU quota", entry: "resnet", quota: 0, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Resources.GPUs = 4
				return t
			},
			want: []want{{"training.resnet", 10, "training.resnet needs 4 GPUs in prod (1 worker × 4); prod has no GPU quota"}},
		},
		{
			name: "no GPU quota, no GPUs", entry: "resnet", quota: 0, maxPerPod: 8,
			tr: func() *ir.Training { return job("pytorch") },
		},
		{
			name: "GPUs per pod", entry: "resnet", quota: 64, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Resources.GPUs = 16
				return t
			},
			want: []want{{"training.resnet.resources.gpus", 14, "training.resnet asks for 16 GPUs per pod; prod allows at most 8 per pod"}},
		},
		{
			name: "GPUs per pod and quota", entry: "resnet", quota: 16, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Workers, t.Resources.GPUs = 2, 10
				return t
			},
			want: []want{
				{"training.resnet", 10, "training.resnet needs 20 GPUs in prod (2 workers × 10); prod allows 16"},
				{"training.resnet.resources.gpus", 14, "training.resnet asks for 10 GPUs per pod; prod allows at most 8 per pod"},
			},
		},
		{
			name: "quota with evaluator", entry: "resnet", quota: 8, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("tensorflow")
				t.Workers, t.Evaluator, t.ParameterServers, t.Resources.GPUs = 2, true, 2, 4
				return t
			},
			want: []want{{"training.resnet", 10, "training.resnet needs 12 GPUs in prod (2 workers + 1 evaluator, × 4 each); prod allows 8"}},
		},
		{
			name: "quota of elastic maximum", entry: "resnet", quota: 8, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Command = torchrun
				t.Workers, t.Resources.GPUs = 2, 4
				t.Elastic = &ir.Elastic{MinReplicas: 1, MaxReplicas: 4, RdzvBackend: "c10d"}
				return t
			},
			want: []want{{"training.resnet", 10, "training.resnet needs 16 GPUs in prod (up to 4 workers × 4); prod allows 8"}},
		},
		{
			name: "quota of MIG slices", entry: "resnet", quota: 8, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Workers, t.Resources.GPUs, t.Resources.MIG = 4, 4, "1g.10gb"
				return t
			},
			want: []want{{"training.resnet", 10, "training.resnet needs 16 MIG 1g.10gb slices in prod (4 workers × 4); prod allows 8"}},
		},
		{
			name: "MPI launcher has no GPUs", entry: "resnet", quota: 8, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("mpi")
				t.Workers, t.Resources.GPUs = 2, 4
				return t
			},
		},
		{
			name: "name not a DNS-1035 label", entry: "ResNet", quota: 8, maxPerPod: 8,
			tr:   func() *ir.Training { return job("pytorch") },
			want: []want{{"training.ResNet", 10, `training job name "ResNet" is not a DNS-1035 label, which the operator needs to name the job's pods and services: use lowercase letters, digits and '-', starting with a letter and ending with a letter or digit`}},
		},
		{
			name: "name starting with a digit", entry: "2resnet", quota: 8, maxPerPod: 8,
			tr:   func() *ir.Training { return job("xgboost") },
			want: []want{{`training."2resnet"`, 10, `training job name "2resnet" is not a DNS-1035 label, which the operator needs to name the job's pods and services: use lowercase letters, digits and '-', starting with a letter and ending with a letter or digit`}},
		},
		{
			name: "underscores become dashes", entry: "resnet_v2", quota: 8, maxPerPod: 8,
			tr: func() *ir.Training { return job("pytorch") },
		},
		{
			name: "name too long for worker pods", entry: long, quota: 8, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Workers = 3
				t.Standalone = new(false) // a template: no hash in its name
				return t
			},
			want: []want{{"training." + long, 10, `training job name "` + long + `" is too long: the operator derives the name "` + long + `-worker-1" (64 characters) from it, and Kubernetes allows 63; shorten the job name by 1 character`}},
		},
		{
			name: "standalone name too long with its content hash", entry: long[:46], quota: 8, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Workers = 3
				return t
			},
			want: []want{{"training." + long[:46], 10, `training job name "` + long[:46] + `" is too long: the operator derives the name "` + long[:46] + `-xxxxxxxx-worker-1" (64 characters) from it (with the 9-character content hash of a standalone job), and Kubernetes allows 63; shorten the job name by 1 character`}},
		},
		{
			name: "standalone name fits with its content hash", entry: long[:45], quota: 8, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Workers = 3
				return t
			},
		},
		{
			name: "name too long at the elastic maximum", entry: long[:54], quota: 8, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Command = torchrun
				t.Workers = 2
				t.Elastic = &ir.Elastic{MinReplicas: 1, MaxReplicas: 11, RdzvBackend: "c10d"}
				t.Standalone = new(false) // a template: no hash in its name
				return t
			},
			want: []want{{"training." + long[:54], 10, `training job name "` + long[:54] + `" is too long: the operator derives the name "` + long[:54] + `-worker-10" (64 characters) from it, and Kubernetes allows 63; shorten the job name by 1 character`}},
		},
		{
			name: "name too long for MPI", entry: long, quota: 8, maxPerPod: 8,
			tr:   func() *ir.Training { t := job("mpi"); t.Standalone = new(false); return t },
			want: []want{{"training." + long, 10, `training job name "` + long + `" is too long: the operator derives the name "` + long + `-worker-0" (64 characters) from it, and Kubernetes allows 63; shorten the job name by 1 character`}},
		},
		{
			name: "name fits", entry: long[:54], quota: 8, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("tensorflow")
				t.Workers = 10
				t.Standalone = new(false) // a template: no hash in its name
				return t
			},
		},
		{
			name: "no workers", entry: "resnet", quota: 8, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Workers = 0
				return t
			},
			want: []want{{"training.resnet.workers", 12, "workers is 0; a training job needs at least 1"}},
		},
		{
			name: "elastic minimum above maximum", entry: "resnet", quota: 8, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Command = torchrun
				t.Workers = 3
				t.Elastic = &ir.Elastic{MinReplicas: 4, MaxReplicas: 2, RdzvBackend: "c10d"}
				return t
			},
			want: []want{{"training.resnet.elastic.minReplicas", 16, "elastic.minReplicas (4) is above elastic.maxReplicas (2)"}},
		},
		{
			name: "workers outside the elastic range", entry: "resnet", quota: 8, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Command = torchrun
				t.Workers = 8
				t.Elastic = &ir.Elastic{MinReplicas: 2, MaxReplicas: 4, RdzvBackend: "c10d"}
				return t
			},
			want: []want{{"training.resnet.workers", 12, "workers (8) must be between elastic.minReplicas (2) and elastic.maxReplicas (4): the job starts with that many workers and scales within the range"}},
		},
		{
			name: "MPI slots above GPUs", entry: "resnet", quota: 16, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("mpi")
				t.Workers, t.Resources.GPUs, t.SlotsPerWorker = 2, 4, 8
				return t
			},
			want: []want{{"training.resnet.slotsPerWorker", 18, "slotsPerWorker is 8 but each worker has 4 GPUs: MPI would start more processes per worker than it has GPUs; use at most 4, or leave slotsPerWorker out for one process per GPU"}},
		},
		{
			name: "MPI slots without GPUs", entry: "resnet", quota: 0, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("mpi")
				t.SlotsPerWorker = 16
				return t
			},
		},
		{
			name: "MPI slots below GPUs", entry: "resnet", quota: 16, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("mpi")
				t.Resources.GPUs, t.SlotsPerWorker = 4, 2
				return t
			},
		},
		{
			name: "nprocPerNode above GPUs", entry: "resnet", quota: 16, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Command = torchrun
				t.Resources.GPUs = 2
				t.NprocPerNode = &ir.Value{RawMessage: json.RawMessage(`4`)}
				return t
			},
			want: []want{{"training.resnet.nprocPerNode", 20, `nprocPerNode is 4 but each worker has 2 GPUs: torchrun would start more processes per worker than it has GPUs; use at most 2, or "gpu" for one process per GPU`}},
		},
		{
			name: "nprocPerNode gpu without GPUs", entry: "resnet", quota: 16, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Command = torchrun
				t.NprocPerNode = &ir.Value{RawMessage: json.RawMessage(`"gpu"`)}
				return t
			},
			want: []want{{"training.resnet.nprocPerNode", 20, `nprocPerNode is "gpu" but the job has no GPUs (resources.gpus is 0), and torchrun fails without one; use "cpu", "auto" or a number`}},
		},
		{
			name: "settings of other frameworks", entry: "resnet", quota: 16, maxPerPod: 8,
			tr: func() *ir.Training {
				t := job("xgboost")
				t.Evaluator = true
				t.ParameterServers = 1
				t.SlotsPerWorker = 2
				t.MPIImplementation = "Intel"
				t.Elastic = &ir.Elastic{MinReplicas: 1, MaxReplicas: 2}
				t.NprocPerNode = &ir.Value{RawMessage: json.RawMessage(`"auto"`)}
				return t
			},
			want: []want{
				{"training.resnet.elastic", 15, `elastic applies only to framework "pytorch", not to "xgboost"`},
				{"training.resnet.nprocPerNode", 20, `nprocPerNode applies only to framework "pytorch", not to "xgboost"`},
				{"training.resnet.parameterServers", 23, `parameterServers applies only to frameworks "tensorflow", "paddle" and "mxnet", not to "xgboost"`},
				{"training.resnet.evaluator", 22, `evaluator applies only to framework "tensorflow", not to "xgboost"`},
				{"training.resnet.slotsPerWorker", 18, `slotsPerWorker applies only to framework "mpi", not to "xgboost"`},
				{"training.resnet.mpiImplementation", 24, `mpiImplementation applies only to framework "mpi", not to "xgboost"`},
			},
		},
		{
			name: "unknown framework", entry: "resnet", quota: 16, maxPerPod: 8,
			tr:   func() *ir.Training { return job("jax") },
			want: []want{{"training.resnet.framework", 11, `framework "jax" is not one kiln renders (pytorch, tensorflow, xgboost, paddle, mxnet, mpi)`}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := environment("prod", tc.quota, tc.maxPerPod, map[string]*ir.Training{tc.entry: tc.tr()})
			res, diags := renderSystem(system(env))
			for _, d := range diags {
				assert.Equal(t, specFile, d.Pos.File, "diagnostic %q", d.Msg)
				assert.Equal(t, diag.Error, d.Severity)
			}
			assert.ElementsMatch(t, tc.want, diagsOf(diags))
			if len(tc.want) == 0 {
				assert.NotNil(t, res)
			} else {
				assert.Nil(t, res, "a system with errors renders nothing")
			}
		})
	}
}

// TestChecksPerEnvironment checks that a problem of one environment names
// it, and that the budget of each environment counts.
func TestChecksPerEnvironment(t *testing.T) {
	mk := func(workers, gpus int) *ir.Training {
		t := job("pytorch")
		t.Workers, t.Resources.GPUs = workers, gpus
		return t
	}
	dev := environment("dev", 8, 8, map[string]*ir.Training{"resnet": mk(1, 1)})
	prod := environment("prod", 8, 8, map[string]*ir.Training{"resnet": mk(4, 4)})
	_, diags := renderSystem(system(dev, prod))
	assert.Equal(t, []want{{"training.resnet", 10, "training.resnet needs 16 GPUs in prod (4 workers × 4); prod allows 8"}}, diagsOf(diags))

	// The same problem everywhere is reported once, without a suffix.
	dev = environment("dev", 8, 8, map[string]*ir.Training{"resnet": mk(0, 0)})
	prod = environment("prod", 8, 8, map[string]*ir.Training{"resnet": mk(0, 0)})
	_, diags = renderSystem(system(dev, prod))
	assert.Equal(t, []want{{"training.resnet.workers", 12, "workers is 0; a training job needs at least 1"}}, diagsOf(diags))
}
