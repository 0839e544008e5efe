package training

import (
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/pod"
)

// Component is the app.kubernetes.io/component of training objects.
const Component = "training"

// KueueQueueLabel submits a job to a Kueue LocalQueue.
const KueueQueueLabel = "kueue.x-k8s.io/queue-name"

// Scheduler names of the gang schedulers: Volcano's, and the second
// scheduler scheduler-plugins installs for coscheduling. The operators
// must run with the matching --gang-scheduler-name (training operator) or
// --gang-scheduling (MPI operator).
var GangSchedulers = map[string]string{
	"volcano":      "volcano",
	"coscheduling": "scheduler-plugins-scheduler",
}

// MPI worker setup for images built the way the MPI operator's base
// images are: sshd runs as the image's user, mpiuser (UID 1000), from
// that user's home when pods run as non-root.
const (
	MPINonRootSSHPath = "/home/mpiuser/.ssh"
	mpiNonRootSSHD    = "/home/mpiuser/.sshd_config"
)

// container is the container name and port an operator requires of a
// framework's pods (the operators look both up by name).
type container struct {
	name string
	port *corev1.ContainerPort
}

var containers = map[string]container{
	"pytorch":    {"pytorch", &corev1.ContainerPort{Name: "pytorchjob-port", ContainerPort: 23456, Protocol: corev1.ProtocolTCP}},
	"tensorflow": {"tensorflow", &corev1.ContainerPort{Name: "tfjob-port", ContainerPort: 2222, Protocol: corev1.ProtocolTCP}},
	"xgboost":    {"xgboost", &corev1.ContainerPort{Name: "xgboostjob-port", ContainerPort: 9999, Protocol: corev1.ProtocolTCP}},
	"paddle":     {"paddle", &corev1.ContainerPort{Name: "master", ContainerPort: 37777, Protocol: corev1.ProtocolTCP}},
	"mxnet":      {"mxnet", &corev1.ContainerPort{Name: "mxjob-port", ContainerPort: 9091, Protocol: corev1.ProtocolTCP}},
	// The MPI operator uses the first container of each pod.
	"mpi": {"mpi-worker", nil},
}

// Renderer renders training entries.
type Renderer struct{}

// Name implements render.Renderer.
func (Renderer) Name() string { return "training" }

// Render implements render.Renderer.
func (Renderer) Render(c *render.Context) diag.List {
	var warnings diag.List
	used := usedBy(c.Env.Spec)
	for _, name := range slices.Sorted(maps.Keys(c.Env.Spec.Training)) {
		t := c.Env.Spec.Training[name]
		alone := standalone(t, used[name])
		path := ir.Path("training", name)
		// A pipeline step or sweep trial runs the entry's pods too.
		c.NeedPodSecurity(path, t.Security)
		if initPyTorch(c.Env.Spec, t) {
			c.NeedBaseline(render.BaselineReason{Path: ir.Join(path, "workers"), Controller: true,
				Why: "the training operator adds an init-pytorch init container without a securityContext to every Worker pod of a PyTorchJob with a Master, which restricted rejects and no PyTorchJob setting changes; set trainingOperator.restricted: true once the operator's --pytorch-init-container-template-file secures it"})
		}
		c.NeedResources(t.Resources)
		v2 := c.Env.Spec.TrainingAPI(t) == ir.TrainingV2
		if _, ok := kinds[t.Framework]; !ok && !v2 {
			c.Errorf(ir.Join(path, "framework"), "framework %q is not one kiln renders (pytorch, tensorflow, xgboost, paddle, mxnet, mpi)", t.Framework)
			continue
		}
		if v2 && !CheckV2(c, path, t) {
			continue
		}
		if v2 {
			warnings.Add(checkClusterMPIImage(c, path, t)...)
		}
		if !v2 && t.Initializers != nil {
			// An environment may run the entry on v1 while another runs
			// it on v2: not an error, but nothing is fetched here.
			p := ir.Join(path, "initializers")
			warnings.Add(diag.Warnf(c.Env.Sources.Pos(p), p, "initializers are for Kubeflow Trainer v2; %s runs this entry on the training operator (v1), where nothing fetches them", c.Env.Name))
		}
		warnings.Add(Check(c, name, t, alone)...)
		if v2 {
			addRuntime(c, path, name, t)
		}
		if !alone {
			continue
		}
		warnings.Add(checkStandalone(c, path, t)...)
		// A job of its own runs once per sync; a pipeline step or sweep
		// that runs the entry declares its GPUs itself.
		if t.Resources.GPUs > 0 {
			total, breakdown := GPUs(t)
			c.NeedGPUs(render.GPUDemand{Path: path, Resource: t.Resources.GPUResource(), Peak: total, What: breakdown})
		}
		job := Job(c.System, c.Env, name, t)
		origin := c.Origin(path, Component, render.ObjectName(name))
		// The operators ignore changes to a job that has finished, so an
		// edited entry (a new image, new args, a patch) must be a new job
		// to train again: the job's name ends in a hash of its content. A
		// changed job gets a new name, and Argo CD prunes the old one; an
		// unchanged job keeps its name, so syncs do not flap and nothing
		// retrains.
		origin.ContentNamed = true
		origin.PodSecurity = render.PodSecurityOf(t.Security)
		c.Add(job, origin)
	}
	return warnings
}

// checkStandalone reports what makes a standalone job synced by Argo CD
// train again unasked: a TTL, which deletes the finished job so that Argo
// CD creates it again (an error: such jobs carry no TTL), and
// self-healing, which re-creates a job someone deleted (a warning).
func checkStandalone(c *render.Context, path string, t *ir.Training) diag.List {
	if c.System.GitOps == nil {
		return nil
	}
	if t.RunPolicy.TTLSecondsAfterFinished != nil {
		p := ir.Join(path, "runPolicy", "ttlSecondsAfterFinished")
		c.Errorf(p, "a standalone job synced by Argo CD must not set ttlSecondsAfterFinished: when the TTL deletes the finished job, Argo CD creates it again and it trains again; leave the TTL out (the job's pods are cleaned up by cleanPodPolicy), or run the entry from a pipeline")
	}
	if !c.Env.Sync.Automated || !c.Env.Sync.SelfHeal {
		return nil
	}
	return diag.List{diag.Warnf(c.Env.Sources.Pos(path), path,
		"%s self-heals, so Argo CD re-creates this standalone job whenever it is deleted, and it trains again: stop it by removing the entry (or limiting it to other environments), not by deleting the job, or set environments.%s.sync.selfHeal: false", c.Env.Name, c.Env.Name)}
}

// Standalone reports whether an entry is rendered as a job of its own:
// as the entry says, or else only when no pipeline step or sweep of the
// environment runs it (they create their own jobs from it, per run).
func Standalone(s *ir.Spec, name string, t *ir.Training) bool {
	return standalone(t, usedBy(s)[name])
}

// standalone is Standalone for an entry that a pipeline step or sweep
// runs (used) or not.
func standalone(t *ir.Training, used bool) bool {
	if t.Standalone != nil {
		return *t.Standalone
	}
	return !used
}

// usedBy returns the training entries that a pipeline step or sweep runs.
// Render asks it once for the environment, not once per entry: scanning
// every pipeline and sweep for each training entry made rendering
// quadratic in the size of the spec.
func usedBy(s *ir.Spec) map[string]bool {
	used := map[string]bool{}
	for _, p := range s.Pipelines {
		for _, st := range p.Steps {
			if st.Training != "" {
				used[st.Training] = true
			}
		}
	}
	for _, sw := range s.Sweeps {
		if sw.Trial != "" {
			used[sw.Trial] = true
		}
	}
	return used
}

// UsedBy lists the CUE paths of the pipeline steps and sweeps that run the training entry name, sorted.
func UsedBy(s *ir.Spec, name string) []string {
	var users []string
	for _, p := range slices.Sorted(maps.Keys(s.Pipelines)) {
		steps := s.Pipelines[p].Steps
		for _, st := range slices.Sorted(maps.Keys(steps)) {
			if steps[st].Training == name {
				users = append(users, ir.Path("pipelines", p, "steps", st))
			}
		}
	}
	for _, sw := range slices.Sorted(maps.Keys(s.Sweeps)) {
		if s.Sweeps[sw].Trial == name {
			users = append(users, ir.Path("sweeps", sw))
		}
	}
	return users
}

// Renders reports whether Job renders the entry (its framework is one
// kiln knows, or with Trainer v2 it has a runtime), without building the
// job: checks that only need to know skip the cost of a job.
func Renders(env *ir.Environment, t *ir.Training) bool {
	if env.Spec.TrainingAPI(t) == ir.TrainingV2 {
		return Runtime(t) != ""
	}
	_, ok := kinds[t.Framework]
	return ok
}

// Job renders an entry into its framework's resource, or with Trainer v2
// into a TrainJob; nil for a framework kiln does not know.
func Job(sys *ir.System, env *ir.Environment, name string, t *ir.Training) render.Object {
	if env.Spec.TrainingAPI(t) == ir.TrainingV2 {
		if Runtime(t) == "" {
			return nil
		}
		return NewTrainJob(sys, env, name, t)
	}
	switch t.Framework {
	case "pytorch":
		return PyTorch(sys, env, name, t)
	case "tensorflow":
		return TensorFlow(sys, env, name, t)
	case "xgboost":
		return XGBoost(sys, env, name, t)
	case "paddle":
		return Paddle(sys, env, name, t)
	case "mxnet":
		return MXNet(sys, env, name, t)
	case "mpi":
		return MPI(sys, env, name, t)
	}
	return nil
}

// meta is the type and object metadata of an entry's job: its kind and
// name, and the Kueue queue label when the entry names a queue.
func meta(name string, t *ir.Training) (metav1.TypeMeta, metav1.ObjectMeta) {
	k := kinds[t.Framework]
	om := metav1.ObjectMeta{Name: render.ObjectName(name)}
	if t.Scheduling != nil && t.Scheduling.Queue != "" {
		om.Labels = map[string]string{KueueQueueLabel: t.Scheduling.Queue}
	}
	return metav1.TypeMeta{APIVersion: k.APIVersion(), Kind: k.Kind}, om
}

// replicaSpecs lays out the replicas of Topology, each with its pod
// template.
func replicaSpecs(sys *ir.System, env *ir.Environment, name string, t *ir.Training) map[string]*ReplicaSpec {
	specs := map[string]*ReplicaSpec{}
	for _, r := range Topology(t) {
		specs[r.Type] = &ReplicaSpec{
			Replicas:      i32(r.Count),
			RestartPolicy: "OnFailure",
			Template:      template(sys, env, name, t, r),
		}
	}
	return specs
}

// PyTorch renders a PyTorchJob: a Master and workers-1 Workers, or, for
// elastic jobs, Workers only, as the operator requires.
func PyTorch(sys *ir.System, env *ir.Environment, name string, t *ir.Training) *PyTorchJob {
	tm, om := meta(name, t)
	job := &PyTorchJob{TypeMeta: tm, ObjectMeta: om, Spec: PyTorchJobSpec{
		RunPolicy:           runPolicy(t),
		PyTorchReplicaSpecs: replicaSpecs(sys, env, name, t),
	}}
	if t.NprocPerNode != nil {
		n := t.NprocPerNode.String()
		job.Spec.NprocPerNode = &n
	}
	if e := t.Elastic; e != nil {
		job.Spec.ElasticPolicy = &ElasticPolicy{
			MinReplicas: i32(e.MinReplicas),
			MaxReplicas: i32(e.MaxReplicas),
			RDZVBackend: e.RdzvBackend,
		}
		if e.MaxRestarts != nil {
			job.Spec.ElasticPolicy.MaxRestarts = i32(*e.MaxRestarts)
		}
	}
	return job
}

// TensorFlow renders a TFJob: a Chief and workers-1 Workers, parameter
// servers and an evaluator.
func TensorFlow(sys *ir.System, env *ir.Environment, name string, t *ir.Training) *TFJob {
	tm, om := meta(name, t)
	return &TFJob{TypeMeta: tm, ObjectMeta: om, Spec: TFJobSpec{
		RunPolicy:      runPolicy(t),
		TFReplicaSpecs: replicaSpecs(sys, env, name, t),
	}}
}

// XGBoost renders an XGBoostJob: a Master and workers-1 Workers.
func XGBoost(sys *ir.System, env *ir.Environment, name string, t *ir.Training) *XGBoostJob {
	tm, om := meta(name, t)
	return &XGBoostJob{TypeMeta: tm, ObjectMeta: om, Spec: XGBoostJobSpec{
		RunPolicy:       runPolicy(t),
		XGBReplicaSpecs: replicaSpecs(sys, env, name, t),
	}}
}

// Paddle renders a PaddleJob: Workers in collective mode, plus Master
// replicas as parameter servers in PS mode.
func Paddle(sys *ir.System, env *ir.Environment, name string, t *ir.Training) *PaddleJob {
	tm, om := meta(name, t)
	return &PaddleJob{TypeMeta: tm, ObjectMeta: om, Spec: PaddleJobSpec{
		RunPolicy:          runPolicy(t),
		PaddleReplicaSpecs: replicaSpecs(sys, env, name, t),
	}}
}

// MXNet renders an MXJob in training mode: a Scheduler, Servers and
// Workers.
func MXNet(sys *ir.System, env *ir.Environment, name string, t *ir.Training) *MXJob {
	tm, om := meta(name, t)
	return &MXJob{TypeMeta: tm, ObjectMeta: om, Spec: MXJobSpec{
		RunPolicy:      runPolicy(t),
		JobMode:        "MXTrain",
		MXReplicaSpecs: replicaSpecs(sys, env, name, t),
	}}
}

// MPI renders a v2beta1 MPIJob: a Launcher that runs the entry's command
// (mpirun, horovodrun, deepspeed, …) without GPUs, and Workers that run
// sshd with the entry's resources. Slots per worker default to the GPUs
// per worker. The launcher waits for the workers to be ready, except when
// a gang scheduler or Kueue holds the pods back: the operator would then
// never create the launcher the gang waits for (kubeflow/mpi-operator#608).
func MPI(sys *ir.System, env *ir.Environment, name string, t *ir.Training) *MPIJob {
	tm, om := meta(name, t)
	job := &MPIJob{TypeMeta: tm, ObjectMeta: om, Spec: MPIJobSpec{
		SlotsPerWorker:    i32(SlotsPerWorker(t)),
		RunPolicy:         runPolicy(t),
		MPIImplementation: t.MPIImplementation,
		MPIReplicaSpecs:   replicaSpecs(sys, env, name, t),
	}}
	switch {
	case t.SSH != nil && t.SSH.AuthMountPath != "":
		job.Spec.SSHAuthMountPath = t.SSH.AuthMountPath
	case t.Security.Restricted():
		job.Spec.SSHAuthMountPath = MPINonRootSSHPath
	}
	if s := t.Scheduling; (s == nil || (s.Gang == "" && s.Queue == "")) && !t.RunPolicy.Suspend {
		job.Spec.LauncherCreationPolicy = "WaitForWorkersReady"
	}
	return job
}

// SlotsPerWorker is the number of MPI processes per worker: the entry's
// slotsPerWorker, else one per GPU, else one.
func SlotsPerWorker(t *ir.Training) int {
	switch {
	case t.SlotsPerWorker > 0:
		return t.SlotsPerWorker
	case t.Resources.GPUs > 0:
		return t.Resources.GPUs
	}
	return 1
}

// template builds the pod template of one replica type.
func template(sys *ir.System, env *ir.Environment, name string, t *ir.Training, r Replica) corev1.PodTemplateSpec {
	ctr := containers[t.Framework]
	in := podInput(sys, t, ctr.name)
	if ctr.port != nil {
		in.Ports = []corev1.ContainerPort{*ctr.port}
	}
	switch r.Role {
	case Server:
		in.Resources = ir.Resources{CPU: t.Resources.CPU, Memory: t.Resources.Memory, EphemeralStorage: t.Resources.EphemeralStorage}
	case Control:
		in.Resources = ir.Resources{CPU: ControlCPU, Memory: ControlMemory}
	}
	if t.Framework == "mpi" {
		// The launcher runs the entry's command; mpirun reaches the
		// workers over SSH, where sshd runs.
		if r.Type == "Launcher" {
			in.Container = "mpi-launcher"
		} else {
			in.Command = []string{"/usr/sbin/sshd"}
			in.Args = []string{"-De"}
			if t.Security.Restricted() {
				in.Args = append(in.Args, "-f", mpiNonRootSSHD)
			}
			if t.SSH != nil && len(t.SSH.WorkerCommand) > 0 {
				in.Command, in.Args = slices.Clone(t.SSH.WorkerCommand[:1]), slices.Clone(t.SSH.WorkerCommand[1:])
			}
		}
	}
	if t.Scheduling != nil {
		in.PriorityClass = t.Scheduling.PriorityClass
	}
	ps := pod.Spec(env, in)
	if t.Framework == "mpi" && r.Type == "Worker" {
		// The MPI operator's images give sshd the file capability
		// cap_net_bind_service, and the kernel refuses to exec a file
		// whose capabilities are outside the bounding set: dropping ALL
		// alone would keep sshd from starting. Restricted allows adding
		// back exactly this one.
		sc := ps.Containers[0].SecurityContext
		sc.Capabilities.Add = []corev1.Capability{"NET_BIND_SERVICE"}
	}
	if t.Scheduling != nil {
		ps.SchedulerName = GangSchedulers[t.Scheduling.Gang]
	}
	tmpl := corev1.PodTemplateSpec{Spec: ps}
	tmpl.Labels = map[string]string{
		render.LabelName:      render.ObjectName(name),
		render.LabelPartOf:    sys.Name,
		render.LabelComponent: Component,
		render.LabelManagedBy: render.ManagedBy,
	}
	return tmpl
}

// MPIActiveDeadline bounds an MPIJob's run time unless its entry sets
// runPolicy.activeDeadlineSeconds: 7 days. An MPIJob whose workers never
// become ready never gets its launcher, and would otherwise hold its GPUs
// for ever.
const MPIActiveDeadline = 7 * 24 * 60 * 60

// runPolicy renders the run policy, with the gang-scheduling settings the
// operator passes on to the scheduler's PodGroup: every pod of the job at
// once, or for elastic jobs the elastic minimum.
func runPolicy(t *ir.Training) RunPolicy {
	rp := RunPolicy{CleanPodPolicy: CleanPodPolicy(t)}
	if v := t.RunPolicy.BackoffLimit; v != nil {
		rp.BackoffLimit = i32(*v)
	}
	if v := t.RunPolicy.TTLSecondsAfterFinished; v != nil {
		rp.TTLSecondsAfterFinished = i32(*v)
	}
	if v := t.RunPolicy.ActiveDeadlineSeconds; v != nil {
		d := int64(*v)
		rp.ActiveDeadlineSeconds = &d
	} else if t.Framework == "mpi" {
		d := int64(MPIActiveDeadline)
		rp.ActiveDeadlineSeconds = &d
	}
	if t.RunPolicy.Suspend {
		rp.Suspend = new(true)
	}
	if s := t.Scheduling; s != nil && (s.Gang != "" || s.PriorityClass != "") {
		rp.SchedulingPolicy = &SchedulingPolicy{PriorityClass: s.PriorityClass}
		if s.Gang != "" {
			rp.SchedulingPolicy.MinAvailable = i32(MinAvailable(t))
		}
	}
	return rp
}

// CleanPodPolicy is the entry's cleanPodPolicy, or when it sets none:
// "Running" for jobs with GPUs and for jobs with replicas that never exit
// on their own (TensorFlow parameter servers and evaluators, Paddle's and
// MXNet's servers and MXNet's scheduler, MPI workers running sshd), which
// would otherwise keep running, holding nodes and GPUs, after the job
// finished; "None" (the operators' default) for the rest.
func CleanPodPolicy(t *ir.Training) string {
	if p := t.RunPolicy.CleanPodPolicy; p != "" {
		return p
	}
	if t.Resources.GPUs > 0 || t.Framework == "mpi" {
		return "Running"
	}
	for _, r := range Topology(t) {
		if r.Role != Trainer || r.Type == "Evaluator" {
			return "Running"
		}
	}
	return "None"
}

// MinAvailable is the gang size: every pod of the job (for MPI the
// launcher too; for MXNet the scheduler and servers), or for elastic
// PyTorch, which has only workers, the elastic minimum.
func MinAvailable(t *ir.Training) int {
	if e := t.Elastic; e != nil && t.Framework == "pytorch" {
		return e.MinReplicas
	}
	return Replicas(Topology(t))
}

// Args renders hyperparameters as --name=value in name order, then the
// extra args unchanged.
func Args(t *ir.Training) []string {
	var args []string
	for _, k := range slices.Sorted(maps.Keys(t.Args)) {
		args = append(args, fmt.Sprintf("--%s=%s", k, t.Args[k].String()))
	}
	return append(args, t.ExtraArgs...)
}

func i32(v int) *int32 { n := int32(v); return &n }

// initPyTorch reports whether the training operator (v1.8.1,
// pytorch/initcontainer.go) adds its init-pytorch init container, which
// has no securityContext, to a restricted entry's pods and the spec does
// not say the cluster's operator template secures it: a PyTorchJob with
// both a Master and Workers gets it in every Worker pod (it waits until
// the master's name resolves). Elastic jobs, which have no Master, and
// single-worker jobs, which have no Worker, get none.
func initPyTorch(s *ir.Spec, t *ir.Training) bool {
	// Trainer v2 adds no init container: its JobSet starts the nodes
	// together (a TrainJob is not the training operator's PyTorchJob).
	if t.Framework != "pytorch" || s.TrainingAPI(t) == ir.TrainingV2 || !t.Security.Restricted() || (s.TrainingOperator != nil && s.TrainingOperator.Restricted) {
		return false
	}
	var master, worker bool
	for _, r := range Topology(t) {
		master = master || r.Type == "Master"
		worker = worker || r.Type == "Worker"
	}
	return master && worker
}

// podInput is what every pod of a training entry is built from, whichever
// API runs it: the entry's container, datasets, security and identity.
func podInput(sys *ir.System, t *ir.Training, container string) pod.Input {
	sa := t.ServiceAccount
	if sa == "" {
		sa = render.WorkloadServiceAccount(sys)
	}
	return pod.Input{
		Container:        container,
		Image:            t.Image,
		Command:          t.Command,
		Args:             Args(t),
		Env:              t.Env,
		Resources:        t.Resources,
		Datasets:         t.Datasets,
		Security:         t.Security,
		ServiceAccount:   sa,
		ImagePullSecrets: t.ImagePullSecrets,
		// MPI images (and the MPI runtimes' images) have a user of their
		// own (mpiuser) with a home.
		ImageHome: t.Framework == "mpi",
	}
}

// checkClusterMPIImage warns of an entry with more than one node on an
// MPI runtime of the cluster's own: Trainer sets the TrainJob's image
// only on the job labelled as the trainer's ancestor (jobset/builder.go,
// v2.3.0), in an MPI runtime usually the launcher, so the other nodes run
// whatever image the runtime names. kiln gives every node the entry's
// image only on runtimes it derives from Trainer's stock ones, and it
// cannot see a cluster's runtime to say which case this is.
func checkClusterMPIImage(c *render.Context, path string, t *ir.Training) diag.List {
	if _, stock := stockRuntimes[Runtime(t)]; stock || !isMPIRuntime(t) || t.Workers <= 1 {
		return nil
	}
	p := ir.Join(path, "workers")
	return diag.List{diag.Warnf(c.Env.Sources.Pos(p), p,
		"runtime %q is the cluster's own MPI runtime: Trainer v2 sets this entry's image only on the runtime's job labelled %s: trainer (usually the launcher), so the other nodes run the image the runtime names, without this entry's code unless that image has it; make the runtime's node image carry the code, or run on deepspeed-distributed or mlx-distributed (kiln then gives every node the entry's image)",
		Runtime(t), AncestorLabel)}
}
