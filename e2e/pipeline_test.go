//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

var (
	workflowsGVR   = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflows"}
	taskResultsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflowtaskresults"}
)

// executor plays Argo's executor for the pods of one workflow: the
// containers do not run, so for each step pod it does what argoexec would
// report. A container step "ran" and wrote its output parameters (values
// from params, else a placeholder) and artifacts (at the locations the
// controller gave them); a resource step's manifest is created or
// deleted with the workflow's service account, as argoexec does with the
// pod's token (real RBAC), and for a job the step waits for its
// Succeeded or Failed condition. The outcome goes to a
// WorkflowTaskResult (created as the service account too) and to the
// pod's phase (through KWOK).
type executor struct {
	t      *testing.T
	ns     string
	wf     string
	params map[string]string
	// mutate, if set, changes a manifest before it is created (a failing
	// training job).
	mutate func(*unstructured.Unstructured)
	sa     dynamic.Interface
	done   map[string]bool
	mu     sync.Mutex // guards log and refused
	log    []string
	// errors the cluster returned to the executor, by step
	refused map[string]string

	// For the steps that run kiln (kilnStep): records stands in for the
	// artifact repository (a copy of its bucket, as `kiln lineage
	// --records` reads it), repos maps a Git URL a step pushes to onto a
	// local bare repository, pods holds each step's filesystem, and
	// kilnRuns logs what ran.
	records, pods string
	repos         map[string]string
	kilnRuns      []string
}

func newExecutor(t *testing.T, ns, wf, serviceAccount string) *executor {
	cfg := rest.CopyConfig(cl.config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: fmt.Sprintf("system:serviceaccount:%s:%s", ns, serviceAccount)}
	sa, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	return &executor{t: t, ns: ns, wf: wf, sa: sa, done: map[string]bool{}, refused: map[string]string{}, params: map[string]string{},
		records: t.TempDir(), pods: t.TempDir(), repos: map[string]string{}}
}

// template is the template the controller gave a pod (ARGO_TEMPLATE).
func (e *executor) template(ctx context.Context, p *corev1.Pod) (map[string]any, error) {
	for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
		for _, env := range c.Env {
			if env.Name != "ARGO_TEMPLATE" {
				continue
			}
			val := env.Value
			if ref := env.ValueFrom; ref != nil && ref.ConfigMapKeyRef != nil {
				cm, err := cl.kube.CoreV1().ConfigMaps(e.ns).Get(ctx, ref.ConfigMapKeyRef.Name, metav1.GetOptions{})
				if err != nil {
					return nil, err
				}
				val = cm.Data[ref.ConfigMapKeyRef.Key]
			}
			var tmpl map[string]any
			return tmpl, json.Unmarshal([]byte(val), &tmpl)
		}
	}
	return nil, fmt.Errorf("pod %s has no ARGO_TEMPLATE", p.Name)
}

// step runs one pod's step and reports it; false if the step failed.
func (e *executor) step(ctx context.Context, p *corev1.Pod) {
	tmpl, err := e.template(ctx, p)
	require.NoError(e.t, err)
	name, _ := tmpl["name"].(string)
	outputs := map[string]any{}
	ok, msg := true, ""
	if res, isResource := tmpl["resource"].(map[string]any); isResource {
		ok, msg = e.resource(ctx, name, res)
	} else if isKilnStep(tmpl) {
		if outputs, ok, msg = e.kilnStep(ctx, tmpl); outputs == nil {
			outputs = map[string]any{}
		}
	} else {
		if out, _ := tmpl["outputs"].(map[string]any); out != nil {
			var params []any
			ps, _ := out["parameters"].([]any)
			for _, pe := range ps {
				pm, _ := pe.(map[string]any)
				pn, _ := pm["name"].(string)
				v, set := e.params[pn]
				if !set {
					v = "e2e-" + pn
				}
				params = append(params, reportedParam(pm, v))
			}
			if params != nil {
				outputs["parameters"] = params
			}
			if arts, _ := out["artifacts"].([]any); arts != nil {
				outputs["artifacts"] = uploaded(tmpl, arts)
			}
		}
	}
	require.NoError(e.t, e.report(ctx, p, name, outputs, ok, msg))
}

// report does what argoexec does once a step's main container ended: it
// writes the step's outputs to a WorkflowTaskResult, with the pod's
// service account, and the pod ends (through KWOK) as the step did.
// Steps may report concurrently.
func (e *executor) report(ctx context.Context, p *corev1.Pod, name string, outputs map[string]any, ok bool, msg string) error {
	tr := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTaskResult",
		"metadata": map[string]any{
			"name": p.Annotations["workflows.argoproj.io/node-id"],
			"labels": map[string]any{
				"workflows.argoproj.io/workflow":                 e.wf,
				"workflows.argoproj.io/report-outputs-completed": "true",
			},
		},
		"outputs": outputs,
	}}
	if _, err := e.sa.Resource(taskResultsGVR).Namespace(e.ns).Create(ctx, tr, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		e.t.Errorf("step %s: reporting outputs as the workflow's service account: %v", name, err)
	}
	outcome := "succeed"
	if !ok {
		outcome = "fail"
	}
	e.mu.Lock()
	e.log = append(e.log, fmt.Sprintf("%s (pod %s on %s): %s %s", name, p.Name, p.Spec.NodeName, outcome, msg))
	e.mu.Unlock()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"kiln.dev/e2e-outcome":%q}}}`, outcome)
	_, err := cl.kube.CoreV1().Pods(e.ns).Patch(ctx, p.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}

// reportedParam is an output parameter as argoexec reports it: the
// template's declaration (its globalName above all, which makes the
// controller publish it as workflow.outputs.parameters.<globalName>)
// with the value the step produced.
func reportedParam(decl map[string]any, value string) map[string]any {
	p := runtime.DeepCopyJSON(decl)
	p["value"] = value
	return p
}

// refuse records the cluster's refusal of a step's request.
func (e *executor) refuse(step, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.refused[step] = msg
}

// uploaded gives each output artifact the location argoexec would have
// uploaded it to: the template's archive location (the artifact
// repository kiln names), under the artifact's own key if it has one.
func uploaded(tmpl map[string]any, arts []any) []any {
	base, _, _ := unstructured.NestedMap(tmpl, "archiveLocation", "s3")
	var out []any
	for _, a := range arts {
		art := runtimeCopy(a.(map[string]any))
		s3 := runtimeCopy(base)
		key, _ := s3["key"].(string)
		s3["key"] = strings.TrimSuffix(key, "/") + "/" + art["name"].(string)
		if own, ok := art["s3"].(map[string]any); ok {
			for k, v := range own {
				s3[k] = v
			}
		}
		art["s3"] = s3
		out = append(out, art)
	}
	return out
}

func runtimeCopy(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return runtime.DeepCopyJSON(m)
}

// resource does what argoexec's resource step does with the manifest.
func (e *executor) resource(ctx context.Context, step string, res map[string]any) (bool, string) {
	action, _ := res["action"].(string)
	manifest, _ := res["manifest"].(string)
	var obj unstructured.Unstructured
	if err := yaml.Unmarshal([]byte(manifest), &obj.Object); err != nil {
		return false, err.Error()
	}
	if obj.GetNamespace() == "" {
		// argoexec creates it in the workflow's namespace
		obj.SetNamespace(e.ns)
	}
	if e.mutate != nil && action != "delete" {
		e.mutate(&obj)
	}
	if own, _ := res["setOwnerReference"].(bool); own && action != "delete" {
		// As argoexec does: the workflow owns what its step creates.
		wf, err := cl.dyn.Resource(workflowsGVR).Namespace(e.ns).Get(ctx, e.wf, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		obj.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "argoproj.io/v1alpha1", Kind: "Workflow", Name: wf.GetName(), UID: wf.GetUID(), BlockOwnerDeletion: ptr(true)}})
	}
	gvk := obj.GroupVersionKind()
	m, err := cl.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return false, err.Error()
	}
	ri := e.sa.Resource(m.Resource).Namespace(obj.GetNamespace())
	switch action {
	case "delete":
		err := ri.Delete(ctx, obj.GetName(), metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			e.refuse(step, err.Error())
			return false, err.Error()
		}
		return true, "deleted " + obj.GetName()
	case "create", "apply":
		// kubectl apply of a new object: get, then create.
		if _, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{}); err != nil && !apierrors.IsNotFound(err) {
			e.refuse(step, err.Error())
			return false, err.Error()
		}
		if _, err := ri.Create(ctx, &obj, metav1.CreateOptions{}); err != nil {
			e.refuse(step, err.Error())
			return false, err.Error()
		}
	default:
		return false, "unsupported action " + action
	}
	// success and failure conditions: kiln's jobs end with a Succeeded
	// (training operator) or Complete (Trainer v2) condition, or Failed.
	var phase string
	err = cl.waitFor(ctx, 3*time.Minute, obj.GetKind()+" "+obj.GetName()+" to finish", func() (bool, error) {
		cur, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, typ := range []string{"Succeeded", "Complete", "Failed"} {
			if s, _ := conditionOf(cur, typ); s == "True" {
				phase = typ
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return false, err.Error()
	}
	return phase != "Failed", obj.GetKind() + " " + obj.GetName() + " " + phase
}

// run plays the executor until the workflow ends and returns it.
func (e *executor) run(ctx context.Context, timeout time.Duration) *unstructured.Unstructured {
	var wf *unstructured.Unstructured
	err := cl.waitFor(ctx, timeout, "workflow "+e.wf+" to finish", func() (bool, error) {
		pods, err := cl.kube.CoreV1().Pods(e.ns).List(ctx, metav1.ListOptions{LabelSelector: "workflows.argoproj.io/workflow=" + e.wf})
		if err != nil {
			return false, err
		}
		sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
		for i := range pods.Items {
			p := &pods.Items[i]
			if p.Status.Phase == corev1.PodRunning && !e.done[p.Name] {
				e.done[p.Name] = true
				e.step(ctx, p)
			}
		}
		wf, err = cl.dyn.Resource(workflowsGVR).Namespace(e.ns).Get(ctx, e.wf, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		phase, _, _ := unstructured.NestedString(wf.Object, "status", "phase")
		return phase == "Succeeded" || phase == "Failed" || phase == "Error", nil
	})
	for _, l := range e.log {
		e.t.Logf("executor: %s", l)
	}
	for _, l := range e.kilnRuns {
		e.t.Logf("executor ran: %s", l)
	}
	require.NoError(e.t, err, "%s\n%s", nodesSummary(wf), eventsFor(e.ns, e.wf))
	return wf
}

type node struct {
	name, phase, message string
	started, finished    time.Time
}

// nodes lists a workflow's pod and resource steps by display name.
func nodes(wf *unstructured.Unstructured) map[string]node {
	out := map[string]node{}
	if wf == nil {
		return out
	}
	ns, _, _ := unstructured.NestedMap(wf.Object, "status", "nodes")
	attempts := map[string]string{}
	for _, v := range ns {
		n, _ := v.(map[string]any)
		if n["type"] != "Pod" {
			continue
		}
		name, _ := n["displayName"].(string)
		// A step with a retryStrategy runs as attempts "<step>(0)", "(1)", …:
		// keep the last.
		if base, attempt, ok := strings.Cut(name, "("); ok {
			if prev, seen := attempts[base]; seen && prev > attempt {
				continue
			}
			attempts[base] = attempt
			name = base
		}
		phase, _ := n["phase"].(string)
		msg, _ := n["message"].(string)
		s, _ := n["startedAt"].(string)
		f, _ := n["finishedAt"].(string)
		st, _ := time.Parse(time.RFC3339, s)
		ft, _ := time.Parse(time.RFC3339, f)
		out[name] = node{name: name, phase: phase, message: msg, started: st, finished: ft}
	}
	return out
}

func nodesSummary(wf *unstructured.Unstructured) string {
	if wf == nil {
		return "(no workflow)"
	}
	phase, _, _ := unstructured.NestedString(wf.Object, "status", "phase")
	msg, _, _ := unstructured.NestedString(wf.Object, "status", "message")
	var lines []string
	for _, n := range nodes(wf) {
		lines = append(lines, fmt.Sprintf("  %s: %s %s", n.name, n.phase, n.message))
	}
	sort.Strings(lines)
	return fmt.Sprintf("workflow %s: %s %s\n%s", wf.GetName(), phase, msg, strings.Join(lines, "\n"))
}

// startRetrain applies prod and starts a Workflow from the retrain
// WorkflowTemplate, as the CronWorkflow does (workflowTemplateRef).
func startRetrain(t *testing.T, name string, changeRole func(*unstructured.Unstructured)) (string, *executor) {
	t.Helper()
	out := renderExample(t, "skin-lesion")
	objs := envObjects(t, out, "prod", "skin-lesion")
	if changeRole != nil {
		changeRole(find(t, objs, "Role", "skin-lesion-workflow"))
	}
	ns := applyEnv(t, objs)
	cron := find(t, objs, "CronWorkflow", "retrain")
	spec, _, _ := unstructured.NestedMap(cron.Object, "spec", "workflowSpec")
	// A source of its own for each run, so that no run finds ingest in the
	// memoization cache of an earlier one (see README: a memoized retried
	// step leaves Argo v3.6.10's DAG Running).
	require.NoError(t, unstructured.SetNestedSlice(spec, []any{
		map[string]any{"name": "source", "value": "s3://acme-derm/incoming/" + name + "/"},
	}, "arguments", "parameters"))
	wf := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     spec,
	}}
	submitWorkflow(t, wf)
	wt := find(t, objs, "WorkflowTemplate", "retrain")
	sa, _, _ := unstructured.NestedString(wt.Object, "spec", "serviceAccountName")
	return ns, newExecutor(t, ns, name, sa)
}

// The retrain pipeline on the cluster: Argo's controller walks the DAG
// ingest → preprocess → train (a PyTorchJob the step creates with the
// workflow's service account; the training operator runs it) → evaluate
// → promote (its when clause reads evaluate's accuracy), then the exit
// handler; the workflow Succeeds. A failing training job fails the train
// step and the workflow, and the exit handler still runs and deletes the
// job. A Role without create on pytorchjobs fails the train step with the
// API server's own refusal.
func TestPipeline(t *testing.T) {
	ctx := context.Background()
	t.Run("succeeds", func(t *testing.T) {
		start := time.Now()
		_, ex := startRetrain(t, "retrain-e2e", nil)
		ex.params["accuracy"] = "0.95"
		ex.params["model_uri"] = "s3://acme-models/skin/retrain-e2e"
		// The promote step pushes to skin-lesion's deployment repository
		// (on GitHub, with a pull request): a local one here.
		deploy := specRepo(t, "skin-lesion", "skin-lesion")
		ex.repos["https://github.com/acme/derm-ml-deploy.git"] = deploy
		wf := ex.run(ctx, 6*time.Minute)
		t.Logf("%s\nafter %s", nodesSummary(wf), time.Since(start).Round(time.Second))
		phase, _, _ := unstructured.NestedString(wf.Object, "status", "phase")
		require.Equal(t, "Succeeded", phase, nodesSummary(wf))
		n := nodes(wf)
		for _, s := range []string{"ingest", "preprocess", "train", "evaluate", "promote", "notify"} {
			assert.Equal(t, "Succeeded", n[s].phase, "step %s", s)
		}
		// DAG order: each step started after the ones it depends on ended.
		for _, dep := range [][2]string{{"ingest", "preprocess"}, {"preprocess", "train"}, {"train", "evaluate"}, {"evaluate", "promote"}} {
			assert.False(t, n[dep[1]].started.Before(n[dep[0]].finished), "%s started before %s finished", dep[1], dep[0])
		}
		assert.NotContains(t, n, "delete-jobs", "the exit handler deletes jobs only when the run did not succeed")
		assert.Equal(t, "Succeeded", n["lineage"].phase, "the exit handler records the run")
		lineageChain(t, wf, ex, deploy)
	})

	t.Run("training fails", func(t *testing.T) {
		_, ex := startRetrain(t, "retrain-e2e-fail", nil)
		ex.mutate = func(o *unstructured.Unstructured) {
			if o.GetKind() == "PyTorchJob" {
				_ = unstructured.SetNestedField(o.Object, "fail", "spec", "pytorchReplicaSpecs", "Master", "template", "metadata", "annotations", "kiln.dev/e2e-outcome")
			}
		}
		wf := ex.run(ctx, 6*time.Minute)
		t.Logf("%s", nodesSummary(wf))
		phase, _, _ := unstructured.NestedString(wf.Object, "status", "phase")
		assert.Equal(t, "Failed", phase)
		n := nodes(wf)
		assert.Equal(t, "Failed", n["train"].phase)
		assert.NotContains(t, n, "evaluate", "nothing after a failed step runs")
		assert.Equal(t, "Succeeded", n["notify"].phase, "the exit handler runs")
		assert.Equal(t, "Succeeded", n["delete-jobs"].phase, "and deletes the run's jobs")
		// A failed run gets its record too: what ran, nothing promoted.
		rec := readRecord(t, ex.records, globalOutput(wf, "kiln-lineage"))
		assert.Equal(t, "retrain-e2e-fail", rec.Run.Name)
		assert.Equal(t, "Failed", rec.Run.Phase)
		assert.Empty(t, rec.Promotions)
		assert.Empty(t, rec.Metrics, "evaluate never ran")
	})

	t.Run("role without create", func(t *testing.T) {
		_, ex := startRetrain(t, "retrain-e2e-rbac", func(role *unstructured.Unstructured) {
			rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
			for _, r := range rules {
				rm := r.(map[string]any)
				if res, _ := rm["resources"].([]any); len(res) == 1 && res[0] == "pytorchjobs" {
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
		t.Logf("cluster, to the train step: %s", ex.refused["train"])
		assert.Contains(t, ex.refused["train"], `is forbidden: User "system:serviceaccount:derm-ml:skin-lesion-workflow" cannot create resource "pytorchjobs" in API group "kubeflow.org"`)
	})
}

// submitWorkflow creates wf and waits until Argo's controller has taken it
// up. Each scenario recreates its namespace, and the controller resolves
// workflowTemplateRef through an informer that may not have seen the new
// WorkflowTemplate yet: the workflow then ends at once in Error ("not
// found"). That is the test's haste, not kiln's output, so such a
// workflow is deleted and submitted again, a few times.
func submitWorkflow(t *testing.T, wf *unstructured.Unstructured) {
	t.Helper()
	ctx := context.Background()
	res := cl.dyn.Resource(workflowsGVR).Namespace(wf.GetNamespace())
	for attempt := 1; ; attempt++ {
		_, err := res.Create(ctx, wf.DeepCopy(), metav1.CreateOptions{})
		require.NoError(t, err)
		var phase, message string
		require.NoError(t, cl.waitFor(ctx, time.Minute, "workflow "+wf.GetName()+" to be taken up", func() (bool, error) {
			got, err := res.Get(ctx, wf.GetName(), metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			phase, _, _ = unstructured.NestedString(got.Object, "status", "phase")
			message, _, _ = unstructured.NestedString(got.Object, "status", "message")
			return phase != "" && phase != "Pending", nil
		}))
		if phase != "Error" || !strings.Contains(message, "not found") || attempt == 5 {
			return
		}
		t.Logf("workflow %s: %s (the controller has not seen the template yet); submitting again", wf.GetName(), message)
		require.NoError(t, res.Delete(ctx, wf.GetName(), metav1.DeleteOptions{}))
		require.NoError(t, cl.waitFor(ctx, time.Minute, "workflow "+wf.GetName()+" to be deleted", func() (bool, error) {
			_, err := res.Get(ctx, wf.GetName(), metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		}))
		time.Sleep(2 * time.Second)
	}
}
