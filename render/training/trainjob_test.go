package training

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/validate"
)

// runtimeNode is the trainer container of a stock runtime, as Trainer
// v2.3.0's chart installs it, before the TrainJob's overrides: the MPI
// runtimes run as the image's user, mpiuser, and give the pod fsGroup
// 1000; torch-distributed and xgboost-distributed set nothing but a name
// and an image.
func runtimeNode(runtime string) (corev1.PodSpec, corev1.Container) {
	c := corev1.Container{Name: NodeContainer, Image: "runtime-default:latest"}
	var ps corev1.PodSpec
	if mpiRuntimes[runtime] {
		c.SecurityContext = &corev1.SecurityContext{RunAsUser: new(int64(1000))}
		ps.SecurityContext = &corev1.PodSecurityContext{FSGroup: new(int64(1000))}
	}
	return ps, c
}

// admittedPods builds the pods of each trainer job of a TrainJob the way
// Trainer's controller does: the runtime's pod template, the runtime
// patch merged into it field by field, then spec.trainer's image,
// command, arguments, environment and resources on the node container.
func admittedPods(t *testing.T, job *TrainJob) map[string]corev1.Pod {
	t.Helper()
	out := map[string]corev1.Pod{}
	require.Len(t, job.Spec.RuntimePatches, 1)
	for _, rj := range job.Spec.RuntimePatches[0].TrainingRuntimeSpec.Template.Spec.ReplicatedJobs {
		ps, c := runtimeNode(job.Spec.RuntimeRef.Name)
		p := rj.Template.Spec.Template.Spec
		ps.ServiceAccountName = p.ServiceAccountName
		ps.NodeSelector = p.NodeSelector
		ps.Affinity = p.Affinity
		ps.Tolerations = p.Tolerations
		ps.Volumes = p.Volumes
		ps.ImagePullSecrets = p.ImagePullSecrets
		if p.SecurityContext != nil {
			merged := *p.SecurityContext
			if ps.SecurityContext != nil && merged.FSGroup == nil {
				merged.FSGroup = ps.SecurityContext.FSGroup
			}
			ps.SecurityContext = &merged
		}
		require.Len(t, p.Containers, 1)
		c.Name = p.Containers[0].Name
		if sc := p.Containers[0].SecurityContext; sc != nil {
			merged := *sc
			if c.SecurityContext != nil && merged.RunAsUser == nil {
				merged.RunAsUser = c.SecurityContext.RunAsUser
			}
			c.SecurityContext = &merged
		}
		c.VolumeMounts = p.Containers[0].VolumeMounts
		switch c.Name {
		case NodeContainer:
			tr := job.Spec.Trainer
			c.Image, c.Command, c.Args, c.Env = tr.Image, tr.Command, tr.Args, tr.Env
			if tr.ResourcesPerNode != nil {
				c.Resources = *tr.ResourcesPerNode
			}
		case DatasetInitializer:
			c.Env = job.Spec.Initializer.Dataset.Env
		case ModelInitializer:
			c.Env = job.Spec.Initializer.Model.Env
		default:
			t.Fatalf("runtime patch of an unknown container %s", c.Name)
		}
		ps.Containers = []corev1.Container{c}
		out[rj.Name] = corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: job.Name + "-" + rj.Name + "-0-0", Namespace: "derm-ml"},
			Spec:       ps,
		}
	}
	return out
}

func trainJobOf(t *testing.T, tr *ir.Training) *TrainJob {
	t.Helper()
	diags, items := renderOne(t, tr)
	require.Empty(t, diags)
	require.Len(t, items, 1)
	job, ok := items[0].Object.(*TrainJob)
	require.True(t, ok, "a v2 entry renders a TrainJob, got %T", items[0].Object)
	return job
}

// The pods Trainer's controller creates from a restricted entry's
// TrainJob meet the restricted Pod Security Standard, on each runtime;
// a baseline entry's do not.
func TestTrainJobPodsAreRestricted(t *testing.T) {
	for name, tr := range goldenCases() {
		if tr.API != ir.TrainingV2 || NeedsOwnRuntime(tr) {
			continue // TestOwnRuntimePodsAreRestricted
		}
		t.Run(name, func(t *testing.T) {
			pods := admittedPods(t, trainJobOf(t, tr))
			want := len(TrainerJobs(tr))
			if in := tr.Initializers; in != nil {
				want += len(slices.DeleteFunc([]string{in.Dataset, in.Model}, func(s string) bool { return s == "" }))
			}
			require.Len(t, pods, want, "a pod per trainer and initializer job")
			for rj, p := range pods {
				b, err := yaml.Marshal(p)
				require.NoError(t, err)
				assert.Empty(t, validate.RestrictedViolations(b), "pod of replicated job %s", rj)
			}
		})
	}
	base := goldenCases()["trainjob-pytorch"]
	base.Security = ir.Security{Profile: "baseline", RunAsUser: 1000, RunAsGroup: 1000, FSGroup: 1000}
	for rj, p := range admittedPods(t, trainJobOf(t, base)) {
		b, err := yaml.Marshal(p)
		require.NoError(t, err)
		assert.NotEmpty(t, validate.RestrictedViolations(b), "baseline pod of replicated job %s", rj)
	}
}

// The CRD check of TrainJobs runs Trainer's CEL rules: a storage URI
// without a scheme and an unknown managedBy are refused, as the API
// server would.
func TestTrainJobCEL(t *testing.T) {
	v := crdValidator(t)
	b, err := os.ReadFile(filepath.Join("testdata", "golden", "trainjob-pytorch.yaml"))
	require.NoError(t, err)
	require.Empty(t, v.Validate(b))
	for field, bad := range map[string]string{
		"storageUri": "spec:\n  initializer:\n    dataset:\n      storageUri: isic-2020\n",
		"managedBy":  "spec:\n  managedBy: kiln.dev/render\n",
	} {
		doc := bytes.Replace(b, []byte("spec:\n"), []byte(bad), 1)
		require.NotEqual(t, b, doc)
		errs := v.Validate(doc)
		assert.NotEmpty(t, errs, field)
	}
}

// A step that applies a TrainJob waits for Complete at the position
// Trainer puts it: first, or second after the Suspended condition of a
// job Kueue (or the entry) suspends first.
func TestKindForConditions(t *testing.T) {
	v1, ok := KindFor(&ir.Spec{}, job("pytorch"))
	require.True(t, ok)
	assert.Equal(t, "PyTorchJob", v1.Kind)

	tr := job("pytorch")
	tr.API = ir.TrainingV2
	k, ok := KindFor(&ir.Spec{}, tr)
	require.True(t, ok)
	assert.Equal(t, "TrainJob", k.Kind)
	assert.Equal(t, "status.conditions.0.type==Complete", k.Done)
	assert.Contains(t, k.Failed, "status.conditions.7.type==Failed")
	assert.Equal(t, JobSetNameLabel, k.PodJobLabel)

	tr.Scheduling = &ir.Scheduling{Queue: "team"}
	k, _ = KindFor(&ir.Spec{}, tr)
	assert.Equal(t, "status.conditions.1.type==Complete", k.Done)

	// The system's setting applies to entries that choose none.
	k, _ = KindFor(&ir.Spec{Trainer: ir.Trainer{API: ir.TrainingV2}}, job("xgboost"))
	assert.Equal(t, "TrainJob", k.Kind)
}

func TestTrainJobErrors(t *testing.T) {
	tests := []struct {
		name string
		tr   func() *ir.Training
		want []want
	}{
		{
			name: "framework without v2 runtime",
			tr:   func() *ir.Training { return job("tensorflow") },
			want: []want{{"training.resnet.framework", 11, `framework "tensorflow" has no Kubeflow Trainer v2 runtime (v2 runs pytorch, xgboost, mpi); set api: "v1" on this entry to run it on the training operator`}},
		},
		{
			name: "mpi without runtime",
			tr:   func() *ir.Training { return job("mpi") },
			want: []want{{"training.resnet", 10, `an mpi entry on Trainer v2 must name its runtime (runtime: "deepspeed-distributed", "mlx-distributed" or a ClusterTrainingRuntime of the cluster's): Trainer v2.3.0 has no framework-neutral MPI runtime`}},
		},
		{
			name: "initializers on a runtime without them",
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Initializers = &ir.Initializers{Dataset: "shards", Model: "hf://org/model"}
				return t
			},
			want: []want{
				{"training.resnet.initializers.dataset", 10, `dataset shards is pvc://derm-shards/v3, which Trainer's dataset initializer cannot fetch (it reads hf:// and s3://); list it in datasets to mount it instead`},
			},
		},
		{
			name: "initializers on a runtime kiln does not add them to",
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Runtime = "jax-distributed"
				t.Initializers = &ir.Initializers{Model: "hf://org/model"}
				return t
			},
			want: []want{
				{"training.resnet.initializers", 10, `runtime "jax-distributed" has no dataset-initializer or model-initializer job, and Trainer refuses a TrainJob with initializers on it; name a runtime that has them (runtime: "torchtune-llama3.2-1b" or one of the cluster's) or one kiln adds them to (deepspeed-distributed, mlx-distributed, torch-distributed, xgboost-distributed), or mount the data with datasets`},
			},
		},
		{
			name: "gang scheduling with initializers",
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Initializers = &ir.Initializers{Model: "hf://org/model"}
				t.Scheduling = &ir.Scheduling{Gang: "coscheduling"}
				return t
			},
			want: []want{
				{"training.resnet.scheduling.gang", 10, `gang scheduling with initializers never starts: Trainer's PodGroup counts the initializer pods with the nodes, and the nodes start only after the initializers finished; drop the gang, or fetch the data another way (datasets)`},
			},
		},
		{
			name: "runtime settings on a runtime kiln cannot derive from",
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Runtime = "acme-torch"
				t.Scheduling = &ir.Scheduling{Gang: "volcano"}
				t.RunPolicy.TTLSecondsAfterFinished = intp(60)
				return t
			},
			want: []want{
				{"training.resnet.scheduling.gang", 10, `scheduling.gang needs a TrainingRuntime of the entry's own, which kiln derives only from Trainer's stock runtimes (deepspeed-distributed, mlx-distributed, torch-distributed, xgboost-distributed), and runtime "acme-torch" is not one of them; set it in that runtime, name a stock runtime, or set api: "v1" on this entry`},
				{"training.resnet.runPolicy.ttlSecondsAfterFinished", 27, `runPolicy.ttlSecondsAfterFinished needs a TrainingRuntime of the entry's own, which kiln derives only from Trainer's stock runtimes (deepspeed-distributed, mlx-distributed, torch-distributed, xgboost-distributed), and runtime "acme-torch" is not one of them; set it in that runtime, name a stock runtime, or set api: "v1" on this entry`},
			},
		},
		{
			name: "settings v2 has no place for",
			tr: func() *ir.Training {
				t := job("pytorch")
				t.Command = torchrun
				t.Elastic = &ir.Elastic{MinReplicas: 1, MaxReplicas: 2}
				t.RunPolicy.CleanPodPolicy = "All"
				return t
			},
			want: []want{
				{"training.resnet.runPolicy.cleanPodPolicy", 10, `runPolicy.cleanPodPolicy is not a TrainJob setting on Trainer v2: a TrainJob's pods are cleaned up as its JobSet's, which has no such policy; leave it out, or set api: "v1" on this entry`},
				{"training.resnet.elastic", 15, `elastic is not a TrainJob setting on Trainer v2: Trainer v2 has no elastic training; leave it out, or set api: "v1" on this entry`},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := tc.tr()
			tr.API = ir.TrainingV2
			diags, _ := renderOne(t, tr)
			var errs []want
			for _, d := range diagsOf(diags) {
				if !strings.Contains(d.Msg, "self-heals") {
					errs = append(errs, d)
				}
			}
			assert.Equal(t, tc.want, errs)
		})
	}
}

// The TrainJob's name leaves room for the names JobSet derives from it.
func TestTrainJobDerivedNames(t *testing.T) {
	tr := job("mpi")
	tr.Runtime, tr.Workers = "deepspeed-distributed", 12
	assert.Equal(t, []string{"j-node-0-11", "j-launcher-0-0"}, V2DerivedNames("j", tr))
	assert.Equal(t, []string{NodeJob, LauncherJob}, TrainerJobs(tr))
	tr = job("pytorch")
	assert.Equal(t, []string{NodeJob}, TrainerJobs(tr))
	assert.Equal(t, "torch-distributed", Runtime(tr))
}

// An entry with initializers that runs on v1 in an environment renders,
// with a warning that nothing fetches them there.
func TestInitializersOnV1Warn(t *testing.T) {
	tr := job("pytorch")
	tr.Initializers = &ir.Initializers{Model: "hf://org/model"}
	diags, items := renderOne(t, tr)
	require.Len(t, items, 1)
	assert.Equal(t, []want{{"training.resnet.initializers", 10, "initializers are for Kubeflow Trainer v2; prod runs this entry on the training operator (v1), where nothing fetches them"}}, diagsOf(diags))
}

// An S3 dataset's credentials reach the trainer of a TrainJob, which has
// no envFrom: as the AWS SDK's variables, each from the dataset's Secret
// and optional; the TrainJob stays valid against the CRD.
func TestTrainJobDatasetCredentials(t *testing.T) {
	tr := job("pytorch")
	tr.Datasets = []string{"isic"}
	env := &ir.Environment{Name: "dev", Namespace: "ml", Spec: &ir.Spec{
		Datasets: map[string]*ir.Dataset{"isic": {URI: "s3://acme/isic/", Credentials: &ir.SecretRef{Secret: "data-creds"}}},
		Training: map[string]*ir.Training{"resnet": tr},
	}}
	j := NewTrainJob(&ir.System{Name: "derm"}, env, "resnet", tr)
	byName := map[string]corev1.EnvVar{}
	for _, e := range j.Spec.Trainer.Env {
		byName[e.Name] = e
	}
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"} {
		e, ok := byName[name]
		require.True(t, ok, "%s missing from the trainer's env", name)
		require.NotNil(t, e.ValueFrom)
		require.NotNil(t, e.ValueFrom.SecretKeyRef)
		assert.Equal(t, "data-creds", e.ValueFrom.SecretKeyRef.Name)
		assert.Equal(t, name, e.ValueFrom.SecretKeyRef.Key)
		assert.True(t, *e.ValueFrom.SecretKeyRef.Optional)
	}
	assert.Equal(t, "s3://acme/isic/", byName["DATASET_ISIC_URI"].Value)
	j.Namespace = "ml" // as the render context sets it
	b, err := yaml.Marshal(j)
	require.NoError(t, err)
	assert.Empty(t, crdValidator(t).Validate(b))
}

// On an MPI runtime of the cluster's own, kiln cannot give every node the
// entry's image, nor see which job Trainer sets it on: an entry with more
// than one node renders with a warning at its workers; one node, or a
// stock runtime (kiln derives a runtime for it), has none.
func TestClusterMPIRuntimeImageWarns(t *testing.T) {
	tr := job("mpi")
	tr.API, tr.Runtime, tr.Workers = ir.TrainingV2, "openmpi-cluster", 4
	diags, items := renderOne(t, tr)
	require.NotEmpty(t, items)
	got := diagsOf(diags)
	require.Len(t, got, 1)
	assert.Equal(t, "training.resnet.workers", got[0].Path)
	assert.Contains(t, got[0].Msg, `runtime "openmpi-cluster" is the cluster's own MPI runtime`)
	assert.Contains(t, got[0].Msg, AncestorLabel+": trainer")

	tr.Workers = 1
	diags, _ = renderOne(t, tr)
	assert.Empty(t, diagsOf(diags), "one node is the launcher alone")

	tr.Runtime, tr.Workers = "deepspeed-distributed", 4
	diags, _ = renderOne(t, tr)
	assert.Empty(t, diagsOf(diags), "kiln derives a runtime with the entry's image on every node")
}
