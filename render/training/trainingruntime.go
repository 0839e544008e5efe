package training

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/pod"
)

// RuntimeKind is the kind of the namespaced runtimes kiln renders for
// entries that need what a runtime patch cannot set.
const RuntimeKind = "TrainingRuntime"

// Labels of a runtime and of its replicated jobs: the framework label
// Trainer's SDK lists runtimes by, and the ancestor label by which
// Trainer finds the jobs spec.trainer and spec.initializer override.
const (
	FrameworkLabel  = "trainer.kubeflow.org/framework"
	AncestorLabel   = "trainer.kubeflow.org/trainjob-ancestor-step"
	AncestorTrainer = "trainer"
)

// trainingRuntimeKind is the descriptor of TrainingRuntime: applied with
// the configuration, in the wave before the workloads, so the runtime is
// in place before a TrainJob (or a workflow that creates one) names it.
// Argo CD has no health check for it and counts it healthy once created.
var trainingRuntimeKind = render.Kind{
	Group: TrainerGroup, Version: TrainerVersion, Kind: RuntimeKind, Plural: "trainingruntimes",
	Order: render.OrderConfig + 2, Wave: -1,
}

// TrainingRuntimeKind returns the TrainingRuntime descriptor.
func TrainingRuntimeKind() render.Kind { return trainingRuntimeKind }

// stockRuntime is what kiln knows of a ClusterTrainingRuntime Trainer
// v2.3.0 installs, enough to render a namespaced runtime that behaves
// like it: the framework label and whether its policy is MPI (a node job
// running sshd, a launcher job running mpirun as a node) or the
// framework's own (one node job running the trainer).
type stockRuntime struct {
	framework string
	mpi       bool
}

// stockRuntimes are the runtimes a namespaced runtime can be derived
// from. The torchtune-* runtimes are left out: their commands, config
// and storage are the runtime, not something kiln can carry over.
var stockRuntimes = map[string]stockRuntime{
	"torch-distributed":     {framework: "torch"},
	"xgboost-distributed":   {framework: "xgboost"},
	"deepspeed-distributed": {framework: "deepspeed", mpi: true},
	"mlx-distributed":       {framework: "mlx", mpi: true},
}

// sshdPort is the port the MPI runtimes' images run sshd on; the node
// job is ready (and the launcher may start) once it accepts connections.
const sshdPort = 2222

// coschedulingTimeout is the PodGroup schedule timeout of a coscheduling
// runtime: Trainer's default, stated so the runtime does not depend on
// the API server's defaulting.
const coschedulingTimeout = 60

// TrainingRuntime is trainer.kubeflow.org/v1alpha1 TrainingRuntime.
type TrainingRuntime struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              RuntimeSpec `json:"spec"`
}

// RuntimeSpec holds the fields kiln sets in a runtime.
type RuntimeSpec struct {
	MLPolicy       *MLPolicy       `json:"mlPolicy,omitempty"`
	PodGroupPolicy *PodGroupPolicy `json:"podGroupPolicy,omitempty"`
	Template       JobSetTemplate  `json:"template"`
}

// MLPolicy is the runtime's framework policy.
type MLPolicy struct {
	NumNodes *int32     `json:"numNodes,omitempty"`
	Torch    *struct{}  `json:"torch,omitempty"`
	XGBoost  *struct{}  `json:"xgboost,omitempty"`
	MPI      *MPIPolicy `json:"mpi,omitempty"`
}

// MPIPolicy is how an MPI runtime starts its processes.
type MPIPolicy struct {
	NumProcPerNode    *int32 `json:"numProcPerNode,omitempty"`
	MPIImplementation string `json:"mpiImplementation,omitempty"`
	SSHAuthMountPath  string `json:"sshAuthMountPath,omitempty"`
	RunLauncherAsNode *bool  `json:"runLauncherAsNode,omitempty"`
}

// PodGroupPolicy is the runtime's gang scheduling.
type PodGroupPolicy struct {
	Coscheduling *CoschedulingPolicy `json:"coscheduling,omitempty"`
	Volcano      *struct{}           `json:"volcano,omitempty"`
}

// CoschedulingPolicy configures scheduler-plugins' PodGroups.
type CoschedulingPolicy struct {
	ScheduleTimeoutSeconds *int32 `json:"scheduleTimeoutSeconds,omitempty"`
}

// JobSetTemplate is the runtime's JobSet template.
type JobSetTemplate struct {
	Spec JobSetSpec `json:"spec"`
}

// JobSetSpec holds the JobSet fields kiln sets.
type JobSetSpec struct {
	Network                 *JobSetNetwork      `json:"network,omitempty"`
	SuccessPolicy           *SuccessPolicy      `json:"successPolicy,omitempty"`
	FailurePolicy           *FailurePolicy      `json:"failurePolicy,omitempty"`
	TTLSecondsAfterFinished *int32              `json:"ttlSecondsAfterFinished,omitempty"`
	VolumeClaimPolicies     []VolumeClaimPolicy `json:"volumeClaimPolicies,omitempty"`
	ReplicatedJobs          []ReplicatedJob     `json:"replicatedJobs"`
}

// JobSetNetwork: MPI nodes must resolve before they are ready, as the
// launcher's ssh reaches them while sshd starts.
type JobSetNetwork struct {
	PublishNotReadyAddresses *bool `json:"publishNotReadyAddresses,omitempty"`
}

// SuccessPolicy says which jobs' completion completes the JobSet.
type SuccessPolicy struct {
	Operator             string   `json:"operator"`
	TargetReplicatedJobs []string `json:"targetReplicatedJobs,omitempty"`
}

// FailurePolicy is how often JobSet restarts all of its jobs after one
// fails.
type FailurePolicy struct {
	MaxRestarts int32 `json:"maxRestarts"`
}

// ReplicatedJob is one job of the JobSet template.
type ReplicatedJob struct {
	Name      string      `json:"name"`
	DependsOn []DependsOn `json:"dependsOn,omitempty"`
	Template  JobTemplate `json:"template"`
}

// DependsOn starts a job once another reaches a status.
type DependsOn struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// JobTemplate is a replicated job's Job template.
type JobTemplate struct {
	Metadata *PodMetadataPatch `json:"metadata,omitempty"`
	Spec     JobTemplateSpec   `json:"spec"`
}

// JobTemplateSpec is the Job's pod template.
type JobTemplateSpec struct {
	Template corev1.PodTemplateSpec `json:"template"`
}

// runtimeSettings are the entry's settings a runtime patch cannot carry,
// by field path: an entry with any of them runs on a TrainingRuntime kiln
// derives from the runtime it names.
func runtimeSettings(t *ir.Training) []string {
	var out []string
	rp := t.RunPolicy
	if rp.BackoffLimit != nil {
		out = append(out, "runPolicy.backoffLimit")
	}
	if rp.TTLSecondsAfterFinished != nil {
		out = append(out, "runPolicy.ttlSecondsAfterFinished")
	}
	if s := t.Scheduling; s != nil {
		if s.Gang != "" {
			out = append(out, "scheduling.gang")
		}
		if s.PriorityClass != "" {
			out = append(out, "scheduling.priorityClass")
		}
	}
	if isMPIRuntime(t) && t.SSH != nil {
		out = append(out, "ssh")
	}
	if stock, ok := stockRuntimes[Runtime(t)]; ok && stock.mpi && t.Workers > 1 {
		// Trainer sets the TrainJob's image only on the job labelled as
		// the trainer's ancestor (jobset/builder.go, v2.3.0): in the MPI
		// runtimes that is the launcher, so the other nodes would run
		// the runtime's stock image, without the entry's code. kiln's
		// own runtime gives every node the entry's image.
		out = append(out, "image")
	}
	if addsInitializers(t) {
		out = append(out, "initializers")
	}
	return out
}

// addsInitializers reports whether the entry has initializers its stock
// runtime has no jobs for, which kiln then adds in a runtime of its own.
func addsInitializers(t *ir.Training) bool {
	in := t.Initializers
	_, stock := stockRuntimes[Runtime(t)]
	return in != nil && (in.Dataset != "" || in.Model != "") && stock && runtimesWithoutInitializers[Runtime(t)]
}

// isMPIRuntime reports whether the entry's runtime has an MPI policy.
func isMPIRuntime(t *ir.Training) bool {
	return t.Framework == "mpi" || mpiRuntimes[Runtime(t)]
}

// NeedsOwnRuntime reports whether the entry runs on a TrainingRuntime
// kiln renders rather than directly on its ClusterTrainingRuntime.
func NeedsOwnRuntime(t *ir.Training) bool { return len(runtimeSettings(t)) > 0 }

// checkOwnRuntime reports the settings that need a runtime of kiln's own
// when kiln cannot derive one from the entry's runtime, at each setting.
// It reports whether the entry can be rendered.
func checkOwnRuntime(c *render.Context, path string, t *ir.Training) bool {
	settings := runtimeSettings(t)
	if len(settings) == 0 {
		return true
	}
	if _, ok := stockRuntimes[Runtime(t)]; ok {
		if s := t.Scheduling; s != nil && s.Gang != "" && addsInitializers(t) {
			// Trainer's PodGroup counts every pod of the JobSet, the
			// initializers' too, while the nodes start only once the
			// initializers completed: the gang is never whole.
			c.Errorf(ir.Join(path, "scheduling", "gang"), "gang scheduling with initializers never starts: Trainer's PodGroup counts the initializer pods with the nodes, and the nodes start only after the initializers finished; drop the gang, or fetch the data another way (datasets)")
			return false
		}
		return true
	}
	stock := slices.Sorted(maps.Keys(stockRuntimes))
	for _, f := range settings {
		c.Errorf(ir.Join(path, strings.Split(f, ".")...), "%s needs a TrainingRuntime of the entry's own, which kiln derives only from Trainer's stock runtimes (%s), and runtime %q is not one of them; set it in that runtime, name a stock runtime, or set api: \"v1\" on this entry", f, strings.Join(stock, ", "), Runtime(t))
	}
	return false
}

// RuntimeName is the name of the TrainingRuntime kiln renders for the
// entry, "" when it runs on its ClusterTrainingRuntime directly.
func RuntimeName(sys *ir.System, env *ir.Environment, name string, t *ir.Training) string {
	if rt := NewTrainingRuntime(sys, env, name, t); rt != nil {
		return rt.Name
	}
	return ""
}

// NewTrainingRuntime renders the namespaced runtime of an entry that
// needs one, nil for an entry that does not or whose runtime kiln cannot
// derive one from. The runtime is the stock runtime the entry names, with
// the same framework label, policy and jobs, and every pod already laid
// out as a v1 job of the entry would have it (security, placement,
// volumes, service account, scheduler and priority class), so the
// TrainJob that names it needs no runtime patch. Its name is the entry's
// with a hash of its content: an entry whose runtime changes gets a new
// runtime, and its TrainJob (which names it) a new name, so a standalone
// job trains again, as with any other change.
func NewTrainingRuntime(sys *ir.System, env *ir.Environment, name string, t *ir.Training) *TrainingRuntime {
	stock, ok := stockRuntimes[Runtime(t)]
	if !ok || !NeedsOwnRuntime(t) {
		return nil
	}
	rt := &TrainingRuntime{
		TypeMeta: metav1.TypeMeta{APIVersion: trainingRuntimeKind.APIVersion(), Kind: RuntimeKind},
		ObjectMeta: metav1.ObjectMeta{
			Name:   render.ObjectName(name),
			Labels: map[string]string{FrameworkLabel: stock.framework},
		},
	}
	spec := &rt.Spec
	spec.MLPolicy = &MLPolicy{NumNodes: i32(1)}
	trainer := ReplicatedJob{Name: NodeJob, Template: JobTemplate{
		Metadata: &PodMetadataPatch{Labels: map[string]string{AncestorLabel: AncestorTrainer}},
	}}
	switch {
	case stock.mpi:
		spec.MLPolicy.MPI = &MPIPolicy{
			NumProcPerNode:    i32(1),
			MPIImplementation: "OpenMPI", // the only one Trainer v2.3.0 runs
			SSHAuthMountPath:  sshAuthMountPath(t),
			RunLauncherAsNode: new(true),
		}
		spec.Template.Spec.Network = &JobSetNetwork{PublishNotReadyAddresses: new(true)}
		spec.Template.Spec.SuccessPolicy = &SuccessPolicy{Operator: "All", TargetReplicatedJobs: []string{LauncherJob}}
		node := ReplicatedJob{Name: NodeJob, Template: JobTemplate{Spec: JobTemplateSpec{
			Template: runtimePod(sys, env, name, t, Replica{Type: "Worker", Role: Trainer}),
		}}}
		if t.SSH == nil || len(t.SSH.WorkerCommand) == 0 {
			// The stock images' sshd listens on sshdPort; a command of
			// the entry's own may not, so only the stock one is probed.
			node.Template.Spec.Template.Spec.Containers[0].ReadinessProbe = &corev1.Probe{
				ProbeHandler:        corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(sshdPort)}},
				InitialDelaySeconds: 5,
			}
		}
		trainer.Name = LauncherJob
		trainer.DependsOn = []DependsOn{{Name: NodeJob, Status: "Ready"}}
		// The launcher runs as a node, with a node's resources.
		trainer.Template.Spec.Template = runtimePod(sys, env, name, t, Replica{Type: "Launcher", Role: Trainer})
		spec.Template.Spec.ReplicatedJobs = []ReplicatedJob{node, trainer}
	default:
		if stock.framework == "xgboost" {
			spec.MLPolicy.XGBoost = &struct{}{}
		} else {
			spec.MLPolicy.Torch = &struct{}{}
		}
		trainer.Template.Spec.Template = runtimePod(sys, env, name, t, Replica{Type: "Master", Role: Trainer})
		spec.Template.Spec.ReplicatedJobs = []ReplicatedJob{trainer}
	}
	if addsInitializers(t) {
		addInitializers(sys, env, name, t, spec)
	}
	if s := t.Scheduling; s != nil {
		switch s.Gang {
		case "volcano":
			spec.PodGroupPolicy = &PodGroupPolicy{Volcano: &struct{}{}}
		case "coscheduling":
			spec.PodGroupPolicy = &PodGroupPolicy{Coscheduling: &CoschedulingPolicy{ScheduleTimeoutSeconds: i32(coschedulingTimeout)}}
		}
	}
	if v := t.RunPolicy.BackoffLimit; v != nil {
		spec.Template.Spec.FailurePolicy = &FailurePolicy{MaxRestarts: int32(*v)}
	}
	if v := t.RunPolicy.TTLSecondsAfterFinished; v != nil {
		spec.Template.Spec.TTLSecondsAfterFinished = i32(*v)
	}
	n, err := render.ContentName(rt.Name, rt)
	if err != nil {
		panic(fmt.Sprintf("training runtime %s: %v", name, err)) // the struct always marshals
	}
	rt.Name = n
	return rt
}

// sshAuthMountPath is where the MPI policy mounts the SSH keys: as for a
// v1 MPIJob of the entry.
func sshAuthMountPath(t *ir.Training) string {
	switch {
	case t.SSH != nil && t.SSH.AuthMountPath != "":
		return t.SSH.AuthMountPath
	case t.Security.Restricted():
		return MPINonRootSSHPath
	}
	return "/root/.ssh"
}

// runtimePod is the pod template of one replicated job of the entry's
// runtime: the v1 replica's pod, with its container named as Trainer
// wants it and without what the TrainJob gives the trainer (command and
// arguments, environment) or what only the v1 operators use (their port).
// The resources stay, the same as the TrainJob's resourcesPerNode, which
// Trainer merges into them. An MPI node keeps its sshd command, which the
// TrainJob does not override.
func runtimePod(sys *ir.System, env *ir.Environment, name string, t *ir.Training, r Replica) corev1.PodTemplateSpec {
	if isMPIRuntime(t) {
		// Any entry on an MPI runtime runs sshd on its nodes.
		mt := *t
		mt.Framework = "mpi"
		t = &mt
	}
	tmpl := template(sys, env, name, t, r)
	c := &tmpl.Spec.Containers[0]
	c.Name = NodeContainer
	c.Ports = nil
	c.Env, c.EnvFrom = nil, nil
	if r.Type != "Worker" {
		c.Command, c.Args = nil, nil
	}
	return tmpl
}

// addRuntime adds the entry's own runtime, if it needs one, whether the
// entry runs standalone or from pipeline steps and sweeps: their TrainJobs
// name it too, and Argo CD keeps it in place for them.
func addRuntime(c *render.Context, path, name string, t *ir.Training) {
	rt := NewTrainingRuntime(c.System, c.Env, name, t)
	if rt == nil {
		return
	}
	origin := c.Origin(path, Component, render.ObjectName(name))
	origin.PodSecurity = render.PodSecurityOf(t.Security)
	c.Add(rt, origin)
}

// Initializer jobs kiln adds to a runtime: Trainer v2.3.0's initializer
// images, and the volume they fetch into, which the nodes mount where
// Trainer's own runtimes have it.
const (
	InitializerVolume    = "initializer"
	InitializerMountPath = "/workspace"
	initializerImageRepo = "ghcr.io/kubeflow/trainer/"
	initializerImageTag  = ":v2.3.0"
)

// Requests of an initializer container, so a namespace quota admits it:
// the initializers stream what they fetch to the volume.
const (
	InitializerCPU    ir.Quantity = "1"
	InitializerMemory ir.Quantity = "4Gi"
	// DefaultInitializerStorage is the schema's default size of the
	// volume (initializers.storage.size).
	DefaultInitializerStorage ir.Quantity = "50Gi"
)

// addInitializers gives a runtime the entry's initializer jobs: a
// volume claim the JobSet creates for each TrainJob (ReadWriteMany when
// more than one node mounts it), one job per initializer with its
// container secured like the entry's, mounting it at /workspace, and the
// nodes mounting it too and starting once the initializers completed.
// The TrainJob's spec.initializer gives each its storage URI,
// environment and credentials.
func addInitializers(sys *ir.System, env *ir.Environment, name string, t *ir.Training, spec *RuntimeSpec) {
	in := t.Initializers
	mode := corev1.ReadWriteOnce
	if t.Workers > 1 {
		mode = corev1.ReadWriteMany
	}
	claim := ClaimTemplate{Metadata: ClaimMetadata{Name: InitializerVolume}, Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{mode},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: pod.Quantity(cmp.Or(in.Storage.Size, DefaultInitializerStorage))}},
	}}
	if in.Storage.Class != "" {
		claim.Spec.StorageClassName = &in.Storage.Class
	}
	spec.Template.Spec.VolumeClaimPolicies = []VolumeClaimPolicy{{Templates: []ClaimTemplate{claim}}}
	mount := corev1.VolumeMount{Name: InitializerVolume, MountPath: InitializerMountPath}

	var jobs []ReplicatedJob
	var after []DependsOn
	for _, j := range []struct {
		name string
		set  bool
	}{{DatasetInitializer, in.Dataset != ""}, {ModelInitializer, in.Model != ""}} {
		if !j.set {
			continue
		}
		pin := podInput(sys, t, j.name)
		pin.Image = initializerImageRepo + j.name + initializerImageTag
		pin.Command, pin.Args, pin.Env, pin.Datasets = nil, nil, nil, nil
		pin.Resources = ir.Resources{CPU: InitializerCPU, Memory: InitializerMemory}
		pin.ImageHome = true // the TrainJob's spec.initializer sets HOME
		if t.Scheduling != nil {
			pin.PriorityClass = t.Scheduling.PriorityClass
		}
		ps := pod.Spec(env, pin)
		ps.Containers[0].VolumeMounts = append(ps.Containers[0].VolumeMounts, mount)
		tmpl := corev1.PodTemplateSpec{Spec: ps}
		tmpl.Labels = map[string]string{
			render.LabelName:      render.ObjectName(name),
			render.LabelPartOf:    sys.Name,
			render.LabelComponent: Component,
			render.LabelManagedBy: render.ManagedBy,
		}
		jobs = append(jobs, ReplicatedJob{Name: j.name, Template: JobTemplate{
			Metadata: &PodMetadataPatch{Labels: map[string]string{AncestorLabel: j.name}},
			Spec:     JobTemplateSpec{Template: tmpl},
		}})
		after = append(after, DependsOn{Name: j.name, Status: "Complete"})
	}
	for i := range spec.Template.Spec.ReplicatedJobs {
		rj := &spec.Template.Spec.ReplicatedJobs[i]
		c := &rj.Template.Spec.Template.Spec.Containers[0]
		c.VolumeMounts = append(c.VolumeMounts, mount)
		if len(rj.DependsOn) == 0 {
			// The first job to start (the node job; an MPI launcher
			// waits for the nodes already) waits for the initializers.
			rj.DependsOn = after
		}
	}
	spec.Template.Spec.ReplicatedJobs = append(jobs, spec.Template.Spec.ReplicatedJobs...)
}

// VolumeClaimPolicy is a JobSet's shared volume claims.
type VolumeClaimPolicy struct {
	Templates []ClaimTemplate `json:"templates"`
}

// ClaimTemplate is one claim the JobSet creates and its pods mount by
// name.
type ClaimTemplate struct {
	Metadata ClaimMetadata                    `json:"metadata"`
	Spec     corev1.PersistentVolumeClaimSpec `json:"spec"`
}

// ClaimMetadata names a claim template.
type ClaimMetadata struct {
	Name string `json:"name"`
}
