//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

const (
	trainerModule = "github.com/kubeflow/trainer/v2"
	jobsetModule  = "sigs.k8s.io/jobset"
	// The GPU product llm-finetune asks for.
	h100Product = "NVIDIA-H100-80GB-HBM3"
)

var (
	trainJobGVK = schema.GroupVersionKind{Group: "trainer.kubeflow.org", Version: "v1alpha1", Kind: "TrainJob"}
	jobSetGVR   = schema.GroupVersionResource{Group: "jobset.x-k8s.io", Version: "v1alpha2", Resource: "jobsets"}
)

func init() { addons = append(addons, startTrainer) }

// startTrainer installs Trainer v2 and JobSet: their CRDs from their
// modules, H100 nodes for llm-finetune, both controllers with their
// admission webhooks registered by URL on loopback (so the API server
// calls them, as in a real installation), and Trainer's stock
// ClusterTrainingRuntimes, which its webhook validates.
func startTrainer(ctx context.Context, c *cluster, env []string) error {
	if !fullHas("trainer") {
		return nil
	}
	trainerBin, err := binary("trainer", trainerModule, "trainer-controller-manager")
	if err != nil {
		return err
	}
	jobsetBin, err := binary("jobset", jobsetModule, "jobset-controller")
	if err != nil {
		return err
	}
	trainerDir, err := moduleDir("trainer", trainerModule)
	if err != nil {
		return err
	}
	jobsetDir, err := moduleDir("jobset", jobsetModule)
	if err != nil {
		return err
	}
	crds, _ := filepath.Glob(filepath.Join(trainerDir, "manifests/base/crds/trainer.kubeflow.org_*.yaml"))
	crds = append(crds, filepath.Join(jobsetDir, "config/components/crd/bases/jobset.x-k8s.io_jobsets.yaml"))
	if err := c.applyFiles(ctx, crds...); err != nil {
		return err
	}
	if err := c.waitServed(ctx, trainJobGVK,
		schema.GroupVersionKind{Group: "trainer.kubeflow.org", Version: "v1alpha1", Kind: "ClusterTrainingRuntime"},
		schema.GroupVersionKind{Group: "jobset.x-k8s.io", Version: "v1alpha2", Kind: "JobSet"}); err != nil {
		return err
	}
	if err := c.addGPUNodes(ctx, "gpu-h100", h100Product, 4); err != nil {
		return err
	}

	cert, err := newLoopbackCert()
	if err != nil {
		return err
	}
	dir := filepath.Join(c.dir, "trainer")
	jobsetWebhook, jobsetHealth := freePort(), freePort()
	trainerWebhook, trainerHealth := freePort(), freePort()
	if err := cert.write(filepath.Join(dir, "jobset-certs")); err != nil {
		return err
	}
	// Trainer's configuration has no certificate directory: its webhook
	// server reads controller-runtime's default under TMPDIR.
	if err := cert.write(filepath.Join(dir, "tmp", "k8s-webhook-server", "serving-certs")); err != nil {
		return err
	}
	configs := map[string]string{
		"jobset.yaml": fmt.Sprintf(`apiVersion: config.jobset.x-k8s.io/v1alpha1
kind: Configuration
leaderElection: {leaderElect: false}
internalCertManagement: {enable: false}
webhook: {host: 127.0.0.1, port: %d, certDir: %q}
health: {healthProbeBindAddress: "127.0.0.1:%d"}
`, jobsetWebhook, filepath.Join(dir, "jobset-certs"), jobsetHealth),
		"trainer.yaml": fmt.Sprintf(`apiVersion: config.trainer.kubeflow.org/v1alpha1
kind: Configuration
leaderElection: {leaderElect: false}
certManagement: {enable: false}
webhook: {host: 127.0.0.1, port: %d}
health: {healthProbeBindAddress: "127.0.0.1:%d", readinessEndpointName: readyz, livenessEndpointName: healthz}
metrics: {bindAddress: "0"}
`, trainerWebhook, trainerHealth),
	}
	for n, s := range configs {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o600); err != nil {
			return err
		}
	}
	if err := c.start("jobset-controller", jobsetBin, env,
		"--config", filepath.Join(dir, "jobset.yaml"),
		"--metrics-bind-address", "0",
	); err != nil {
		return err
	}
	if err := c.start("trainer-controller-manager", trainerBin, append(env, "TMPDIR="+filepath.Join(dir, "tmp")),
		"--config", filepath.Join(dir, "trainer.yaml"),
	); err != nil {
		return err
	}
	for name, port := range map[string]int{"jobset-controller": jobsetHealth, "trainer-controller-manager": trainerHealth} {
		if err := waitHTTP(c, fmt.Sprintf("http://127.0.0.1:%d/readyz", port), "", 2*time.Minute); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}

	// The webhooks as the upstream manifests declare them, pointed at
	// loopback instead of a Service.
	ca := base64.StdEncoding.EncodeToString(cert.cert)
	hook := func(port int, name, path, group, version, resource, ops, selector string) string {
		return fmt.Sprintf(`- name: %s
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Fail
  clientConfig: {url: "https://127.0.0.1:%d%s", caBundle: %s}
  rules: [{apiGroups: [%q], apiVersions: [%s], operations: [%s], resources: [%s]}]
%s`, name, port, path, ca, group, version, ops, resource, selector)
	}
	jobsetPods := "  objectSelector: {matchExpressions: [{key: jobset.sigs.k8s.io/jobset-name, operator: Exists}]}\n"
	webhooks := `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: kiln-e2e-jobset-mutating}
webhooks:
` + hook(jobsetWebhook, "mjobset.kb.io", "/mutate-jobset-x-k8s-io-v1alpha2-jobset", "jobset.x-k8s.io", "v1alpha2", "jobsets", "CREATE", "") +
		hook(jobsetWebhook, "mpod.kb.io", "/mutate--v1-pod", "", "v1", "pods", "CREATE", jobsetPods) + `---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: kiln-e2e-jobset-validating}
webhooks:
` + hook(jobsetWebhook, "vjobset.kb.io", "/validate-jobset-x-k8s-io-v1alpha2-jobset", "jobset.x-k8s.io", "v1alpha2", "jobsets", "CREATE, UPDATE", "") +
		hook(jobsetWebhook, "vpod.kb.io", "/validate--v1-pod", "", "v1", "pods", "CREATE", jobsetPods) + `---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: defaulter.trainer.kubeflow.org}
webhooks:
` + hook(trainerWebhook, "defaulter.trainjob.trainer.kubeflow.org", "/mutate-trainer-kubeflow-org-v1alpha1-trainjob", "trainer.kubeflow.org", "v1alpha1", "trainjobs", "CREATE, UPDATE", "") + `---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: validator.trainer.kubeflow.org}
webhooks:
` + hook(trainerWebhook, "validator.clustertrainingruntime.trainer.kubeflow.org", "/validate-trainer-kubeflow-org-v1alpha1-clustertrainingruntime", "trainer.kubeflow.org", "v1alpha1", "clustertrainingruntimes", "CREATE, UPDATE", "") +
		hook(trainerWebhook, "validator.trainingruntime.trainer.kubeflow.org", "/validate-trainer-kubeflow-org-v1alpha1-trainingruntime", "trainer.kubeflow.org", "v1alpha1", "trainingruntimes", "CREATE, UPDATE", "") +
		hook(trainerWebhook, "validator.trainjob.trainer.kubeflow.org", "/validate-trainer-kubeflow-org-v1alpha1-trainjob", "trainer.kubeflow.org", "v1alpha1", "trainjobs", "CREATE, UPDATE", "")
	if err := c.applyYAML(ctx, []byte(webhooks), ""); err != nil {
		return fmt.Errorf("webhook configurations: %w", err)
	}

	// The stock runtimes (torch-distributed, deepspeed-distributed, …,
	// the torchtune ones with initializer jobs), through Trainer's
	// webhook; it may take a moment for the API server to reach it.
	runtimes, _ := filepath.Glob(filepath.Join(trainerDir, "manifests/base/runtimes/*.yaml"))
	tt, _ := filepath.Glob(filepath.Join(trainerDir, "manifests/base/runtimes/torchtune/*/*.yaml"))
	runtimes = append(runtimes, tt...)
	var files []string
	for _, f := range runtimes {
		if filepath.Base(f) != "kustomization.yaml" {
			files = append(files, f)
		}
	}
	return c.waitFor(ctx, time.Minute, "the ClusterTrainingRuntimes to be accepted", func() (bool, error) {
		return true, c.applyFiles(ctx, files...)
	})
}

// claimFor gives a namespace the ReadOnlyMany claim a dataset names
// (pvc://<claim>/…), bound to a volume of its own, as the cluster's
// shared file system would: the scheduler refuses pods whose claim is
// missing or unbound.
func claimFor(t *testing.T, ns, claim string) {
	t.Helper()
	ctx := context.Background()
	// A name of its own each time: the volume of an earlier test may
	// still be on its way out.
	pvName := fmt.Sprintf("%s-%s-%d", ns, claim, time.Now().UnixNano())
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: pvName},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Ti")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadOnlyMany},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "10.0.0.2", Path: "/" + claim}},
			ClaimRef:                      &corev1.ObjectReference{Namespace: ns, Name: claim},
		},
	}
	_, err := cl.kube.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = cl.kube.CoreV1().PersistentVolumes().Delete(context.Background(), pvName, metav1.DeleteOptions{})
	})
	empty := ""
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: claim, Namespace: ns},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadOnlyMany},
			StorageClassName: &empty,
			VolumeName:       pvName,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Ti")}},
		},
	}
	_, err = cl.kube.CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, cl.waitFor(ctx, time.Minute, "claim "+claim+" to be bound", func() (bool, error) {
		got, err := cl.kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim, metav1.GetOptions{})
		return err == nil && got.Status.Phase == corev1.ClaimBound, err
	}))
}

// llmFinetune renders llm-finetune, applies prod (but its CronWorkflow)
// with the dataset's claim, and returns the namespace and the objects.
func llmFinetune(t *testing.T) (string, []*unstructured.Unstructured) {
	t.Helper()
	out := renderExample(t, "llm-finetune")
	objs := envObjects(t, out, "prod", "llm-finetune")
	ns := applyEnv(t, objs, "CronWorkflow")
	claimFor(t, ns, "support-tickets")
	return ns, objs
}

// finetuneJob is the TrainJob eval-promote's finetune step creates, as
// that step would in a run named run.
func finetuneJob(t *testing.T, objs []*unstructured.Unstructured, run string) *unstructured.Unstructured {
	t.Helper()
	wt := find(t, objs, "WorkflowTemplate", "eval-promote")
	_, manifest := resourceTemplate(t, wt, "TrainJob")
	return decode(t, substitute(t, manifest, map[string]string{"workflow.name": run}))
}

// setPodAnnotation annotates the pods of every replicated job the
// TrainJob's runtime patches (kiln.dev/e2e-outcome: fail, say).
func setPodAnnotation(t *testing.T, job *unstructured.Unstructured, key, value string) {
	t.Helper()
	patches, _, _ := unstructured.NestedSlice(job.Object, "spec", "runtimePatches")
	require.NotEmpty(t, patches, "kiln's TrainJob has runtime patches")
	for _, p := range patches {
		pm := p.(map[string]any)
		rjs, _, _ := unstructured.NestedSlice(pm, "trainingRuntimeSpec", "template", "spec", "replicatedJobs")
		for _, rj := range rjs {
			require.NoError(t, unstructured.SetNestedField(rj.(map[string]any), value, "template", "spec", "template", "metadata", "annotations", key))
		}
		require.NoError(t, unstructured.SetNestedSlice(pm, rjs, "trainingRuntimeSpec", "template", "spec", "replicatedJobs"))
	}
	require.NoError(t, unstructured.SetNestedSlice(job.Object, patches, "spec", "runtimePatches"))
}

// trainJobProduct is the GPU product kiln's runtime patch asks for.
func trainJobProduct(t *testing.T, job *unstructured.Unstructured) string {
	t.Helper()
	patches, _, _ := unstructured.NestedSlice(job.Object, "spec", "runtimePatches")
	for _, p := range patches {
		rjs, _, _ := unstructured.NestedSlice(p.(map[string]any), "trainingRuntimeSpec", "template", "spec", "replicatedJobs")
		for _, rj := range rjs {
			if v, ok, _ := unstructured.NestedString(rj.(map[string]any), "template", "spec", "template", "spec", "nodeSelector", "nvidia.com/gpu.product"); ok {
				return v
			}
		}
	}
	t.Fatalf("TrainJob %s selects no GPU product", job.GetName())
	return ""
}

// llm-finetune's fine-tune, the TrainJob its eval-promote pipeline
// creates, on Trainer v2: Trainer's webhooks admit it, the controller
// makes a JobSet from the torch-distributed runtime with kiln's patch,
// JobSet makes the Jobs, the Jobs' pods pass prod's restricted Pod
// Security and land on H100 nodes only (A100 and L4 nodes are there
// too), and the TrainJob reaches Complete. With a node that fails, the
// TrainJob reaches Failed.
func TestTrainJob(t *testing.T) {
	needFull(t, "trainer")
	ctx := context.Background()
	ns, objs := llmFinetune(t)
	job := finetuneJob(t, objs, "e2e-ok")
	nsObj, err := cl.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "restricted", nsObj.Labels["pod-security.kubernetes.io/enforce"], "kiln's prod namespace level")
	product := trainJobProduct(t, job)
	// Decoded from YAML, numbers are float64.
	n, _, _ := unstructured.NestedFieldNoCopy(job.Object, "spec", "trainer", "numNodes")
	numNodes := int64(n.(float64))
	require.Positive(t, numNodes)

	start := time.Now()
	create(t, job)
	selector := "jobset.sigs.k8s.io/jobset-name=" + job.GetName()
	placed := map[string]corev1.Pod{}
	require.NoError(t, cl.waitFor(ctx, 2*time.Minute, fmt.Sprintf("the TrainJob's %d pods to be scheduled", numNodes), func() (bool, error) {
		for _, p := range podsOf(t, ns, selector) {
			if p.Spec.NodeName != "" {
				placed[p.Name] = p
			}
		}
		return int64(len(placed)) >= numNodes, nil
	}), eventsFor(ns, job.GetName()))
	js, err := cl.dyn.Resource(jobSetGVR).Namespace(ns).Get(ctx, job.GetName(), metav1.GetOptions{})
	require.NoError(t, err, "Trainer makes a JobSet of the TrainJob's name")
	rjs, _, _ := unstructured.NestedSlice(js.Object, "spec", "replicatedJobs")
	var rjNames []string
	for _, rj := range rjs {
		rjNames = append(rjNames, rj.(map[string]any)["name"].(string))
	}
	jobs, err := cl.kube.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	require.NoError(t, err)
	var jobNames []string
	for _, j := range jobs.Items {
		jobNames = append(jobNames, j.Name)
	}
	t.Logf("TrainJob %s → JobSet %s (replicated jobs %s) → Jobs %s", job.GetName(), js.GetName(), strings.Join(rjNames, ", "), strings.Join(jobNames, ", "))
	for _, p := range placed {
		got := nodeProduct(t, p.Spec.NodeName)
		gpus := p.Spec.Containers[0].Resources.Requests["nvidia.com/gpu"]
		t.Logf("pod %s (%s) on %s (%s), %s GPUs, admitted under %s", p.Name, p.Labels["jobset.sigs.k8s.io/replicatedjob-name"], p.Spec.NodeName, got, gpus.String(), nsObj.Labels["pod-security.kubernetes.io/enforce"])
		assert.Equal(t, product, got, "pod %s", p.Name)
		assert.Equal(t, "8", gpus.String(), "pod %s: GPUs per node", p.Name)
	}
	phase, done := waitCondition(t, job, 3*time.Minute, "Complete", "Failed")
	_, msg := conditionOf(done, phase)
	t.Logf("TrainJob %s: %s after %s (%s)", job.GetName(), phase, time.Since(start).Round(time.Second), msg)
	require.Equal(t, "Complete", phase, eventsFor(ns, job.GetName()))

	// A failing node fails the TrainJob.
	bad := finetuneJob(t, objs, "e2e-fail")
	setPodAnnotation(t, bad, "kiln.dev/e2e-outcome", "fail")
	start = time.Now()
	create(t, bad)
	phase, done = waitCondition(t, bad, 4*time.Minute, "Complete", "Failed")
	_, msg = conditionOf(done, phase)
	t.Logf("TrainJob %s with a failing node: %s after %s (%s)", bad.GetName(), phase, time.Since(start).Round(time.Second), msg)
	assert.Equal(t, "Failed", phase, eventsFor(ns, bad.GetName()))
}

// startEvalPromote applies llm-finetune's prod and starts a Workflow from
// the eval-promote WorkflowTemplate, as its CronWorkflow does.
func startEvalPromote(t *testing.T, name string, changeRole func(*unstructured.Unstructured)) *executor {
	t.Helper()
	out := renderExample(t, "llm-finetune")
	objs := envObjects(t, out, "prod", "llm-finetune")
	if changeRole != nil {
		changeRole(find(t, objs, "Role", "llm-finetune-workflow"))
	}
	ns := applyEnv(t, objs)
	claimFor(t, ns, "support-tickets")
	cron := find(t, objs, "CronWorkflow", "eval-promote")
	spec, _, _ := unstructured.NestedMap(cron.Object, "spec", "workflowSpec")
	wf := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     spec,
	}}
	submitWorkflow(t, wf)
	wt := find(t, objs, "WorkflowTemplate", "eval-promote")
	sa, _, _ := unstructured.NestedString(wt.Object, "spec", "serviceAccountName")
	return newExecutor(t, ns, name, sa)
}

// llm-finetune's eval-promote pipeline on the cluster: its finetune step
// creates the TrainJob with the workflow's service account (the Role
// kiln renders authorises it), Trainer runs it to Complete, which is the
// step's success condition; evaluate reports a win rate of 0.9 and
// promote runs. A Role without create on trainjobs fails the finetune
// step with the API server's refusal, and the exit handler deletes the
// run's TrainJob.
func TestTrainJobPipeline(t *testing.T) {
	needFull(t, "trainer")
	ctx := context.Background()
	t.Run("succeeds", func(t *testing.T) {
		start := time.Now()
		ex := startEvalPromote(t, "eval-promote-e2e", nil)
		ex.params["win_rate"] = "0.9"
		ex.params["model_uri"] = "s3://acme-genai-models/assistant/e2e"
		wf := ex.run(ctx, 6*time.Minute)
		t.Logf("%s\nafter %s", nodesSummary(wf), time.Since(start).Round(time.Second))
		phase, _, _ := unstructured.NestedString(wf.Object, "status", "phase")
		require.Equal(t, "Succeeded", phase, nodesSummary(wf))
		n := nodes(wf)
		for _, s := range []string{"finetune", "evaluate", "promote"} {
			assert.Equal(t, "Succeeded", n[s].phase, "step %s", s)
		}
		for _, dep := range [][2]string{{"finetune", "evaluate"}, {"evaluate", "promote"}} {
			assert.False(t, n[dep[1]].started.Before(n[dep[0]].finished), "%s started before %s finished", dep[1], dep[0])
		}
	})

	t.Run("role without create", func(t *testing.T) {
		ex := startEvalPromote(t, "eval-promote-e2e-rbac", func(role *unstructured.Unstructured) {
			rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
			for _, r := range rules {
				rm := r.(map[string]any)
				if res, _ := rm["resources"].([]any); len(res) == 1 && res[0] == "trainjobs" {
					var verbs []any
					for _, v := range rm["verbs"].([]any) {
						if v != "create" {
							verbs = append(verbs, v)
						}
					}
					rm["verbs"] = verbs
				}
			}
			require.NoError(t, unstructured.SetNestedSlice(role.Object, rules, "rules"))
		})
		wf := ex.run(ctx, 6*time.Minute)
		t.Logf("%s", nodesSummary(wf))
		phase, _, _ := unstructured.NestedString(wf.Object, "status", "phase")
		assert.Equal(t, "Failed", phase)
		t.Logf("cluster, to the finetune step: %s", ex.refused["finetune"])
		assert.Contains(t, ex.refused["finetune"], `is forbidden: User "system:serviceaccount:genai:llm-finetune-workflow" cannot create resource "trainjobs" in API group "trainer.kubeflow.org"`)
		assert.Equal(t, "Succeeded", nodes(wf)["delete-jobs"].phase, "the exit handler deletes the run's TrainJob")
	})
}

// freeVolume makes a volume any claim of its size and access mode binds
// to (no storage class), as a provisioner would have made one.
func freeVolume(t *testing.T, size string, mode corev1.PersistentVolumeAccessMode) {
	t.Helper()
	name := fmt.Sprintf("e2e-free-%d", time.Now().UnixNano())
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{mode},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "10.0.0.2", Path: "/" + name}},
		},
	}
	_, err := cl.kube.CoreV1().PersistentVolumes().Create(context.Background(), pv, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = cl.kube.CoreV1().PersistentVolumes().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// A TrainJob with initializers (testdata/initializers: Trainer's
// torchtune-llama3.2-1b runtime, the dataset and the model from Hugging
// Face), applied as Argo CD would apply it: the dataset and model
// initializer jobs run first, in the restricted namespace with kiln's
// security settings, the trainer node starts once both completed, on an
// A100 node, and the TrainJob reaches Complete.
func TestTrainJobInitializers(t *testing.T) {
	needFull(t, "trainer")
	ctx := context.Background()
	out := t.TempDir()
	b, err := exec.Command(cl.kiln, "render", "--out", out, filepath.Join(repoRoot(), "e2e", "testdata", "initializers")).CombinedOutput()
	require.NoError(t, err, "kiln render: %s", b)
	objs := envObjects(t, out, "dev", "tune")
	var job *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "TrainJob" {
			job = o
		}
	}
	require.NotNil(t, job, "kiln renders the TrainJob")
	// The runtime's volumeClaimPolicies claim 20Gi for the initializers'
	// downloads.
	freeVolume(t, "20Gi", corev1.ReadWriteOnce)
	start := time.Now()
	ns := applyEnv(t, objs)
	nsObj, err := cl.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	require.NoError(t, err)
	level := nsObj.Labels["pod-security.kubernetes.io/enforce"]
	assert.Equal(t, "restricted", level)

	phase, done := waitCondition(t, job, 4*time.Minute, "Complete", "Failed")
	_, msg := conditionOf(done, phase)
	t.Logf("TrainJob %s: %s after %s (%s)", job.GetName(), phase, time.Since(start).Round(time.Second), msg)
	require.Equal(t, "Complete", phase, eventsFor(ns, job.GetName()))

	// Each step's pods, and when they started and ended.
	type span struct{ start, end time.Time }
	steps := map[string]span{}
	for _, p := range podsOf(t, ns, "jobset.sigs.k8s.io/jobset-name="+job.GetName()) {
		rj := p.Labels["jobset.sigs.k8s.io/replicatedjob-name"]
		product := ""
		if p.Spec.NodeName != "" {
			product = nodeProduct(t, p.Spec.NodeName)
		}
		var end time.Time
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Terminated != nil {
				end = cs.State.Terminated.FinishedAt.Time
			}
		}
		t.Logf("pod %s (%s) on %s (%s): %s, admitted under %s", p.Name, rj, p.Spec.NodeName, product, p.Status.Phase, level)
		assert.Equal(t, corev1.PodSucceeded, p.Status.Phase, "pod %s", p.Name)
		s := steps[rj]
		if s.start.IsZero() || p.CreationTimestamp.Time.Before(s.start) {
			s.start = p.CreationTimestamp.Time
		}
		if end.After(s.end) {
			s.end = end
		}
		steps[rj] = s
		if rj == "node" {
			assert.Equal(t, gpuProduct, product, "pod %s", p.Name)
		}
	}
	for _, init := range []string{"dataset-initializer", "model-initializer"} {
		require.Contains(t, steps, init, "the %s job ran", init)
		assert.False(t, steps["node"].start.Before(steps[init].end), "the trainer node started before %s completed", init)
	}
}
