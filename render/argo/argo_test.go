package argo

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/pod"
	"github.com/kiln-ml/kiln/render/training"
	"github.com/kiln-ml/kiln/validate"
	"github.com/kiln-ml/kiln/validate/validatetest"
)

// crdValidator is the validator with the upstream CRDs, loaded once.
func crdValidator(t *testing.T) *validate.Validator { return validatetest.CRDs(t) }

// fields resolves the plain gjson paths kiln's conditions use (object
// keys and array indices) in a JSON document: a stand-in for the gjson
// lookup Argo's executor does, enough to check what the conditions mean.
type fields struct{ doc any }

func (f fields) lookup(path string) (any, bool) {
	v := f.doc
	for _, k := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[k]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func (f fields) Has(path string) bool { _, ok := f.lookup(path); return ok }
func (f fields) Lookup(path string) (string, bool) {
	if !f.Has(path) {
		return "", false
	}
	return f.Get(path), true
}
func (f fields) Get(path string) string {
	v, _ := f.lookup(path)
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func status(t *testing.T, js string) fields {
	var doc any
	require.NoError(t, json.Unmarshal([]byte(js), &doc))
	return fields{doc}
}

// outcome evaluates conditions as Argo's executor does: any failure
// requirement fails the step; all success requirements pass it.
func outcome(t *testing.T, k render.Kind, obj fields) string {
	success, failure := k.Done, k.Failed
	fr, err := ParseCondition(failure)
	require.NoError(t, err)
	sr, err := ParseCondition(success)
	require.NoError(t, err)
	for _, r := range fr {
		if r.Matches(obj) {
			return "failed"
		}
	}
	for _, r := range sr {
		if !r.Matches(obj) {
			return "waiting"
		}
	}
	return "succeeded"
}

// The conditions a training step waits for, from the descriptors of every
// training kind.
func TestJobConditions(t *testing.T) {
	var kinds []render.Kind
	for _, k := range (training.Renderer{}).Kinds() {
		// A TrainingRuntime is configuration: no step waits on it.
		if k.Done != "" {
			kinds = append(kinds, k)
		}
	}
	require.NotEmpty(t, kinds)
	for _, k := range kinds {
		_, err := ParseCondition(k.Done)
		require.NoError(t, err, k.Kind)
		reqs, err := ParseCondition(k.Failed)
		require.NoError(t, err, k.Kind)
		assert.Len(t, reqs, training.MaxConditions, k.Kind)
	}
	// A gjson query cannot be spelled as a label selector: this is why
	// the conditions enumerate indices.
	_, err := ParseCondition(`status.conditions.#(type=="Failed").status == True`)
	assert.Error(t, err)

	cases := map[string]struct{ status, want string }{
		"created":   {`{"status":{"conditions":[{"type":"Created","status":"True"}]}}`, "waiting"},
		"running":   {`{"status":{"conditions":[{"type":"Created","status":"True"},{"type":"Running","status":"True"}]}}`, "waiting"},
		"no status": {`{"metadata":{"name":"x"}}`, "waiting"},
		"succeeded": {`{"status":{"completionTime":"2026-01-01T00:00:00Z","conditions":[{"type":"Created","status":"True"},{"type":"Running","status":"False"},{"type":"Succeeded","status":"True"}]}}`, "succeeded"},
		"failed":    {`{"status":{"completionTime":"2026-01-01T00:00:00Z","conditions":[{"type":"Created","status":"True"},{"type":"Running","status":"False"},{"type":"Failed","status":"True"}]}}`, "failed"},
		"failed after restarts, no completion time": {`{"status":{"conditions":[{"type":"Created","status":"True"},{"type":"Restarting","status":"False"},{"type":"Running","status":"False"},{"type":"Suspended","status":"False"},{"type":"JobQueued","status":"False"},{"type":"Failed","status":"True"}]}}`, "failed"},
	}
	for _, k := range kinds {
		if k.Kind == training.TrainJobKind().Kind {
			continue // TestTrainJobConditions
		}
		for name, c := range cases {
			t.Run(k.Kind+"/"+name, func(t *testing.T) {
				assert.Equal(t, c.want, outcome(t, k, status(t, c.status)))
			})
		}
	}
}

// A TrainJob step waits for Complete where Trainer v2.3.0 puts it: first
// for a job that ran at once, second for one Kueue suspended first
// (Suspended stays, False, once it resumes). Trainer sets no completion
// time.
func TestTrainJobConditions(t *testing.T) {
	direct := &ir.Training{Framework: "pytorch", API: ir.TrainingV2}
	queued := &ir.Training{Framework: "pytorch", API: ir.TrainingV2, Scheduling: &ir.Scheduling{Queue: "team"}}
	now, _ := training.KindFor(&ir.Spec{}, direct)
	later, _ := training.KindFor(&ir.Spec{}, queued)
	cases := []struct {
		name   string
		k      render.Kind
		status string
		want   string
	}{
		{"no status", now, `{"metadata":{"name":"x"}}`, "waiting"},
		{"complete", now, `{"status":{"conditions":[{"type":"Complete","status":"True"}]}}`, "succeeded"},
		{"failed", now, `{"status":{"conditions":[{"type":"Failed","status":"True","reason":"DeadlineExceeded"}]}}`, "failed"},
		{"queued: suspended", later, `{"status":{"conditions":[{"type":"Suspended","status":"True"}]}}`, "waiting"},
		{"queued: resumed", later, `{"status":{"conditions":[{"type":"Suspended","status":"False","reason":"Resumed"}]}}`, "waiting"},
		{"queued: complete", later, `{"status":{"conditions":[{"type":"Suspended","status":"False"},{"type":"Complete","status":"True"}]}}`, "succeeded"},
		{"queued: failed", later, `{"status":{"conditions":[{"type":"Suspended","status":"False"},{"type":"Failed","status":"True"}]}}`, "failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, outcome(t, c.k, status(t, c.status)))
		})
	}
}

func testEnv() *ir.Environment {
	return &ir.Environment{
		Name: "dev", Namespace: "derm-ml",
		GPU: ir.GPUPolicy{Quota: 8, MaxPerPod: 8, Products: []string{"NVIDIA-A10G"}},
		Spec: &ir.Spec{Datasets: map[string]*ir.Dataset{
			"isic": {URI: "s3://acme-derm/isic-2020/", Credentials: &ir.SecretRef{Secret: "s3-creds"}, ReadOnly: true},
		}},
	}
}

var restricted = ir.Security{Profile: "restricted", RunAsUser: 1000, RunAsGroup: 1000, FSGroup: 1000}

// workflowTemplate builds a template with one container step, one
// training step and a DAG over them, as the renderers do.
func workflowTemplate(t *testing.T) *Object {
	env := testEnv()
	sys := &ir.System{Name: "skin-lesion", Namespace: "derm-ml", Environments: []*ir.Environment{env}}
	ctr := ContainerTemplate(env, "evaluate", pod.Input{
		Image:     "ghcr.io/acme/ml-tools:2.0.0",
		Command:   []string{"evaluate"},
		Resources: ir.Resources{GPUs: 1, CPU: "2", Memory: "8Gi", SHM: "1Gi"},
		Datasets:  []string{"isic"},
		Security:  restricted,
	}, "skin-lesion-workflow")
	tr := &ir.Training{
		Framework: "pytorch", Image: "ghcr.io/acme/skin-trainer:1.4.2", Workers: 2,
		Args:      map[string]ir.Value{"lr": {RawMessage: json.RawMessage(`0.001`)}},
		Resources: ir.Resources{GPUs: 2}, RunPolicy: ir.RunPolicy{CleanPodPolicy: "None"}, Security: restricted,
	}
	job := training.Job(sys, env, "resnet", WithParameters(tr, []string{"lr"}))
	assert.Equal(t, "0.001", tr.Args["lr"].String(), "the entry is not changed")
	job.SetNamespace("derm-ml")
	kind, _ := training.KindOf("pytorch")
	_, err := TrainingTemplate(TrainingInput{Name: "train", Job: job, JobName: "{{workflow.name}}-resnet"})
	require.Error(t, err, "a kind with no conditions to wait for would hang the step")
	train, err := TrainingTemplate(TrainingInput{Name: "train", Job: job, Kind: kind, JobName: "{{workflow.name}}-resnet", Parameters: []string{"lr"},
		Labels: map[string]string{render.LabelPartOf: "skin-lesion"}})
	require.NoError(t, err)
	wt := WorkflowTemplate("retrain")
	wt.Namespace = "derm-ml"
	wt.Spec.Entrypoint = "main"
	wt.Spec.ServiceAccountName = "skin-lesion-workflow"
	wt.Spec.ArtifactRepositoryRef = ArtifactRepositoryRef(sys)
	wt.Spec.Arguments.Parameters = []wfv1.Parameter{{Name: "lr", Value: wfv1.AnyStringPtr("0.001")}}
	wt.Spec.Templates = []wfv1.Template{{Name: "main", DAG: &wfv1.DAGTemplate{Tasks: []wfv1.DAGTask{
		{Name: "train", Template: "train", Arguments: wfv1.Arguments{Parameters: []wfv1.Parameter{{Name: "lr", Value: wfv1.AnyStringPtr("{{workflow.parameters.lr}}")}}}},
		{Name: "evaluate", Template: "evaluate", Depends: "train"},
	}}}, train, ctr}
	return Wrap(wt)
}

func TestWorkflowTemplateValidates(t *testing.T) {
	wt := workflowTemplate(t)
	b, err := render.Marshal(wt)
	require.NoError(t, err)
	s := string(b)
	for _, noise := range []string{"status:", "inputs: {}", "outputs: {}", "arguments: {}", "metadata: {}", "creationTimestamp", "generateName"} {
		assert.NotContains(t, s, noise)
	}
	// Meaningful empty objects stay.
	assert.Contains(t, s, "emptyDir:")
	assert.Contains(t, s, "automountServiceAccountToken: false")
	assert.Contains(t, s, "serviceAccountName: skin-lesion-workflow")
	assert.Contains(t, s, "--lr={{inputs.parameters.lr}}")
	assert.Contains(t, s, "name: '{{workflow.name}}-resnet'")
	assert.Contains(t, s, "nvidia.com/gpu.product: NVIDIA-A10G")
	assert.Empty(t, validate.RestrictedViolations(b))
	// The pods Argo builds from it, executors included, are restricted
	// and request CPU and memory.
	assert.Empty(t, validate.PodViolations(b, "restricted", validate.Cluster{}))
	assert.Empty(t, validate.MissingRequests(b, []string{"cpu", "memory"}, validate.Cluster{}))
	v := crdValidator(t)
	assert.Empty(t, v.Validate(b))

	// The manifest inside is a valid job once Argo substitutes the
	// parameters.
	tmpl := wt.Unwrap().(*wfv1.WorkflowTemplate).Spec.Templates[1]
	manifest := strings.NewReplacer("{{workflow.name}}", "retrain-abc12", "{{inputs.parameters.lr}}", "0.01").Replace(tmpl.Resource.Manifest)
	assert.Empty(t, v.Validate([]byte(manifest)))
	assert.Empty(t, validate.RestrictedViolations([]byte(manifest)))
}

func TestCronWorkflow(t *testing.T) {
	deadline := 600
	cw := CronWorkflow("retrain", "retrain", &ir.Schedule{Cron: "0 3 * * 1", ConcurrencyPolicy: "Forbid", StartingDeadlineSeconds: &deadline, Suspend: true, SuccessfulJobsHistoryLimit: 3, FailedJobsHistoryLimit: 1})
	cw.Namespace = "derm-ml"
	b, err := render.Marshal(Wrap(cw))
	require.NoError(t, err)
	s := string(b)
	assert.Contains(t, s, "schedules:\n  - 0 3 * * 1\n")
	assert.NotContains(t, s, "schedule:")
	assert.Contains(t, s, "timezone: UTC")
	assert.Contains(t, s, "suspend: true")
	assert.Contains(t, s, "startingDeadlineSeconds: 600")
	assert.NotContains(t, s, "status")
	v := crdValidator(t)
	wt, err := render.Marshal(workflowTemplate(t))
	require.NoError(t, err)
	problems := v.ValidateAll(map[string][]byte{"wt.yaml": wt, "cw.yaml": b})
	for f, p := range problems {
		assert.Empty(t, p, f)
	}
}

func TestArtifactRepository(t *testing.T) {
	sys := &ir.System{Name: "skin-lesion"}
	cm, err := ArtifactRepositoryConfigMap(sys, &ir.ArtifactRepository{S3: &ir.S3Repository{
		Bucket: "acme-ml-artifacts", Endpoint: "minio.minio:9000", Insecure: true, KeyPrefix: "skin-lesion",
		Credentials: &ir.S3Credentials{Secret: "s3-creds", AccessKey: "AWS_ACCESS_KEY_ID", SecretKey: "AWS_SECRET_ACCESS_KEY"},
	}})
	require.NoError(t, err)
	assert.Equal(t, "skin-lesion-artifacts", cm.Name)
	var repo wfv1.ArtifactRepository
	require.NoError(t, yamlUnmarshalStrict(cm.Data[ArtifactRepositoryKey], &repo))
	assert.Equal(t, "skin-lesion/{{workflow.name}}/{{pod.name}}", repo.S3.KeyFormat)
	assert.Equal(t, "s3-creds", repo.S3.AccessKeySecret.Name)
	assert.Equal(t, "AWS_SECRET_ACCESS_KEY", repo.S3.SecretKeySecret.Key)
	assert.True(t, *repo.S3.Insecure)

	assert.False(t, repo.S3.UseSDKCreds)

	// Without credentials: the SDK's chain (IRSA) or workload identity.
	cm, err = ArtifactRepositoryConfigMap(sys, &ir.ArtifactRepository{S3: &ir.S3Repository{Bucket: "b", Endpoint: "s3.amazonaws.com"}})
	require.NoError(t, err)
	assert.Contains(t, cm.Data["default"], "useSDKCreds: true")
	assert.NotContains(t, cm.Data["default"], "Secret")
	cm, err = ArtifactRepositoryConfigMap(sys, &ir.ArtifactRepository{GCS: &ir.GCSRepository{Bucket: "b"}})
	require.NoError(t, err)
	assert.NotContains(t, cm.Data["default"], "serviceAccountKeySecret")

	cm, err = ArtifactRepositoryConfigMap(sys, &ir.ArtifactRepository{GCS: &ir.GCSRepository{Bucket: "b", Credentials: &ir.SecretRef{Secret: "gcs"}}})
	require.NoError(t, err)
	assert.Contains(t, cm.Data["default"], "key: key.json")
	_, err = ArtifactRepositoryConfigMap(sys, &ir.ArtifactRepository{})
	assert.Error(t, err)

	cm.Namespace = "derm-ml"
	b, err := render.Marshal(cm)
	require.NoError(t, err)
	assert.Empty(t, crdValidator(t).Validate(b))
}

func TestMemo(t *testing.T) {
	role, binding := MemoRBAC("skin-lesion-memoize", []string{"retrain-memo"}, Controller{Namespace: "argo", ServiceAccount: "argo"})
	assert.Equal(t, []string{"get", "update"}, role.Rules[0].Verbs)
	assert.Equal(t, []string{"retrain-memo"}, role.Rules[0].ResourceNames)
	assert.Equal(t, "argo", binding.Subjects[0].Namespace)
	// The cache is named by a key selector whose key Argo ignores but
	// the CRD requires: it stays, empty.
	tmpl := WorkflowTemplate("t")
	tmpl.Namespace = "derm-ml"
	tmpl.Spec.Entrypoint = "a"
	tmpl.Spec.Templates = []wfv1.Template{{Name: "a", Memoize: Memoize("retrain-memo", "k", "1h"),
		Container: &corev1.Container{Image: "t:1"}}}
	b, err := render.Marshal(Wrap(tmpl))
	require.NoError(t, err)
	assert.Contains(t, string(b), "configMap:\n          key: \"\"\n          name: retrain-memo\n")
	assert.Empty(t, crdValidator(t).Validate(b))
	cm := MemoCache("retrain-memo")
	assert.Equal(t, "Cache", cm.Labels[LabelConfigMapType])
	v := crdValidator(t)
	for _, o := range []render.Object{role, binding, cm} {
		o.SetNamespace("derm-ml")
		b, err := render.Marshal(o)
		require.NoError(t, err)
		assert.Empty(t, v.Validate(b))
	}
}

// TestWorkflowMarshal: a Workflow's Go type emits a status with null
// times; wrapped, none of it reaches the output, and the CRD and Argo's
// validator accept the run.
func TestWorkflowMarshal(t *testing.T) {
	raw, err := json.Marshal(&wfv1.Workflow{})
	require.NoError(t, err)
	require.Contains(t, string(raw), `"status"`, "the Go type emits a status")

	wf := &wfv1.Workflow{
		TypeMeta:   metav1.TypeMeta{APIVersion: APIVersion, Kind: KindWorkflow},
		ObjectMeta: metav1.ObjectMeta{Name: "retrain-manual", Namespace: "derm-ml"},
		Spec:       wfv1.WorkflowSpec{WorkflowTemplateRef: &wfv1.WorkflowTemplateRef{Name: "retrain"}},
	}
	b, err := render.Marshal(Wrap(wf))
	require.NoError(t, err)
	assert.NotContains(t, string(b), "status")
	assert.NotContains(t, string(b), "null")
	assert.NotContains(t, string(b), "{}")
	wt, err := render.Marshal(workflowTemplate(t))
	require.NoError(t, err)
	problems := crdValidator(t).ValidateAll(map[string][]byte{"wf.yaml": b, "wt.yaml": wt})
	assert.Empty(t, problems)
}

func TestLimit(t *testing.T) {
	one := Limit("retrain-runs", 1)
	assert.Equal(t, []*wfv1.Mutex{{Name: "retrain-runs"}}, one.Mutexes)
	assert.Nil(t, one.Mutex, "the deprecated single form is not used")
	three := Limit("retrain-runs", 3)
	require.Len(t, three.Semaphores, 1)
	assert.Nil(t, three.Semaphore)
	assert.Equal(t, "retrain-runs", three.Semaphores[0].ConfigMapKeyRef.Name)
	cm := SemaphoreConfigMap("retrain-runs", 3)
	assert.Equal(t, "3", cm.Data[three.Semaphores[0].ConfigMapKeyRef.Key])
}

func TestCheckSchedule(t *testing.T) {
	for _, s := range []ir.Schedule{{Cron: "0 3 * * 1"}, {Cron: "@daily"}, {Cron: "*/15 * * * *", Timezone: "Europe/Berlin"}} {
		c, z := CheckSchedule(&s)
		assert.NoError(t, c, s.Cron)
		assert.NoError(t, z, s.Timezone)
	}
	c, _ := CheckSchedule(&ir.Schedule{Cron: "0 3 * *"})
	assert.Error(t, c)
	c, _ = CheckSchedule(&ir.Schedule{Cron: "0 25 * * *"})
	assert.Error(t, c)
	_, z := CheckSchedule(&ir.Schedule{Cron: "@daily", Timezone: "Mars/Olympus"})
	assert.Error(t, z)
}

// TestJobTemplatesReattachAndCleanUp: the template running a training
// job applies it (a waiter started again after an eviction finds the job
// it created, where create would fail with AlreadyExists), is restarted on
// errors a bounded number of times, and labels the job with kiln's own
// workflow key, never Argo CD's tracking label. The delete template
// deletes exactly the jobs named, tolerating ones that never started, and
// passes Argo's validator and the CRDs.
func TestJobTemplatesReattachAndCleanUp(t *testing.T) {
	wt := workflowTemplate(t)
	spec := &wt.Unwrap().(*wfv1.WorkflowTemplate).Spec
	train := spec.Templates[1]
	assert.Equal(t, "apply", train.Resource.Action)
	assert.True(t, train.Resource.SetOwnerReference)
	require.NotNil(t, train.RetryStrategy)
	assert.Equal(t, wfv1.RetryPolicyOnError, train.RetryStrategy.RetryPolicy)
	require.NotNil(t, train.RetryStrategy.Limit)
	assert.Equal(t, WaiterRetries, train.RetryStrategy.Limit.IntValue())
	var job map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(train.Resource.Manifest), &job))
	labels := job["metadata"].(map[string]any)["labels"].(map[string]any)
	assert.Equal(t, "{{workflow.name}}", labels[LabelWorkflow])
	assert.NotContains(t, labels, render.LabelInstance)
	assert.Equal(t, "skin-lesion", labels[render.LabelPartOf], "the caller's labels stay")

	jobs := []JobRef{
		{APIVersion: "kubeflow.org/v1", Kind: "PyTorchJob", Namespace: "derm-ml", Name: "{{workflow.name}}-resnet"},
		{APIVersion: "kubeflow.org/v2beta1", Kind: "MPIJob", Namespace: "derm-ml", Name: "{{workflow.name}}-horovod"},
	}
	del, err := DeleteJobsTemplate("delete-jobs", jobs)
	require.NoError(t, err)
	assert.Equal(t, "delete", del.Resource.Action)
	assert.Contains(t, del.Resource.Flags, "--ignore-not-found")
	var got []JobRef
	for _, doc := range strings.Split(del.Resource.Manifest, "---\n") {
		var m struct {
			APIVersion, Kind string
			Metadata         struct{ Name, Namespace string }
		}
		require.NoError(t, yaml.Unmarshal([]byte(doc), &m))
		got = append(got, JobRef{APIVersion: m.APIVersion, Kind: m.Kind, Namespace: m.Metadata.Namespace, Name: m.Metadata.Name})
	}
	assert.Equal(t, jobs, got)

	spec.OnExit = "exit"
	spec.Templates = append(spec.Templates, wfv1.Template{Name: "exit", DAG: &wfv1.DAGTemplate{Tasks: []wfv1.DAGTask{
		{Name: "delete-jobs", Template: "delete-jobs", When: "'{{workflow.status}}' != 'Succeeded'"},
	}}}, del)
	b, err := render.Marshal(wt)
	require.NoError(t, err)
	assert.Empty(t, crdValidator(t).ValidateAll(map[string][]byte{"wt.yaml": b}))
}
