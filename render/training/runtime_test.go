package training

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/validate"
)

// renderOne renders one entry, resnet, in an environment "prod" with 64
// GPUs, and returns the diagnostics and the rendered objects.
func renderOne(t *testing.T, tr *ir.Training, edit ...func(*ir.System)) (diag.List, []render.Item) {
	t.Helper()
	env := environment("prod", 64, 8, map[string]*ir.Training{"resnet": tr})
	sys := system(env)
	for _, e := range edit {
		e(sys)
	}
	res, diags := renderSystem(sys)
	if res == nil {
		return diags, nil
	}
	return diags, res.Environments[0].Items
}

// runPolicyOf returns the run policy of a rendered job.
func runPolicyOf(t *testing.T, obj render.Object) RunPolicy {
	t.Helper()
	b, err := json.Marshal(obj)
	require.NoError(t, err)
	var j struct {
		Spec struct {
			RunPolicy RunPolicy `json:"runPolicy"`
		} `json:"spec"`
	}
	require.NoError(t, json.Unmarshal(b, &j))
	return j.Spec.RunPolicy
}

// The MPI operator's images give sshd the file capability
// cap_net_bind_service; the kernel will not exec it with an empty
// bounding set. Every worker container must keep exactly that capability
// (and still meet restricted); the launcher needs none.
func TestMPIWorkersCanExecSSHD(t *testing.T) {
	tr := job("mpi")
	tr.Workers = 2
	tr.Resources.GPUs = 4
	diags, items := renderOne(t, tr)
	require.Empty(t, diags)
	require.Len(t, items, 1)
	mj := items[0].Object.(*MPIJob)

	w := mj.Spec.MPIReplicaSpecs["Worker"].Template.Spec.Containers[0]
	require.NotNil(t, w.SecurityContext.Capabilities)
	assert.Equal(t, []corev1.Capability{"ALL"}, w.SecurityContext.Capabilities.Drop)
	assert.Equal(t, []corev1.Capability{"NET_BIND_SERVICE"}, w.SecurityContext.Capabilities.Add, "sshd cannot exec without cap_net_bind_service in the bounding set")
	l := mj.Spec.MPIReplicaSpecs["Launcher"].Template.Spec.Containers[0]
	assert.Empty(t, l.SecurityContext.Capabilities.Add, "the launcher adds nothing")

	doc, err := render.Marshal(mj)
	require.NoError(t, err)
	assert.Empty(t, validate.RestrictedViolations(doc), "restricted allows adding back NET_BIND_SERVICE")

	// Other frameworks add nothing.
	diags, items = renderOne(t, job("pytorch"))
	require.Empty(t, diags)
	pt := items[0].Object.(*PyTorchJob)
	assert.Empty(t, pt.Spec.PyTorchReplicaSpecs["Master"].Template.Spec.Containers[0].SecurityContext.Capabilities.Add)
}

// An MPIJob whose workers never get ready never gets its launcher: its run
// time is bounded unless the entry bounds it itself. Other jobs are left
// to their entry.
func TestMPIRunTimeIsBounded(t *testing.T) {
	_, items := renderOne(t, job("mpi"))
	rp := runPolicyOf(t, items[0].Object)
	require.NotNil(t, rp.ActiveDeadlineSeconds, "an MPIJob without a deadline can hold its GPUs for ever")
	assert.Equal(t, int64(MPIActiveDeadline), *rp.ActiveDeadlineSeconds)

	tr := job("mpi")
	tr.RunPolicy.ActiveDeadlineSeconds = intp(3600)
	_, items = renderOne(t, tr)
	assert.Equal(t, int64(3600), *runPolicyOf(t, items[0].Object).ActiveDeadlineSeconds, "the entry's deadline wins")

	_, items = renderOne(t, job("pytorch"))
	assert.Nil(t, runPolicyOf(t, items[0].Object).ActiveDeadlineSeconds)
}

// Replicas that never exit on their own (parameter servers, evaluators,
// MXNet's scheduler and servers, MPI workers running sshd), and anything
// holding GPUs, must be cleaned up when the job finishes; the entry's own
// choice is kept.
func TestCleanPodPolicyDefaults(t *testing.T) {
	mk := func(fw string, edit func(*ir.Training)) *ir.Training {
		tr := job(fw)
		tr.Workers = 2
		if edit != nil {
			edit(tr)
		}
		return tr
	}
	gpus := func(tr *ir.Training) { tr.Resources.GPUs = 1 }
	tests := []struct {
		name string
		tr   *ir.Training
		want string
	}{
		{"pytorch on CPUs", mk("pytorch", nil), "None"},
		{"pytorch with GPUs", mk("pytorch", gpus), "Running"},
		{"xgboost on CPUs", mk("xgboost", nil), "None"},
		{"tensorflow with parameter servers", mk("tensorflow", func(tr *ir.Training) { tr.ParameterServers = 2 }), "Running"},
		{"tensorflow with an evaluator", mk("tensorflow", func(tr *ir.Training) { tr.Evaluator = true }), "Running"},
		{"tensorflow workers only", mk("tensorflow", nil), "None"},
		{"paddle collective", mk("paddle", nil), "None"},
		{"paddle parameter servers", mk("paddle", func(tr *ir.Training) { tr.ParameterServers = 1 }), "Running"},
		{"mxnet", mk("mxnet", nil), "Running"},
		{"mpi", mk("mpi", nil), "Running"},
		{"explicit None with GPUs", mk("pytorch", func(tr *ir.Training) { gpus(tr); tr.RunPolicy.CleanPodPolicy = "None" }), "None"},
		{"explicit All", mk("tensorflow", func(tr *ir.Training) { tr.ParameterServers = 1; tr.RunPolicy.CleanPodPolicy = "All" }), "All"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			diags, items := renderOne(t, tc.tr)
			require.Empty(t, diags)
			assert.Equal(t, tc.want, runPolicyOf(t, items[0].Object).CleanPodPolicy)
		})
	}
}

func withGitOps(selfHeal bool) func(*ir.System) {
	return func(sys *ir.System) {
		sys.GitOps = &ir.GitOps{RepoURL: "https://git.example/deploy.git", TargetRevision: "main", Path: "deploy"}
		for _, e := range sys.Environments {
			e.Sync = ir.SyncPolicy{Automated: true, Prune: true, SelfHeal: selfHeal}
		}
	}
}

// A standalone job synced by Argo CD runs once per content: its name
// changes exactly when the job does, nothing deletes it behind Argo CD's
// back (no TTL), and self-healing, which re-creates deleted jobs, is
// pointed out.
func TestStandaloneJobsUnderArgoCD(t *testing.T) {
	name := func(tr *ir.Training) string {
		t.Helper()
		diags, items := renderOne(t, tr, withGitOps(false))
		require.Empty(t, diags)
		require.Len(t, items, 1)
		assert.Nil(t, runPolicyOf(t, items[0].Object).TTLSecondsAfterFinished, "a TTL deletes the job and Argo CD creates it again")
		assert.Equal(t, "resnet", items[0].Origin.Name, "the name label stays the entry's")
		return items[0].Object.GetName()
	}
	base := name(job("pytorch"))
	assert.Regexp(t, `^resnet-[0-9a-f]{8}$`, base)
	assert.Equal(t, base, name(job("pytorch")), "an unchanged job keeps its name")
	changed := job("pytorch")
	changed.Image = "ghcr.io/acme/trainer:1.4.3"
	assert.NotEqual(t, base, name(changed), "a changed job is a new job")
	args := job("pytorch")
	args.Args = map[string]ir.Value{"lr": value(`0.01`)}
	assert.NotEqual(t, base, name(args))

	// A TTL the entry sets is refused, at its position.
	tr := job("pytorch")
	tr.RunPolicy.TTLSecondsAfterFinished = intp(86400)
	diags, _ := renderOne(t, tr, withGitOps(false))
	require.Len(t, diags, 1)
	assert.Equal(t, diag.Error, diags[0].Severity)
	assert.Equal(t, "training.resnet.runPolicy.ttlSecondsAfterFinished", diags[0].Path)
	assert.Equal(t, 27, diags[0].Pos.Line)
	assert.Contains(t, diags[0].Msg, "Argo CD creates it again")

	// Without Argo CD, or for a template a pipeline runs, the TTL stays.
	_, items := renderOne(t, tr)
	assert.Equal(t, int32(86400), *runPolicyOf(t, items[0].Object).TTLSecondsAfterFinished)
	tmpl := job("pytorch")
	tmpl.Standalone = new(false)
	tmpl.RunPolicy.TTLSecondsAfterFinished = intp(86400)
	diags, items = renderOne(t, tmpl, withGitOps(true))
	assert.Empty(t, diags)
	assert.Empty(t, items)

	// selfHeal re-creates a deleted job: a warning, not an error.
	diags, items = renderOne(t, job("pytorch"), withGitOps(true))
	require.Len(t, diags, 1)
	assert.Equal(t, diag.Warning, diags[0].Severity)
	assert.Equal(t, "training.resnet", diags[0].Path)
	assert.Contains(t, diags[0].Msg, "self-heals")
	assert.Len(t, items, 1)
	// Self-healing needs automated sync.
	diags, _ = renderOne(t, job("pytorch"), withGitOps(true), func(sys *ir.System) { sys.Environments[0].Sync.Automated = false })
	assert.Empty(t, diags)
}

// The training operator passes nprocPerNode and the elastic rendezvous on
// only to torchrun.
func TestTorchrunWarnings(t *testing.T) {
	nproc := &ir.Value{RawMessage: json.RawMessage(`"gpu"`)}
	tests := []struct {
		name    string
		command []string
		elastic bool
		want    []string
	}{
		{"python with nprocPerNode", []string{"python", "-m", "train"}, false, []string{"training.resnet.nprocPerNode"}},
		{"python, elastic", []string{"python", "train.py"}, true, []string{"training.resnet.elastic", "training.resnet.nprocPerNode"}},
		{"torchrun", []string{"torchrun", "train.py"}, true, nil},
		{"torchrun by path", []string{"/opt/conda/bin/torchrun", "train.py"}, false, nil},
		{"python -m torch.distributed.run", []string{"python3", "-m", "torch.distributed.run", "train.py"}, true, nil},
		{"in a shell", []string{"sh", "-c", "pip install -e . && torchrun --nnodes=$PET_NNODES train.py"}, false, nil},
		{"the image's entrypoint", nil, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := job("pytorch")
			tr.Workers = 2
			tr.Resources.GPUs = 2
			tr.Command = tc.command
			tr.NprocPerNode = nproc
			if tc.elastic {
				tr.Elastic = &ir.Elastic{MinReplicas: 1, MaxReplicas: 2, RdzvBackend: "c10d"}
			}
			diags, items := renderOne(t, tr)
			var paths []string
			for _, d := range diags {
				assert.Equal(t, diag.Warning, d.Severity, d.Msg)
				assert.Equal(t, specFile, d.Pos.File)
				paths = append(paths, d.Path)
			}
			assert.ElementsMatch(t, tc.want, paths)
			assert.Len(t, items, 1, "a warning does not stop rendering")
		})
	}
}

// Checks of the pod a job's replicas share, at the entry's positions.
func TestPodChecks(t *testing.T) {
	t.Run("datasets with different credentials", func(t *testing.T) {
		tr := job("pytorch")
		tr.Datasets = []string{"isic", "other"}
		env := environment("prod", 64, 8, map[string]*ir.Training{"resnet": tr})
		env.Spec.Datasets["other"] = &ir.Dataset{URI: "s3://other/", Credentials: &ir.SecretRef{Secret: "other-s3-creds"}}
		_, diags := renderSystem(system(env))
		require.Len(t, diags, 1)
		assert.Equal(t, diag.Error, diags[0].Severity)
		assert.Equal(t, want{"training.resnet.datasets.1", 26, `datasets "isic" (Secret "s3-creds") and "other" (Secret "other-s3-creds") need different credentials on one pod: both Secrets set the same AWS_* variables in the container and the last one wins, so one of the datasets is read with the other's keys; give the pod one identity that can read both (one Secret), or read them in separate steps`}, diagsOf(diags)[0])
	})
	t.Run("MIG profile the product lacks", func(t *testing.T) {
		tr := job("pytorch")
		tr.Resources = ir.Resources{GPUs: 1, MIG: "1g.5gb"} // an A100 40GB profile; prod has A100 80GB
		diags, _ := renderOne(t, tr)
		require.Len(t, diags, 1)
		assert.Equal(t, "training.resnet.resources.mig", diags[0].Path)
		assert.Equal(t, 28, diags[0].Pos.Line)
		assert.Contains(t, diags[0].Msg, `MIG profile "1g.5gb" does not exist on NVIDIA-A100-SXM4-80GB`)
	})
	t.Run("MIG without a count", func(t *testing.T) {
		tr := job("pytorch")
		tr.Resources = ir.Resources{MIG: "1g.10gb"}
		diags, _ := renderOne(t, tr)
		require.Len(t, diags, 1)
		assert.Equal(t, "training.resnet.resources.mig", diags[0].Path)
		assert.Contains(t, diags[0].Msg, "requests no MIG slice")
	})
}
