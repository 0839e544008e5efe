package training

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/pod"
)

// Kubeflow Trainer v2's API.
const (
	TrainerGroup   = "trainer.kubeflow.org"
	TrainerVersion = "v1alpha1"
	// ClusterRuntimeKind is the kind of the runtimes a platform team
	// installs cluster-wide, which a TrainJob names in runtimeRef.
	ClusterRuntimeKind = "ClusterTrainingRuntime"
	// PatchManager owns kiln's entry in a TrainJob's runtimePatches. The
	// Trainer webhook wants a domain-prefixed path.
	PatchManager = "kiln.dev/render"
	// NodeJob and NodeContainer are the replicated job and the container
	// of a runtime that run the trainer: Trainer's controller finds the
	// container by this name, and the stock runtimes all use it.
	NodeJob       = "node"
	NodeContainer = "node"
	// LauncherJob is the replicated job that runs mpirun in MPI runtimes
	// (deepspeed-distributed, mlx-distributed), also as a trainer node.
	LauncherJob = "launcher"
	// JobSetNameLabel is the label JobSet puts on every pod of a JobSet,
	// valued with its name, which is the TrainJob's name.
	JobSetNameLabel = "jobset.sigs.k8s.io/jobset-name"
)

// DefaultRuntimes are the ClusterTrainingRuntimes Trainer v2.3.0 installs
// that an entry runs on when it names none: one per framework that has a
// framework-neutral runtime. MPI has none (deepspeed-distributed and
// mlx-distributed bring their own images and launchers), so an mpi entry
// must name its runtime. TensorFlow, Paddle and MXNet have no v2 runtime.
var DefaultRuntimes = map[string]string{
	"pytorch": "torch-distributed",
	"xgboost": "xgboost-distributed",
}

// V2Frameworks are the frameworks Trainer v2 runs.
var V2Frameworks = []string{"pytorch", "xgboost", "mpi"}

// Initializer jobs and containers of a runtime (one name for both), and
// the stock runtimes that have none: Trainer's webhook refuses a TrainJob
// with initializers on them.
const (
	DatasetInitializer = "dataset-initializer"
	ModelInitializer   = "model-initializer"
)

var runtimesWithoutInitializers = map[string]bool{
	"torch-distributed": true, "deepspeed-distributed": true, "mlx-distributed": true,
	"jax-distributed": true, "xgboost-distributed": true,
}

// initializerSchemes are the URI schemes Trainer's initializers fetch.
var initializerSchemes = []string{"hf://", "s3://"}

// mpiRuntimes are the stock runtimes with an MPI policy, whose launcher
// job runs as a trainer node and gets the same patch as the nodes.
var mpiRuntimes = map[string]bool{"deepspeed-distributed": true, "mlx-distributed": true}

// trainJobHealth is Argo CD's health check for TrainJobs.
//
//go:embed trainjob.lua
var trainJobHealth string

// trainJobKind is the descriptor of TrainJob. Trainer v2.3.0 keeps at most
// the condition types Suspended, Complete and Failed, and sets no
// completion time, so a step waits for a Complete condition. Conditions
// are appended in the order they first appear (meta.SetStatusCondition):
// Complete is the first condition of a job that was never suspended, the
// second of one that was (Suspended stays, with status False, once the
// job resumes). Done here is the first case; KindFor gives entries that
// start suspended (a Kueue queue, runPolicy.suspend) the second.
var trainJobKind = func() render.Kind {
	_, failed := jobConditions()
	return render.Kind{
		Group: TrainerGroup, Version: TrainerVersion, Kind: "TrainJob", Plural: "trainjobs",
		Order:  render.OrderWorkload,
		Health: trainJobHealth,
		// Kueue admits a queued TrainJob by flipping spec.suspend.
		ControllerFields: []string{"/spec/suspend"},
		Done:             completeAt(0), Failed: failed,
		PodJobLabel: JobSetNameLabel,
	}
}()

func completeAt(i int) string { return fmt.Sprintf("status.conditions.%d.type==Complete", i) }

// TrainJobKind returns the TrainJob descriptor.
func TrainJobKind() render.Kind { return trainJobKind }

// KindFor returns the kind an entry renders into in spec s, with the
// condition a workflow step waits for as it applies to this entry.
func KindFor(s *ir.Spec, t *ir.Training) (render.Kind, bool) {
	if s.TrainingAPI(t) != ir.TrainingV2 {
		return KindOf(t.Framework)
	}
	k := trainJobKind
	if startsSuspended(t) {
		k.Done = completeAt(1)
	}
	return k, true
}

// startsSuspended reports whether a TrainJob of the entry is suspended
// before it runs, which puts a Suspended condition before Complete:
// Kueue suspends every job it queues. (A namespace where Kueue manages
// jobs without a queue label is not visible to kiln: name the queue.)
func startsSuspended(t *ir.Training) bool {
	return t.RunPolicy.Suspend || (t.Scheduling != nil && t.Scheduling.Queue != "")
}

// Runtime is the ClusterTrainingRuntime an entry runs on: its own, or its
// framework's default; "" when there is none.
func Runtime(t *ir.Training) string {
	if t.Runtime != "" {
		return t.Runtime
	}
	return DefaultRuntimes[t.Framework]
}

// TrainerJobs are the replicated jobs of the entry's runtime that run the
// trainer container: "node", and "launcher" for MPI runtimes. Trainer's
// webhook refuses a patch of a job the runtime does not have.
func TrainerJobs(t *ir.Training) []string {
	if t.Framework == "mpi" || mpiRuntimes[Runtime(t)] {
		return []string{NodeJob, LauncherJob}
	}
	return []string{NodeJob}
}

// TrainJob is trainer.kubeflow.org/v1alpha1 TrainJob.
type TrainJob struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              TrainJobSpec `json:"spec"`
}

// TrainJobSpec holds the fields kiln sets.
type TrainJobSpec struct {
	RuntimeRef            RuntimeRef       `json:"runtimeRef"`
	Initializer           *Initializer     `json:"initializer,omitempty"`
	Trainer               *TrainJobTrainer `json:"trainer,omitempty"`
	RuntimePatches        []RuntimePatch   `json:"runtimePatches,omitempty"`
	ActiveDeadlineSeconds *int64           `json:"activeDeadlineSeconds,omitempty"`
	Suspend               *bool            `json:"suspend,omitempty"`
}

// RuntimeRef names the runtime a TrainJob starts from.
type RuntimeRef struct {
	Name     string `json:"name"`
	APIGroup string `json:"apiGroup,omitempty"`
	Kind     string `json:"kind,omitempty"`
}

// Initializer configures the runtime's initializer jobs.
type Initializer struct {
	Dataset *InitializerSource `json:"dataset,omitempty"`
	Model   *InitializerSource `json:"model,omitempty"`
}

// InitializerSource is what one initializer fetches, with the
// environment it reads its credentials from.
type InitializerSource struct {
	StorageURI string                       `json:"storageUri"`
	Env        []corev1.EnvVar              `json:"env,omitempty"`
	SecretRef  *corev1.LocalObjectReference `json:"secretRef,omitempty"`
}

// TrainJobTrainer overrides the runtime's trainer: image, command, nodes and
// their resources.
type TrainJobTrainer struct {
	Image            string                       `json:"image,omitempty"`
	Command          []string                     `json:"command,omitempty"`
	Args             []string                     `json:"args,omitempty"`
	Env              []corev1.EnvVar              `json:"env,omitempty"`
	NumNodes         *int32                       `json:"numNodes,omitempty"`
	NumProcPerNode   *int32                       `json:"numProcPerNode,omitempty"`
	ResourcesPerNode *corev1.ResourceRequirements `json:"resourcesPerNode,omitempty"`
}

// RuntimePatch is one owner's patch of the runtime's JobSet template.
type RuntimePatch struct {
	Manager             string              `json:"manager"`
	TrainingRuntimeSpec TrainingRuntimeSpec `json:"trainingRuntimeSpec"`
}

// TrainingRuntimeSpec patches a (Cluster)TrainingRuntime.
type TrainingRuntimeSpec struct {
	Template JobSetTemplatePatch `json:"template"`
}

// JobSetTemplatePatch patches the runtime's JobSet template.
type JobSetTemplatePatch struct {
	Spec JobSetSpecPatch `json:"spec"`
}

// JobSetSpecPatch patches replicated jobs by name.
type JobSetSpecPatch struct {
	ReplicatedJobs []ReplicatedJobPatch `json:"replicatedJobs"`
}

// ReplicatedJobPatch patches the pod template of one replicated job.
type ReplicatedJobPatch struct {
	Name     string   `json:"name"`
	Template JobPatch `json:"template"`
}

// JobPatch patches a Job template.
type JobPatch struct {
	Spec JobSpecPatch `json:"spec"`
}

// JobSpecPatch patches a Job's pod template.
type JobSpecPatch struct {
	Template PodTemplatePatch `json:"template"`
}

// PodTemplatePatch patches a pod template: labels and the pod spec.
type PodTemplatePatch struct {
	Metadata *PodMetadataPatch `json:"metadata,omitempty"`
	Spec     PodSpecPatch      `json:"spec"`
}

// PodMetadataPatch holds the pod labels kiln sets.
type PodMetadataPatch struct {
	Labels map[string]string `json:"labels,omitempty"`
}

// PodSpecPatch is what a runtime patch may change in a pod spec (Trainer
// v2.3.0's PodSpecPatch), of what kiln sets. It has no
// automountServiceAccountToken, priorityClassName or schedulerName.
type PodSpecPatch struct {
	ServiceAccountName string                        `json:"serviceAccountName,omitempty"`
	NodeSelector       map[string]string             `json:"nodeSelector,omitempty"`
	Affinity           *corev1.Affinity              `json:"affinity,omitempty"`
	Tolerations        []corev1.Toleration           `json:"tolerations,omitempty"`
	Volumes            []corev1.Volume               `json:"volumes,omitempty"`
	SecurityContext    *corev1.PodSecurityContext    `json:"securityContext,omitempty"`
	ImagePullSecrets   []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`
	Containers         []ContainerPatch              `json:"containers,omitempty"`
}

// ContainerPatch is what a runtime patch may change in a container, of
// what kiln sets. Env is not among it for the trainer's container (the
// webhook refuses it): environment variables go in trainer.env.
type ContainerPatch struct {
	Name            string                  `json:"name"`
	SecurityContext *corev1.SecurityContext `json:"securityContext,omitempty"`
	VolumeMounts    []corev1.VolumeMount    `json:"volumeMounts,omitempty"`
}

// NewTrainJob renders an entry into a TrainJob on its runtime. The trainer
// container gets the image, command, arguments, environment and resources
// through spec.trainer; everything else kiln puts in a pod (the security
// context, GPU product and tolerations, /dev/shm and dataset volumes and
// their mounts, the service account and pull secrets) goes in one runtime
// patch of the runtime's trainer jobs, so the pods the controller creates
// are the pods a v1 job of the entry would have had.
func NewTrainJob(sys *ir.System, env *ir.Environment, name string, t *ir.Training) *TrainJob {
	k := trainJobKind
	om := metav1.ObjectMeta{Name: render.ObjectName(name)}
	if t.Scheduling != nil && t.Scheduling.Queue != "" {
		om.Labels = map[string]string{KueueQueueLabel: t.Scheduling.Queue}
	}
	ps := pod.Spec(env, podInput(sys, t, NodeContainer))
	c := ps.Containers[0]
	tr := &TrainJobTrainer{
		Image:    c.Image,
		Command:  c.Command,
		Args:     c.Args,
		Env:      append(c.Env, secretEnv(c.EnvFrom)...),
		NumNodes: i32(t.Workers),
	}
	if len(c.Resources.Requests) > 0 || len(c.Resources.Limits) > 0 {
		tr.ResourcesPerNode = &c.Resources
	}
	if n := ProcsPerNode(t); n > 0 {
		tr.NumProcPerNode = i32(n)
	}
	podPatch := PodSpecPatch{
		ServiceAccountName: ps.ServiceAccountName,
		NodeSelector:       ps.NodeSelector,
		Affinity:           ps.Affinity,
		Tolerations:        ps.Tolerations,
		Volumes:            ps.Volumes,
		SecurityContext:    ps.SecurityContext,
		ImagePullSecrets:   ps.ImagePullSecrets,
		Containers: []ContainerPatch{{
			Name:            NodeContainer,
			SecurityContext: c.SecurityContext,
			VolumeMounts:    c.VolumeMounts,
		}},
	}
	labels := map[string]string{
		render.LabelName:      render.ObjectName(name),
		render.LabelPartOf:    sys.Name,
		render.LabelComponent: Component,
		render.LabelManagedBy: render.ManagedBy,
	}
	var jobs []ReplicatedJobPatch
	for _, j := range TrainerJobs(t) {
		jobs = append(jobs, ReplicatedJobPatch{Name: j, Template: JobPatch{Spec: JobSpecPatch{Template: PodTemplatePatch{
			Metadata: &PodMetadataPatch{Labels: labels},
			Spec:     podPatch,
		}}}})
	}
	// The initializer containers run with the entry's security too (the
	// runtimes set none, and a pod with no securityContext fails
	// restricted); their environment goes in spec.initializer, which is
	// where the webhook wants it.
	init, initJobs := initializer(env, t)
	for _, j := range initJobs {
		jobs = append(jobs, ReplicatedJobPatch{Name: j, Template: JobPatch{Spec: JobSpecPatch{Template: PodTemplatePatch{
			Metadata: &PodMetadataPatch{Labels: labels},
			Spec: PodSpecPatch{
				ServiceAccountName: ps.ServiceAccountName,
				SecurityContext:    ps.SecurityContext,
				Containers:         []ContainerPatch{{Name: j, SecurityContext: c.SecurityContext}},
			},
		}}}})
	}
	job := &TrainJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: k.APIVersion(), Kind: k.Kind},
		ObjectMeta: om,
		Spec: TrainJobSpec{
			RuntimeRef:  RuntimeRef{Name: Runtime(t), APIGroup: TrainerGroup, Kind: ClusterRuntimeKind},
			Initializer: init,
			Trainer:     tr,
			RuntimePatches: []RuntimePatch{{
				Manager:             PatchManager,
				TrainingRuntimeSpec: TrainingRuntimeSpec{Template: JobSetTemplatePatch{Spec: JobSetSpecPatch{ReplicatedJobs: jobs}}},
			}},
		},
	}
	// A pipeline step or a sweep trial renders a copy of the entry with
	// its own arguments and deadline; its TrainJob names the runtime the
	// training renderer rendered for the entry itself.
	base := t
	if e := env.Spec.Training[name]; e != nil {
		base = e
	}
	if rt := NewTrainingRuntime(sys, env, name, base); rt != nil {
		// The entry's own runtime lays out every pod already.
		job.Spec.RuntimeRef = RuntimeRef{Name: rt.Name, APIGroup: TrainerGroup, Kind: RuntimeKind}
		job.Spec.RuntimePatches = nil
	}
	if v := t.RunPolicy.ActiveDeadlineSeconds; v != nil {
		d := int64(*v)
		job.Spec.ActiveDeadlineSeconds = &d
	}
	if t.RunPolicy.Suspend {
		job.Spec.Suspend = new(true)
	}
	return job
}

// initializer is the TrainJob's initializer section and the initializer
// jobs it uses, in the runtime's order; nil for an entry without
// initializers.
func initializer(env *ir.Environment, t *ir.Training) (*Initializer, []string) {
	in := t.Initializers
	if in == nil || (in.Dataset == "" && in.Model == "") {
		return nil, nil
	}
	var home []corev1.EnvVar
	if t.Security.Restricted() {
		// As for kiln's own containers: an arbitrary UID has no home
		// the Hugging Face cache could live in.
		home = []corev1.EnvVar{{Name: "HOME", Value: pod.Home}}
	}
	out := &Initializer{}
	var jobs []string
	if d := env.Spec.Datasets[in.Dataset]; in.Dataset != "" && d != nil {
		out.Dataset = &InitializerSource{StorageURI: d.URI, Env: home}
		if d.Credentials != nil {
			out.Dataset.SecretRef = &corev1.LocalObjectReference{Name: d.Credentials.Secret}
		}
		jobs = append(jobs, DatasetInitializer)
	}
	if in.Model != "" {
		out.Model = &InitializerSource{StorageURI: in.Model, Env: home}
		if in.ModelCredentials != "" {
			out.Model.SecretRef = &corev1.LocalObjectReference{Name: in.ModelCredentials}
		}
		jobs = append(jobs, ModelInitializer)
	}
	return out, jobs
}

// checkInitializers reports initializers the runtime cannot run: a
// stock runtime without initializer jobs, a dataset that is not the
// system's or that the initializer cannot fetch.
func checkInitializers(c *render.Context, path string, t *ir.Training) {
	in := t.Initializers
	if in == nil {
		return
	}
	p := ir.Join(path, "initializers")
	if r := Runtime(t); runtimesWithoutInitializers[r] && !addsInitializers(t) {
		c.Errorf(p, "runtime %q has no %s or %s job, and Trainer refuses a TrainJob with initializers on it; name a runtime that has them (runtime: \"torchtune-llama3.2-1b\" or one of the cluster's) or one kiln adds them to (%s), or mount the data with datasets", r, DatasetInitializer, ModelInitializer, strings.Join(slices.Sorted(maps.Keys(stockRuntimes)), ", "))
	}
	if in.Dataset == "" {
		return
	}
	d := c.Env.Spec.Datasets[in.Dataset]
	if d == nil {
		c.Errorf(ir.Join(p, "dataset"), "initializers.dataset names %q, which is not one of the system's datasets", in.Dataset)
		return
	}
	if !slices.ContainsFunc(initializerSchemes, func(s string) bool { return strings.HasPrefix(d.URI, s) }) {
		c.Errorf(ir.Join(p, "dataset"), "dataset %s is %s, which Trainer's dataset initializer cannot fetch (it reads %s); list it in datasets to mount it instead", in.Dataset, d.URI, strings.Join(initializerSchemes, " and "))
	}
}

// ProcsPerNode is the TrainJob's numProcPerNode: the entry's nprocPerNode
// when it is a number, the node's GPUs for "gpu", MPI slots per worker;
// 0 leaves it to the runtime ("auto" and "cpu" are torchrun's own
// defaults, which Trainer v2.3.0 no longer spells).
func ProcsPerNode(t *ir.Training) int {
	switch t.Framework {
	case "mpi":
		return SlotsPerWorker(t)
	case "pytorch":
		if t.NprocPerNode == nil {
			return 0
		}
		if f, ok := t.NprocPerNode.Float(); ok {
			return int(f)
		}
		if t.NprocPerNode.String() == "gpu" {
			return t.Resources.GPUs
		}
	}
	return 0
}

// DerivedNamesIn are the longest names the controller derives from a job
// of the entry named name, for the API the entry runs on in spec s.
func DerivedNamesIn(s *ir.Spec, name string, t *ir.Training) []string {
	if s.TrainingAPI(t) == ir.TrainingV2 {
		return V2DerivedNames(name, t)
	}
	return DerivedNames(name, t)
}

// V2DerivedNames are the longest names JobSet derives from a TrainJob
// named name: each trainer job's last pod hostname,
// <name>-<job>-0-<index>, which must be a DNS label.
func V2DerivedNames(name string, t *ir.Training) []string {
	var out []string
	for _, j := range TrainerJobs(t) {
		n := t.Workers
		if j == LauncherJob {
			n = 1
		}
		out = append(out, fmt.Sprintf("%s-%s-0-%d", name, j, n-1))
	}
	return out
}

// v2Unsupported lists the entry's settings Trainer v2 has no place for,
// by field path, with why. Settings a runtime holds but a runtime patch
// cannot (gang scheduling, priority class, retries, TTL, sshd) are not
// among them: the entry gets a
// TrainingRuntime of its own (runtimeSettings).
func v2Unsupported(t *ir.Training) map[string]string {
	out := map[string]string{}
	why := func(field, msg string) { out[field] = msg }
	if t.Elastic != nil {
		why("elastic", "Trainer v2 has no elastic training")
	}
	if t.MPIImplementation != "" && t.MPIImplementation != "OpenMPI" {
		why("mpiImplementation", "Trainer v2.3.0's MPI policy runs OpenMPI only")
	}
	if t.RunPolicy.CleanPodPolicy != "" {
		why("runPolicy.cleanPodPolicy", "a TrainJob's pods are cleaned up as its JobSet's, which has no such policy")
	}
	return out
}

// CheckV2 reports what keeps an entry from running on Trainer v2, at the
// spec position of each setting: a framework v2 has no runtime for, an
// MPI entry without a runtime, settings Trainer v2 has no place for, and
// settings that need a runtime of the entry's own when kiln cannot derive
// one. It reports whether a TrainJob can be rendered.
func CheckV2(c *render.Context, path string, t *ir.Training) bool {
	if !slices.Contains(V2Frameworks, t.Framework) {
		c.Errorf(ir.Join(path, "framework"), "framework %q has no Kubeflow Trainer v2 runtime (v2 runs %s); set api: \"v1\" on this entry to run it on the training operator", t.Framework, strings.Join(V2Frameworks, ", "))
		return false
	}
	if Runtime(t) == "" {
		c.Errorf(path, "an mpi entry on Trainer v2 must name its runtime (runtime: \"deepspeed-distributed\", \"mlx-distributed\" or a ClusterTrainingRuntime of the cluster's): Trainer v2.3.0 has no framework-neutral MPI runtime")
		return false
	}
	checkInitializers(c, path, t)
	un := v2Unsupported(t)
	for _, f := range slices.Sorted(maps.Keys(un)) {
		c.Errorf(ir.Join(path, strings.Split(f, ".")...), "%s is not a TrainJob setting on Trainer v2: %s; leave it out, or set api: \"v1\" on this entry", f, un[f])
	}
	return checkOwnRuntime(c, path, t)
}

// Labels JobSet puts on the pods of a replicated job.
const (
	ReplicatedJobLabel = "jobset.sigs.k8s.io/replicatedjob-name"
	JobIndexLabel      = "jobset.sigs.k8s.io/job-index"
	CompletionIndex    = "batch.kubernetes.io/job-completion-index"
)

// PrimaryPodV2 is the container and pod labels of the TrainJob pod whose
// log carries the metrics: the MPI launcher, or else the first node
// (rank 0 of torchrun and XGBoost's tracker).
func PrimaryPodV2(t *ir.Training) (string, map[string]string) {
	jobs := TrainerJobs(t)
	if slices.Contains(jobs, LauncherJob) {
		return NodeContainer, map[string]string{ReplicatedJobLabel: LauncherJob}
	}
	return NodeContainer, map[string]string{ReplicatedJobLabel: NodeJob, JobIndexLabel: "0", CompletionIndex: "0"}
}

// s3Variables are the variables an S3 dataset's Secret holds for the AWS
// SDKs (and MinIO's clients), as the Secrets kiln's v1 pods import whole.
var s3Variables = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
}

// secretEnv turns the Secrets a v1 pod imports whole (envFrom: an S3
// dataset's credentials) into variables: a TrainJob's trainer has env but
// no envFrom, nor does a runtime patch's container, so the credentials
// would otherwise never reach the trainer. Each variable is optional, as
// a missing key is under envFrom; only the AWS SDK's variables are
// carried, not every key of the Secret.
func secretEnv(from []corev1.EnvFromSource) []corev1.EnvVar {
	var out []corev1.EnvVar
	for _, f := range from {
		if f.SecretRef == nil {
			continue
		}
		for _, name := range s3Variables {
			out = append(out, corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: f.SecretRef.LocalObjectReference, Key: name, Optional: new(true),
			}}})
		}
	}
	return out
}
