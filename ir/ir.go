package ir

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/kiln-ml/kiln/diag"
)

// System is a compiled spec: the base metadata and one fully resolved Spec
// per environment.
type System struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Owners      []string          `json:"owners,omitempty"`
	Description string            `json:"description,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	// GitOps is how Argo CD deploys the system; nil when the spec has no
	// gitops section.
	GitOps *GitOps `json:"gitops,omitempty"`

	// Environments are sorted by name.
	Environments []*Environment `json:"-"`

	// Dir is the spec directory as the user named it.
	Dir string `json:"-"`
	// Sources maps CUE paths to where the user wrote them in the spec
	// before any environment's overrides: the base of every
	// Environment.Sources, and the positions of the environments' own
	// fields (overrides, patches).
	Sources Sources `json:"-"`
	// SpecDir is the spec directory on the same footing as diagnostic
	// positions (relative to the working directory, slash-separated), so
	// a position can be made relative to the spec itself.
	SpecDir string `json:"-"`
}

// Environment is one deployment target with everything resolved for it.
type Environment struct {
	Name        string      `json:"-"`
	Namespace   string      `json:"namespace,omitempty"`
	Production  bool        `json:"production"`
	Destination Destination `json:"destination"`
	GPU         GPUPolicy   `json:"gpu"`
	Ingress     Ingress     `json:"ingress"`
	Quota       *Quota      `json:"quota,omitempty"`
	Sync        SyncPolicy  `json:"sync"`
	// Patches are kustomize patches by name, applied in name order.
	Patches map[string]*Patch `json:"patches,omitempty"`
	// Policy holds the rules of the spec's #Policy in this environment
	// that need the rendered system to check (see PolicyRule).
	Policy []PolicyRule `json:"-"`

	// Spec is the base spec with this environment's overrides applied and
	// entries limited to this environment removed where they do not apply.
	Spec *Spec `json:"-"`

	// Sources maps CUE paths (as printed in diagnostics) to the position
	// of the value that counts in this environment: the override if there
	// is one, the base value otherwise.
	Sources Sources `json:"-"`
}

// Destination is where Argo CD deploys an environment.
type Destination struct {
	Server string `json:"server,omitempty"`
	Name   string `json:"name,omitempty"`
}

// Ingress is how an environment routes to its served models.
type Ingress struct {
	// API is "istio" or "gateway-api".
	API     string      `json:"api"`
	Gateway *GatewayRef `json:"gateway,omitempty"`
	// Mesh is "istio" or "none".
	Mesh string `json:"mesh"`
}

// GatewayAPI reports whether models route through Gateway API HTTPRoutes.
func (i Ingress) GatewayAPI() bool { return i.API == "gateway-api" }

// Istio reports whether Istio's sidecars run next to the models.
func (i Ingress) Istio() bool { return i.Mesh != "none" }

// GatewayRef names a Gateway API Gateway and, optionally, its listener.
type GatewayRef struct {
	Name        string `json:"name"`
	Namespace   string `json:"namespace,omitempty"`
	SectionName string `json:"sectionName,omitempty"`
}

// GPUPolicy is an environment's GPU budget and hardware.
type GPUPolicy struct {
	Quota       int          `json:"quota"`
	MaxPerPod   int          `json:"maxPerPod"`
	Products    []string     `json:"products,omitempty"`
	Tolerations []Toleration `json:"tolerations,omitempty"`
}

// DefaultProduct is the GPU model entries get unless they pin one.
func (g GPUPolicy) DefaultProduct() string {
	if len(g.Products) == 0 {
		return ""
	}
	return g.Products[0]
}

// Toleration admits pods onto tainted nodes.
type Toleration struct {
	Key      string `json:"key"`
	Operator string `json:"operator"`
	Value    string `json:"value,omitempty"`
	Effect   string `json:"effect,omitempty"`
}

// Quota caps a namespace's CPU and memory requests.
type Quota struct {
	CPU    Quantity `json:"cpu,omitempty"`
	Memory Quantity `json:"memory,omitempty"`
}

// Spec is everything an environment runs.
type Spec struct {
	// Images are the ref of each images entry, short form or long.
	Images map[string]string `json:"images,omitempty"`
	// Builds are the images entries that pipelines build (images.<name>.build),
	// by name; the compiler decodes them from the long form of images.
	Builds    map[string]*ImageBuild `json:"-"`
	Datasets  map[string]*Dataset    `json:"datasets,omitempty"`
	Artifacts *ArtifactRepository    `json:"artifacts,omitempty"`
	Workflows *Workflows             `json:"workflows,omitempty"`
	Katib     *Katib                 `json:"katib,omitempty"`
	// TrainingOperator describes the cluster's training operator.
	TrainingOperator *TrainingOperator `json:"trainingOperator,omitempty"`
	// Trainer says which training API entries target (v1 or v2).
	Trainer    Trainer              `json:"trainer"`
	Components map[string]*Step     `json:"components,omitempty"`
	Training   map[string]*Training `json:"training,omitempty"`
	Pipelines  map[string]*Pipeline `json:"pipelines,omitempty"`
	Sweeps     map[string]*Sweep    `json:"sweeps,omitempty"`
	Serving    map[string]*Serving  `json:"serving,omitempty"`
	Notebooks  map[string]*Notebook `json:"notebooks,omitempty"`
}

// Trainer says which Kubeflow training API the cluster serves.
type Trainer struct {
	// API is "v1" (the training operator's per-framework jobs) or "v2"
	// (Kubeflow Trainer's TrainJob); "" reads as v1.
	API string `json:"api"`
}

// Training APIs.
const (
	TrainingV1 = "v1"
	TrainingV2 = "v2"
)

// TrainingAPI is the API an entry renders for: its own api, else the
// system's trainer.api, else v1.
func (s *Spec) TrainingAPI(t *Training) string {
	switch {
	case t.API != "":
		return t.API
	case s != nil && s.Trainer.API != "":
		return s.Trainer.API
	}
	return TrainingV1
}

// Katib describes how the cluster's Katib is configured.
type Katib struct {
	// Restricted: katib-config secures the metrics collector and the
	// suggestion containers (see the schema).
	Restricted bool `json:"restricted"`
	// TrainJobs: katib-config lists TrainJob among its trialResources.
	TrainJobs bool `json:"trainJobs"`
}

// TrainingOperator describes how the cluster's Kubeflow training operator
// is configured.
type TrainingOperator struct {
	// Restricted: the operator's init-container template secures
	// init-pytorch (see the schema).
	Restricted bool `json:"restricted"`
}

// Sources maps CUE paths to source positions.
type Sources map[string]diag.Pos

// Pos returns the position recorded for path or, failing that, for its
// nearest ancestor, so every diagnostic points somewhere useful.
func (s Sources) Pos(path string) diag.Pos {
	for p := path; p != ""; p = Parent(p) {
		if pos, ok := s[p]; ok {
			return pos
		}
	}
	// The root: where the spec starts.
	return s[""]
}

// Quantity is a Kubernetes quantity as the user wrote it ("8", "64Gi").
// The schema accepts whole numbers too; they decode to their decimal form.
type Quantity string

// UnmarshalJSON accepts a string or a number.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*q = Quantity(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("quantity must be a string or a number: %s", b)
	}
	*q = Quantity(n.String())
	return nil
}

// Value is a scalar a user wrote: a string, number or bool. It keeps the
// user's spelling of numbers ("1e-4" stays as CUE printed it).
type Value struct {
	json.RawMessage
}

// String renders the value as it goes on a command line or into an Argo
// parameter: strings unquoted, numbers and bools as JSON writes them.
func (v Value) String() string {
	var s string
	if err := json.Unmarshal(v.RawMessage, &s); err == nil {
		return s
	}
	return string(v.RawMessage)
}

// Float returns the value as a number, if it is one.
func (v Value) Float() (float64, bool) {
	f, err := strconv.ParseFloat(string(v.RawMessage), 64)
	return f, err == nil
}

// IsString reports whether the value is a JSON string.
func (v Value) IsString() bool { return len(v.RawMessage) > 0 && v.RawMessage[0] == '"' }

// EnvVar is a literal value or a Secret reference.
type EnvVar struct {
	Value  string     `json:"-"`
	Secret *SecretRef `json:"-"`
}

// UnmarshalJSON accepts either form the schema allows.
func (e *EnvVar) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		e.Secret = new(SecretRef)
		return json.Unmarshal(b, e.Secret)
	}
	return json.Unmarshal(b, &e.Value)
}

// MarshalJSON writes the form the user wrote, so a marshalled Spec reads
// like the spec (kiln explain prints it).
func (e EnvVar) MarshalJSON() ([]byte, error) {
	if e.Secret != nil {
		return json.Marshal(e.Secret)
	}
	return json.Marshal(e.Value)
}

// SecretRef names a Secret (and optionally one key of it).
type SecretRef struct {
	Secret string `json:"secret"`
	Key    string `json:"key,omitempty"`
}

// Dataset is data the system reads.
type Dataset struct {
	URI         string     `json:"uri"`
	Credentials *SecretRef `json:"credentials,omitempty"`
	MountPath   string     `json:"mountPath,omitempty"`
	ReadOnly    bool       `json:"readOnly"`
	Description string     `json:"description,omitempty"`
}

// ArtifactRepository is where pipelines keep artifacts.
type ArtifactRepository struct {
	S3  *S3Repository  `json:"s3,omitempty"`
	GCS *GCSRepository `json:"gcs,omitempty"`
}

// S3Repository is an S3-compatible bucket (AWS S3, MinIO, …).
type S3Repository struct {
	Bucket      string         `json:"bucket"`
	Endpoint    string         `json:"endpoint"`
	Region      string         `json:"region,omitempty"`
	Insecure    bool           `json:"insecure"`
	KeyPrefix   string         `json:"keyPrefix,omitempty"`
	Credentials *S3Credentials `json:"credentials,omitempty"`
}

// S3Credentials name the Secret and keys of an S3 access key pair.
type S3Credentials struct {
	Secret    string `json:"secret"`
	AccessKey string `json:"accessKey"`
	SecretKey string `json:"secretKey"`
}

// GCSRepository is a Google Cloud Storage bucket.
type GCSRepository struct {
	Bucket      string     `json:"bucket"`
	KeyPrefix   string     `json:"keyPrefix,omitempty"`
	Credentials *SecretRef `json:"credentials,omitempty"`
}

// Resources is what one pod needs.
type Resources struct {
	GPUs             int      `json:"gpus"`
	MIG              string   `json:"mig,omitempty"`
	GPUProduct       string   `json:"gpuProduct,omitempty"`
	CPU              Quantity `json:"cpu,omitempty"`
	Memory           Quantity `json:"memory,omitempty"`
	SHM              Quantity `json:"shm,omitempty"`
	EphemeralStorage Quantity `json:"ephemeralStorage,omitempty"`
}

// GPUResource is the extended resource name the pod requests.
func (r Resources) GPUResource() string {
	if r.MIG != "" {
		return "nvidia.com/mig-" + r.MIG
	}
	return "nvidia.com/gpu"
}

// Security is how a workload's pods run.
type Security struct {
	Profile    string `json:"profile"`
	RunAsUser  int64  `json:"runAsUser"`
	RunAsGroup int64  `json:"runAsGroup"`
	FSGroup    int64  `json:"fsGroup"`
}

// Restricted reports whether pods must meet the restricted profile.
func (s Security) Restricted() bool { return s.Profile != "baseline" }

// Scheduling controls placement and admission.
type Scheduling struct {
	Gang          string `json:"gang,omitempty"`
	Queue         string `json:"queue,omitempty"`
	PriorityClass string `json:"priorityClass,omitempty"`
}

// Training is a training job.
type Training struct {
	Framework         string            `json:"framework"`
	API               string            `json:"api,omitempty"`
	Runtime           string            `json:"runtime,omitempty"`
	Initializers      *Initializers     `json:"initializers,omitempty"`
	Image             string            `json:"image"`
	Command           []string          `json:"command,omitempty"`
	Args              map[string]Value  `json:"args,omitempty"`
	ExtraArgs         []string          `json:"extraArgs,omitempty"`
	Env               map[string]EnvVar `json:"env,omitempty"`
	Datasets          []string          `json:"datasets,omitempty"`
	Workers           int               `json:"workers"`
	Resources         Resources         `json:"resources"`
	NprocPerNode      *Value            `json:"nprocPerNode,omitempty"`
	Elastic           *Elastic          `json:"elastic,omitempty"`
	ParameterServers  int               `json:"parameterServers"`
	Evaluator         bool              `json:"evaluator"`
	SlotsPerWorker    int               `json:"slotsPerWorker,omitempty"`
	MPIImplementation string            `json:"mpiImplementation"`
	SSH               *SSH              `json:"ssh,omitempty"`
	RunPolicy         RunPolicy         `json:"runPolicy"`
	Scheduling        *Scheduling       `json:"scheduling,omitempty"`
	Security          Security          `json:"security"`
	ServiceAccount    string            `json:"serviceAccount,omitempty"`
	ImagePullSecrets  []string          `json:"imagePullSecrets,omitempty"`
	Standalone        *bool             `json:"standalone,omitempty"`
	Environments      []string          `json:"environments,omitempty"`
}

// Initializers are what a Trainer v2 runtime's initializer jobs fetch.
type Initializers struct {
	Dataset          string `json:"dataset,omitempty"`
	Model            string `json:"model,omitempty"`
	ModelCredentials string `json:"modelCredentials,omitempty"`
	// Storage is the volume they fetch into when kiln renders the
	// runtime's initializer jobs.
	Storage InitializerStorage `json:"storage"`
}

// InitializerStorage is the volume of a rendered runtime's initializers.
type InitializerStorage struct {
	Size  Quantity `json:"size"`
	Class string   `json:"class,omitempty"`
}

// SSH is how an MPI image runs sshd on its workers.
type SSH struct {
	AuthMountPath string   `json:"authMountPath,omitempty"`
	WorkerCommand []string `json:"workerCommand,omitempty"`
}

// Elastic is PyTorch elastic training.
type Elastic struct {
	MinReplicas int    `json:"minReplicas"`
	MaxReplicas int    `json:"maxReplicas"`
	MaxRestarts *int   `json:"maxRestarts,omitempty"`
	RdzvBackend string `json:"rdzvBackend"`
}

// RunPolicy controls a training job's lifetime.
type RunPolicy struct {
	// CleanPodPolicy is "" when the entry does not choose; the training
	// renderer then picks one from the job's topology and GPUs.
	CleanPodPolicy          string `json:"cleanPodPolicy,omitempty"`
	BackoffLimit            *int   `json:"backoffLimit,omitempty"`
	ActiveDeadlineSeconds   *int   `json:"activeDeadlineSeconds,omitempty"`
	TTLSecondsAfterFinished *int   `json:"ttlSecondsAfterFinished,omitempty"`
	Suspend                 bool   `json:"suspend"`
}

// EnvironmentNames lists the names of the compiled environments, sorted.
func (s *System) EnvironmentNames() []string {
	names := make([]string, len(s.Environments))
	for i, e := range s.Environments {
		names[i] = e.Name
	}
	return names
}
