package training

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/validate"
)

// ownRuntimeOf renders an entry that needs a runtime of its own and
// returns its TrainJob and runtime.
func ownRuntimeOf(t *testing.T, tr *ir.Training) (*TrainJob, *TrainingRuntime) {
	t.Helper()
	diags, items := renderOne(t, tr)
	require.Empty(t, diags)
	var job *TrainJob
	var rt *TrainingRuntime
	for _, it := range items {
		switch o := it.Object.(type) {
		case *TrainJob:
			job = o
		case *TrainingRuntime:
			rt = o
		}
	}
	require.NotNil(t, job)
	require.NotNil(t, rt, "the entry needs a TrainingRuntime of its own")
	return job, rt
}

// podsOfRuntime builds the pods Trainer's controller creates from a
// TrainJob on a runtime kiln rendered: the runtime's pod templates, with
// spec.trainer's image, command, arguments, environment and resources on
// the trainer's container (and environment and resources on an MPI
// runtime's nodes, which run the launcher's processes).
func podsOfRuntime(t *testing.T, job *TrainJob, rt *TrainingRuntime) map[string]corev1.Pod {
	t.Helper()
	require.Empty(t, job.Spec.RuntimePatches, "the runtime lays out the pods; no patch")
	out := map[string]corev1.Pod{}
	launcherAsNode := rt.Spec.MLPolicy.MPI != nil && *rt.Spec.MLPolicy.MPI.RunLauncherAsNode
	for _, rj := range rt.Spec.Template.Spec.ReplicatedJobs {
		ps := *rj.Template.Spec.Template.Spec.DeepCopy()
		trainer := rj.Template.Metadata != nil && rj.Template.Metadata.Labels[AncestorLabel] == AncestorTrainer
		for i := range ps.Containers {
			c := &ps.Containers[i]
			if c.Name != NodeContainer {
				continue
			}
			tr := job.Spec.Trainer
			if trainer {
				c.Image, c.Command, c.Args = tr.Image, tr.Command, tr.Args
			}
			if trainer || (launcherAsNode && rj.Name == NodeJob) {
				c.Env = tr.Env
				if tr.ResourcesPerNode != nil {
					c.Resources = *tr.ResourcesPerNode
				}
			}
		}
		out[rj.Name] = corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: job.Name + "-" + rj.Name + "-0-0", Namespace: "derm-ml"},
			Spec:       ps,
		}
	}
	return out
}

// A TrainJob on a runtime of the entry's own names it, and the pods
// Trainer creates from both meet restricted, on each runtime; every
// replicated job of the runtime has the container Trainer's webhook
// requires of it.
func TestOwnRuntimePodsAreRestricted(t *testing.T) {
	for _, name := range []string{"trainjob-own-runtime", "trainjob-own-runtime-mpi", "trainjob-initializers"} {
		t.Run(name, func(t *testing.T) {
			tr := goldenCases()[name]
			job, rt := ownRuntimeOf(t, tr)
			assert.Equal(t, RuntimeRef{Name: rt.Name, APIGroup: TrainerGroup, Kind: RuntimeKind}, job.Spec.RuntimeRef)
			pods := podsOfRuntime(t, job, rt)
			want := len(TrainerJobs(tr))
			if tr.Initializers != nil {
				want += 2
			}
			require.Len(t, pods, want, "a pod per trainer and initializer job")
			for rj, p := range pods {
				b, err := yaml.Marshal(p)
				require.NoError(t, err)
				assert.Empty(t, validate.RestrictedViolations(b), "pod of replicated job %s", rj)
				c := p.Spec.Containers[0]
				if rj == DatasetInitializer || rj == ModelInitializer {
					assert.Equal(t, rj, c.Name, "Trainer's webhook wants the initializer container named as its job")
				} else {
					assert.Equal(t, NodeContainer, c.Name)
				}
				assert.NotEmpty(t, c.Image, "pod of replicated job %s", rj)
				assert.Equal(t, new(false), p.Spec.AutomountServiceAccountToken, "what a patch cannot set, the runtime does")
				if tr.Scheduling != nil {
					assert.Equal(t, tr.Scheduling.PriorityClass, p.Spec.PriorityClassName, "pod of replicated job %s", rj)
				}
			}
		})
	}
}

// The runtime carries over what the entry asks for and the stock runtime
// it derives from: framework label, policy, gang scheduling, scheduler,
// retries, TTL; MPI runtimes their launcher, sshd and implementation.
func TestOwnRuntimeCarriesTheEntry(t *testing.T) {
	_, rt := ownRuntimeOf(t, goldenCases()["trainjob-own-runtime"])
	assert.Equal(t, "torch", rt.Labels[FrameworkLabel])
	require.NotNil(t, rt.Spec.MLPolicy.Torch)
	require.NotNil(t, rt.Spec.PodGroupPolicy.Volcano)
	assert.Equal(t, &FailurePolicy{MaxRestarts: 2}, rt.Spec.Template.Spec.FailurePolicy)
	assert.Equal(t, int32(86400), *rt.Spec.Template.Spec.TTLSecondsAfterFinished)
	require.Len(t, rt.Spec.Template.Spec.ReplicatedJobs, 1)
	node := rt.Spec.Template.Spec.ReplicatedJobs[0].Template.Spec.Template.Spec
	assert.Equal(t, "volcano", node.SchedulerName)

	mt := goldenCases()["trainjob-own-runtime-mpi"]
	_, rt = ownRuntimeOf(t, mt)
	assert.Equal(t, "deepspeed", rt.Labels[FrameworkLabel])
	mpi := rt.Spec.MLPolicy.MPI
	require.NotNil(t, mpi)
	assert.Equal(t, "OpenMPI", mpi.MPIImplementation)
	assert.Equal(t, "/home/horovod/.ssh", mpi.SSHAuthMountPath)
	assert.Equal(t, int32(coschedulingTimeout), *rt.Spec.PodGroupPolicy.Coscheduling.ScheduleTimeoutSeconds)
	jobs := rt.Spec.Template.Spec.ReplicatedJobs
	require.Len(t, jobs, 2)
	assert.Equal(t, []string{NodeJob, LauncherJob}, []string{jobs[0].Name, jobs[1].Name})
	assert.Equal(t, []DependsOn{{Name: NodeJob, Status: "Ready"}}, jobs[1].DependsOn)
	w := jobs[0].Template.Spec.Template.Spec.Containers[0]
	assert.Equal(t, mt.SSH.WorkerCommand, append(w.Command, w.Args...), "nodes run the entry's sshd")
	assert.Equal(t, mt.Image, w.Image, "nodes run the entry's image, as the launcher does")
	assert.Equal(t, []corev1.Capability{"NET_BIND_SERVICE"}, w.SecurityContext.Capabilities.Add)
	assert.Nil(t, w.ReadinessProbe, "a command of the entry's own may not listen where the stock sshd does")
	assert.Equal(t, "scheduler-plugins-scheduler", jobs[1].Template.Spec.Template.Spec.SchedulerName)
}

// The runtime is named by its content: what changes the runtime changes
// its name and the TrainJob's (which names it), so a standalone job
// trains again; a change to the trainer alone leaves the runtime be.
func TestOwnRuntimeName(t *testing.T) {
	base := goldenCases()["trainjob-own-runtime"]
	job, rt := ownRuntimeOf(t, base)

	prio := *base
	prio.Scheduling = &ir.Scheduling{Gang: "volcano", Queue: "team-derm", PriorityClass: "training-low"}
	job2, rt2 := ownRuntimeOf(t, &prio)
	assert.NotEqual(t, rt.Name, rt2.Name)
	assert.Equal(t, rt2.Name, job2.Spec.RuntimeRef.Name)

	args := *base
	args.Args = map[string]ir.Value{"lr": value(`0.1`)}
	job3, rt3 := ownRuntimeOf(t, &args)
	assert.Equal(t, rt.Name, rt3.Name)
	assert.Equal(t, job.Spec.RuntimeRef, job3.Spec.RuntimeRef)

	assert.Equal(t, -1, TrainingRuntimeKind().Wave, "in place before the TrainJobs that name it")
	assert.Less(t, TrainingRuntimeKind().Order, render.OrderWorkload)
}

// An entry without such settings runs on the ClusterTrainingRuntime
// directly, with a patch, and gets no runtime.
func TestNoOwnRuntimeWithoutNeed(t *testing.T) {
	tr := goldenCases()["trainjob-pytorch"]
	assert.False(t, NeedsOwnRuntime(tr))
	job := trainJobOf(t, tr)
	assert.Equal(t, ClusterRuntimeKind, job.Spec.RuntimeRef.Kind)
	assert.Empty(t, RuntimeName(&ir.System{}, &ir.Environment{Spec: &ir.Spec{}}, "resnet", tr))
}

// Initializers on a stock runtime without initializer jobs: the entry's
// runtime gets them, fetching into a volume every node mounts
// (ReadWriteMany for more than one node) before the nodes start; the
// TrainJob configures them in spec.initializer as on any runtime.
func TestOwnRuntimeInitializers(t *testing.T) {
	tr := goldenCases()["trainjob-initializers"]
	job, rt := ownRuntimeOf(t, tr)
	require.NotNil(t, job.Spec.Initializer)
	assert.Equal(t, "hf://meta-llama/Llama-3.1-8B-Instruct", job.Spec.Initializer.Model.StorageURI)
	vcp := rt.Spec.Template.Spec.VolumeClaimPolicies
	require.Len(t, vcp, 1)
	claim := vcp[0].Templates[0]
	assert.Equal(t, InitializerVolume, claim.Metadata.Name)
	assert.Equal(t, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}, claim.Spec.AccessModes)
	assert.Equal(t, "shared-rwx", *claim.Spec.StorageClassName)
	jobs := rt.Spec.Template.Spec.ReplicatedJobs
	require.Len(t, jobs, 3)
	assert.Equal(t, []string{DatasetInitializer, ModelInitializer, NodeJob}, []string{jobs[0].Name, jobs[1].Name, jobs[2].Name})
	assert.Equal(t, []DependsOn{{DatasetInitializer, "Complete"}, {ModelInitializer, "Complete"}}, jobs[2].DependsOn)
	for _, j := range jobs {
		mounts := j.Template.Spec.Template.Spec.Containers[0].VolumeMounts
		assert.Contains(t, mounts, corev1.VolumeMount{Name: InitializerVolume, MountPath: InitializerMountPath}, "job %s", j.Name)
	}
	assert.Equal(t, DatasetInitializer, jobs[0].Template.Metadata.Labels[AncestorLabel])

	// One node: a ReadWriteOnce volume; a dataset only: one initializer.
	one := *tr
	one.Workers = 1
	one.Initializers = &ir.Initializers{Dataset: "isic"}
	_, rt = ownRuntimeOf(t, &one)
	assert.Equal(t, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, rt.Spec.Template.Spec.VolumeClaimPolicies[0].Templates[0].Spec.AccessModes)
	assert.Len(t, rt.Spec.Template.Spec.ReplicatedJobs, 2)
}

// On an MPI runtime Trainer sets the TrainJob's image on the launcher only
// (the job labelled as the trainer's ancestor), so an entry with more than
// one node runs on a runtime of its own whose every node runs the entry's
// image; a single node (the launcher alone) needs none.
func TestMPINodesRunTheEntrysImage(t *testing.T) {
	for _, runtime := range []string{"deepspeed-distributed", "mlx-distributed"} {
		tr := job("mpi")
		tr.API, tr.Runtime, tr.Workers = ir.TrainingV2, runtime, 3
		job, rt := ownRuntimeOf(t, tr)
		assert.Equal(t, RuntimeKind, job.Spec.RuntimeRef.Kind, runtime)
		jobs := rt.Spec.Template.Spec.ReplicatedJobs
		require.Len(t, jobs, 2, runtime)
		for _, rj := range jobs {
			for _, c := range rj.Template.Spec.Template.Spec.Containers {
				assert.Equal(t, tr.Image, c.Image, "%s: job %s container %s", runtime, rj.Name, c.Name)
			}
		}
		tr.Workers = 1
		assert.False(t, NeedsOwnRuntime(tr), "%s with one node: the launcher is the only node", runtime)
	}
}
