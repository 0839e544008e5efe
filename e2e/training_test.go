//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// prodTrainingJob renders skin-lesion, applies its prod environment and
// returns the PyTorchJob the retrain pipeline's training step creates,
// as that step would create it in a run named run.
func prodTrainingJob(t *testing.T, run string) (ns string, job *unstructured.Unstructured) {
	t.Helper()
	objs := envObjects(t, renderExample(t, "skin-lesion"), "prod", "skin-lesion")
	ns = applyEnv(t, objs, "CronWorkflow")
	return ns, retrainJob(t, objs, run)
}

// retrainJob is the PyTorchJob the retrain pipeline's training step
// creates in a run named run, from skin-lesion's prod objects.
func retrainJob(t *testing.T, objs []*unstructured.Unstructured, run string) *unstructured.Unstructured {
	t.Helper()
	wt := find(t, objs, "WorkflowTemplate", "retrain")
	_, manifest := resourceTemplate(t, wt, "PyTorchJob")
	return decode(t, substitute(t, manifest, map[string]string{"workflow.name": run, "inputs.parameters.epochs": "1"}))
}

func create(t *testing.T, o *unstructured.Unstructured) {
	t.Helper()
	ri, err := cl.resource(o)
	require.NoError(t, err)
	_, err = ri.Create(context.Background(), o, metav1.CreateOptions{})
	require.NoError(t, err, "creating %s %s", o.GetKind(), o.GetName())
}

// The training step's PyTorchJob, as kiln renders it for prod: the
// training operator creates a Master and 3 Worker pods, the scheduler
// puts them on A100 nodes only (the L4 and CPU nodes are there too), and
// the job reaches Succeeded. A master that keeps failing makes the job
// Failed once its restarts pass the backoff limit kiln renders.
func TestTrainingJobs(t *testing.T) {
	ctx := context.Background()
	ns, job := prodTrainingJob(t, "e2e-ok")
	start := time.Now()
	create(t, job)
	// The pods as the scheduler placed them (cleanPodPolicy: Running lets
	// the operator delete the ones still running when the job ends).
	placed := map[string]corev1.Pod{}
	require.NoError(t, cl.waitFor(ctx, 2*time.Minute, "the job's 4 pods to be scheduled", func() (bool, error) {
		for _, p := range podsOf(t, ns, "training.kubeflow.org/job-name="+job.GetName()) {
			if p.Spec.NodeName != "" {
				placed[p.Name] = p
			}
		}
		return len(placed) == 4, nil
	}), eventsFor(ns, job.GetName()))
	workers := 0
	for _, p := range placed {
		product := nodeProduct(t, p.Spec.NodeName)
		t.Logf("pod %s (%s) on %s (%s)", p.Name, p.Labels["training.kubeflow.org/replica-type"], p.Spec.NodeName, product)
		assert.Equal(t, gpuProduct, product, "pod %s", p.Name)
		if p.Labels["training.kubeflow.org/replica-type"] == "worker" {
			workers++
			// Admitted by prod's restricted namespace with the
			// operator's secured template.
			require.NotEmpty(t, p.Spec.InitContainers, "the operator adds init-pytorch to workers")
			ic := p.Spec.InitContainers[len(p.Spec.InitContainers)-1]
			assert.Equal(t, "init-pytorch", ic.Name)
			require.NotNil(t, ic.SecurityContext)
			assert.Equal(t, ptr(false), ic.SecurityContext.AllowPrivilegeEscalation)
		}
	}
	assert.Equal(t, 3, workers, "a Master and 3 Workers")

	phase, done := waitCondition(t, job, 3*time.Minute, "Succeeded", "Failed")
	_, msg := conditionOf(done, phase)
	t.Logf("PyTorchJob %s: %s after %s (%s)", job.GetName(), phase, time.Since(start).Round(time.Second), msg)
	require.Equal(t, "Succeeded", phase, eventsFor(ns, job.GetName()))
	for _, p := range podsOf(t, ns, "training.kubeflow.org/job-name="+job.GetName()) {
		assert.Equal(t, corev1.PodSucceeded, p.Status.Phase, "pod %s", p.Name)
	}

	// A failing Master fails the job.
	_, bad := prodTrainingJob(t, "e2e-fail")
	require.NoError(t, unstructured.SetNestedField(bad.Object, "fail",
		"spec", "pytorchReplicaSpecs", "Master", "template", "metadata", "annotations", "kiln.dev/e2e-outcome"))
	// The namespace of the first run is still there; this job lives next to it.
	start = time.Now()
	create(t, bad)
	phase, done = waitCondition(t, bad, 3*time.Minute, "Succeeded", "Failed")
	_, msg = conditionOf(done, phase)
	t.Logf("PyTorchJob %s with a failing master: %s after %s (%s)", bad.GetName(), phase, time.Since(start).Round(time.Second), msg)
	assert.Equal(t, "Failed", phase, eventsFor(ns, bad.GetName()))
	// The master crash-loops (restartPolicy OnFailure): the operator
	// counts its restarts against the job's backoffLimit (3).
	assert.Contains(t, msg, "reached the specified backoff limit")
}

// The reason for trainingOperator.restricted: the training operator adds
// init-pytorch to the Worker pods of a PyTorchJob with a Master. With the
// operator's built-in template (no securityContext) the API server
// refuses such a pod in prod's restricted namespace; with the template
// the spec promises (testdata/pytorch-init-container.yaml, which this
// cluster's operator runs with) it admits it. Both pods are the Worker
// pod as the operator builds it, created directly, so both templates are
// tried by the same cluster.
func TestRestrictedAndInitPyTorch(t *testing.T) {
	ctx := context.Background()
	ns, job := prodTrainingJob(t, "e2e-restricted")
	nsObj, err := cl.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "restricted", nsObj.Labels["pod-security.kubernetes.io/enforce"], "kiln's prod namespace level")

	tmpl, _, _ := unstructured.NestedMap(job.Object, "spec", "pytorchReplicaSpecs", "Worker", "template")
	var worker corev1.Pod
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, &worker))
	worker.Namespace = ns
	stock := corev1.Container{
		Name: "init-pytorch", Image: "alpine:3.10",
		Command: []string{"sh", "-c", "nslookup e2e-restricted-train-master-0"},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("10Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("20Mi")},
		},
	}
	secured := *stock.DeepCopy()
	secured.SecurityContext = &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		RunAsNonRoot:             ptr(true),
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}

	p := worker.DeepCopy()
	p.Name = "worker-stock-template"
	p.Spec.InitContainers = append(p.Spec.InitContainers, stock)
	_, err = cl.kube.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
	require.Error(t, err, "restricted refuses the stock init-pytorch")
	t.Logf("cluster, stock template: %v", err)
	assert.Contains(t, err.Error(), `violates PodSecurity "restricted:v1.37"`)
	assert.Contains(t, err.Error(), `"init-pytorch"`)

	p = worker.DeepCopy()
	p.Name = "worker-secured-template"
	p.Spec.InitContainers = append(p.Spec.InitContainers, secured)
	_, err = cl.kube.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	require.NoError(t, err, "restricted admits init-pytorch from the secured template")
	t.Logf("cluster, secured template: admitted")
}

// Pod Security is the cluster's: in dev, which enforces restricted, a pod
// without the restricted settings is refused with the admission plugin's
// own message; in prod too, a privileged pod is.
func TestPodSecurityEnforced(t *testing.T) {
	ctx := context.Background()
	out := renderExample(t, "skin-lesion")
	for _, c := range []struct {
		env, want string
		pod       corev1.Pod
	}{
		{"dev", `violates PodSecurity "restricted:v1.37"`, corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "loose"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "busybox"}}},
		}},
		{"prod", `violates PodSecurity "restricted:v1.37"`, corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "privileged"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "busybox",
				SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)}}}},
		}},
	} {
		t.Run(c.env, func(t *testing.T) {
			ns := applyEnv(t, envObjects(t, out, c.env, "skin-lesion"), "CronWorkflow", "WorkflowTemplate")
			_, err := cl.kube.CoreV1().Pods(ns).Create(ctx, &c.pod, metav1.CreateOptions{})
			require.Error(t, err, "the pod must be refused")
			t.Logf("cluster: %v", err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// The namespace's ResourceQuota on requests.nvidia.com/gpu is the
// cluster's: a training pod asking for more GPUs than prod's quota (64)
// is refused at admission with the quota's message, which the operator
// reports as an event on the job. A job whose pods fit one by one but
// not all together is refused its last pod; kiln vet refuses the spec
// that asks for that job with the same amounts.
func TestQuotaRefusesGPUDemand(t *testing.T) {
	t.Run("one pod over the quota", testQuotaPod)
	t.Run("job over the quota, as kiln vet says", testQuotaJobVet)
}

// quotaRefusal waits for the operator's event that the API server refused
// one of job's pods for its quota, and returns the message.
func quotaRefusal(t *testing.T, ns string, job *unstructured.Unstructured) string {
	t.Helper()
	var refused string
	err := cl.waitFor(context.Background(), 2*time.Minute, "the operator to report the quota refusal", func() (bool, error) {
		for _, line := range strings.Split(eventsFor(ns, job.GetName()), "\n") {
			if strings.Contains(line, "exceeded quota") {
				refused = line
				return true, nil
			}
		}
		return false, nil
	})
	require.NoError(t, err, eventsFor(ns, job.GetName()))
	t.Logf("cluster: %s", strings.TrimSpace(refused))
	return refused
}

func testQuotaPod(t *testing.T) {
	ctx := context.Background()
	ns, job := prodTrainingJob(t, "e2e-quota")
	q, err := cl.kube.CoreV1().ResourceQuotas(ns).Get(ctx, "skin-lesion", metav1.GetOptions{})
	require.NoError(t, err)
	limit := q.Spec.Hard["requests.nvidia.com/gpu"]
	t.Logf("quota %s: requests.nvidia.com/gpu=%s", q.Name, limit.String())

	// 80 GPUs on the master: more than the quota allows.
	cs, _, _ := unstructured.NestedSlice(job.Object, "spec", "pytorchReplicaSpecs", "Master", "template", "spec", "containers")
	c0 := cs[0].(map[string]any)
	for _, k := range []string{"requests", "limits"} {
		require.NoError(t, unstructured.SetNestedField(c0, "80", "resources", k, "nvidia.com/gpu"))
	}
	require.NoError(t, unstructured.SetNestedSlice(job.Object, cs, "spec", "pytorchReplicaSpecs", "Master", "template", "spec", "containers"))
	create(t, job)
	refused := quotaRefusal(t, ns, job)
	assert.Contains(t, refused, "exceeded quota: skin-lesion, requested: requests.nvidia.com/gpu=80")
	assert.Contains(t, refused, "limited: requests.nvidia.com/gpu="+limit.String())
}

var (
	vetGPUs   = regexp.MustCompile(`(training\.resnet) needs (\d+) GPUs in prod \((\d+) workers × (\d+)\); prod allows (\d+)`)
	quotaGPUs = regexp.MustCompile(`exceeded quota: ([\w-]+), requested: requests\.nvidia\.com/gpu=(\d+), used: requests\.nvidia\.com/gpu=(\d+), limited: requests\.nvidia\.com/gpu=(\d+)`)
)

// skin-lesion with prod's resnet job at 9 workers of 8 GPUs: 72 GPUs, over
// prod's quota of 64, with every pod within the 8 a node has. kiln vet
// refuses the spec; the cluster, given the job kiln renders for it (the
// bundled example's, scaled the same way: kiln renders nothing for a
// spec it refuses), admits 8 pods and refuses the ninth. The amounts
// agree: kiln's limit is the quota's, its per-pod GPUs what the refused
// pod requested, and its total what was in use plus that request. The
// API server names the ResourceQuota (skin-lesion, the one kiln renders
// for prod) and counts pod by pod, as they are created; kiln names the
// environment and sums the job.
func testQuotaJobVet(t *testing.T) {
	spec := t.TempDir()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "skin-lesion", "system.cue"))
	require.NoError(t, err)
	const prodGPU = "\t\t\tgpu: {quota: 64, products: [\"NVIDIA-A100-SXM4-80GB\"]}\n"
	src := strings.Replace(string(b), prodGPU, prodGPU+"\t\t\toverrides: training: resnet: {workers: 9, resources: gpus: 8}\n", 1)
	require.NotEqual(t, string(b), src, "skin-lesion's prod GPU line moved")
	require.NoError(t, os.WriteFile(filepath.Join(spec, "system.cue"), []byte(src), 0o644))
	vet, err := exec.Command(cl.kiln, "vet", spec).CombinedOutput()
	require.Error(t, err, "kiln vet accepts a job over the quota:\n%s", vet)
	t.Logf("kiln vet: %s", strings.TrimSpace(string(vet)))
	v := vetGPUs.FindStringSubmatch(string(vet))
	require.NotNil(t, v, "kiln vet names the job's GPUs and prod's quota:\n%s", vet)
	needs, workers, perPod, allows := atoi(t, v[2]), atoi(t, v[3]), atoi(t, v[4]), atoi(t, v[5])

	ns, job := prodTrainingJob(t, "e2e-quota-vet")
	specs, _, _ := unstructured.NestedMap(job.Object, "spec", "pytorchReplicaSpecs")
	for role, rs := range specs {
		r := rs.(map[string]any)
		if role == "Worker" {
			r["replicas"] = int64(workers - 1) // workers counts the master
		}
		cs, _, _ := unstructured.NestedSlice(r, "template", "spec", "containers")
		for _, k := range []string{"requests", "limits"} {
			require.NoError(t, unstructured.SetNestedField(cs[0].(map[string]any), fmt.Sprint(perPod), "resources", k, "nvidia.com/gpu"))
		}
		require.NoError(t, unstructured.SetNestedSlice(r, cs, "template", "spec", "containers"))
	}
	require.NoError(t, unstructured.SetNestedMap(job.Object, specs, "spec", "pytorchReplicaSpecs"))
	create(t, job)
	q := quotaGPUs.FindStringSubmatch(quotaRefusal(t, ns, job))
	require.NotNil(t, q, "the refusal names the quota and its amounts")
	quota, requested, used, limited := q[1], atoi(t, q[2]), atoi(t, q[3]), atoi(t, q[4])
	assert.Equal(t, "skin-lesion", quota, "the ResourceQuota kiln renders for prod")
	assert.Equal(t, allows, limited, "kiln's limit is the quota's")
	assert.Equal(t, perPod, requested, "the refused pod asked for kiln's per-pod GPUs")
	assert.Equal(t, needs, used+requested, "kiln's total is what was in use plus the refused request")
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// trainingJobKinds are the training operator's kinds this cluster
// judges with its webhooks (trainingOperatorSchemes).
var trainingJobKinds = map[string]bool{"PyTorchJob": true, "TFJob": true, "XGBoostJob": true}

// renderedTrainingJobs collects every training operator job kiln renders
// for an example, in every environment, as the cluster would get it:
// jobs rendered as they are, the jobs a WorkflowTemplate's resource
// steps create (Argo's expressions replaced as the controller would for
// a run named like the runs a CronWorkflow starts), and the trial job
// of a Katib Experiment (its trial parameters filled in, named as Katib
// names trials). Keys say where each comes from.
func renderedTrainingJobs(t *testing.T, example string) map[string]*unstructured.Unstructured {
	t.Helper()
	out := renderExample(t, example)
	jobs := map[string]*unstructured.Unstructured{}
	envs, err := os.ReadDir(out)
	require.NoError(t, err)
	for _, env := range envs {
		systems, _ := os.ReadDir(filepath.Join(out, env.Name()))
		for _, sys := range systems {
			if !sys.IsDir() {
				continue
			}
			for _, o := range envObjects(t, out, env.Name(), sys.Name()) {
				where := fmt.Sprintf("%s/%s/%s %s", env.Name(), sys.Name(), o.GetKind(), o.GetName())
				switch {
				case trainingJobKinds[o.GetKind()]:
					jobs[where] = o
				case o.GetKind() == "WorkflowTemplate":
					tmpls, _, _ := unstructured.NestedSlice(o.Object, "spec", "templates")
					for _, e := range tmpls {
						tm, _ := e.(map[string]any)
						m, _, _ := unstructured.NestedString(tm, "resource", "manifest")
						action, _, _ := unstructured.NestedString(tm, "resource", "action")
						if m == "" || action == "delete" {
							continue
						}
						job := decode(t, substitute(t, m, map[string]string{"workflow.name": o.GetName() + "-1765000000", "inputs.parameters.trial": "t07"}))
						if trainingJobKinds[job.GetKind()] {
							jobs[where+" step "+tm["name"].(string)] = job
						}
					}
				case o.GetKind() == "Experiment":
					spec, found, _ := unstructured.NestedMap(o.Object, "spec", "trialTemplate", "trialSpec")
					if !found {
						continue
					}
					b, err := json.Marshal(spec)
					require.NoError(t, err)
					filled := regexp.MustCompile(`\$\{trialParameters\.[^}]*\}`).ReplaceAll(b, []byte("1"))
					job := &unstructured.Unstructured{}
					require.NoError(t, json.Unmarshal(filled, &job.Object))
					job.SetName(o.GetName() + "-x7k2p9qd")
					if trainingJobKinds[job.GetKind()] {
						jobs[where+" trial"] = job
					}
				}
			}
		}
	}
	return jobs
}

// The training operator's validating webhooks (wired by URL, see
// wireTrainingOperatorWebhooks) judge every training job kiln renders
// for the bundled examples: each is admitted (server-side dry run: the
// API server calls the webhook, nothing is stored). And they do judge:
// a PyTorchJob with two Masters is refused with the webhook's own
// message (the CRD's schema admits it). The training step's job of a run
// started by hand under a name with a dot (which Argo accepts but a job
// may not carry) is named with a dash instead, and admitted.
func TestTrainingOperatorWebhook(t *testing.T) {
	ctx := context.Background()
	ns := "kiln-webhook-e2e"
	require.NoError(t, cl.applyYAML(ctx, []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n"), ""))
	t.Cleanup(func() { deleteNamespace(t, ns) })
	dryRun := func(o *unstructured.Unstructured) error {
		o = o.DeepCopy()
		o.SetNamespace(ns)
		ri, err := cl.resource(o)
		require.NoError(t, err)
		_, err = ri.Create(ctx, o, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	}

	counts := map[string]int{}
	for _, example := range []string{"skin-lesion", "fraud-detect", "llm-finetune"} {
		for where, job := range renderedTrainingJobs(t, example) {
			counts[job.GetKind()]++
			if err := dryRun(job); err != nil {
				t.Errorf("%s: %s %s refused: %v", example, job.GetKind(), job.GetName(), err)
				continue
			}
			t.Logf("%s %s: %s %s admitted", example, where, job.GetKind(), job.GetName())
		}
	}
	t.Logf("admitted by the operator's webhooks: %v", counts)
	require.NotZero(t, counts["PyTorchJob"])
	require.NotZero(t, counts["XGBoostJob"])

	prod := envObjects(t, renderExample(t, "skin-lesion"), "prod", "skin-lesion")
	two := retrainJob(t, prod, "retrain-e2e-webhook")
	require.NoError(t, unstructured.SetNestedField(two.Object, int64(2), "spec", "pytorchReplicaSpecs", "Master", "replicas"))
	err := dryRun(two)
	t.Logf("two Masters: %v", err)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `admission webhook "validator.pytorchjob.training-operator.kubeflow.org" denied the request: spec.pytorchReplicaSpecs[Master].replicas: Forbidden: must be 1`)

	// Argo turns the dot into a dash when it names the job
	// (argo.RunName), and the webhook admits the job.
	dotted := retrainJob(t, prod, "retrain.by-hand")
	assert.Equal(t, "retrain-by-hand-train", dotted.GetName())
	assert.Equal(t, "retrain.by-hand", dotted.GetLabels()["kiln.dev/workflow"], "the label keeps the run's name")
	require.NoError(t, dryRun(dotted), "a run named retrain.by-hand")
}
