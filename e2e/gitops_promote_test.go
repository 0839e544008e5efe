//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// gitopsApp is one environment's Application as a test drives it.
type gitopsApp struct {
	name, ns string
	objs     []*unstructured.Unstructured
}

// syncByHand starts a sync of an Application at the branch's head, as
// `argocd app sync` does, and returns when the operation was started.
func syncByHand(t *testing.T, app string) time.Time {
	t.Helper()
	at := time.Now().Add(-time.Second).Truncate(time.Second)
	_, err := cl.dyn.Resource(applicationGVR).Namespace(argoCDNS).Patch(context.Background(), app, types.MergePatchType,
		[]byte(`{"operation":{"initiatedBy":{"username":"kiln-e2e"},"sync":{"revision":"HEAD"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	return at
}

// waitSynced waits until an Application is Synced and Healthy at a
// revision, playing the controllers the suite does not run (Katib) on
// the way, and returns it.
func waitSynced(t *testing.T, app gitopsApp, rev string) *unstructured.Unstructured {
	t.Helper()
	ctx := context.Background()
	var cur *unstructured.Unstructured
	err := cl.waitFor(ctx, 5*time.Minute, "Application "+app.name+" to be Synced and Healthy at "+rev[:12], func() (bool, error) {
		var err error
		cur, err = cl.dyn.Resource(applicationGVR).Namespace(argoCDNS).Get(ctx, app.name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s, h, _ := appStatus(cur)
		at, _, _ := unstructured.NestedString(cur.Object, "status", "sync", "revision")
		if s == "Synced" {
			play(t, app.objs)
		}
		return s == "Synced" && h == "Healthy" && at == rev, nil
	})
	if err != nil && cur != nil {
		s, h, msg := appStatus(cur)
		t.Fatalf("%v: %s %s (%s)\n%s", err, s, h, msg, unhealthy(cur))
	}
	require.NoError(t, err)
	return cur
}

// resourceVersions are the resourceVersions of the objects in a
// namespace that kiln rendered (and so Argo CD applies), and of the
// Deployments KServe made from them, by objectKey.
func resourceVersions(t *testing.T, app gitopsApp) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, o := range app.objs {
		ri, err := cl.resource(o)
		require.NoError(t, err)
		cur, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
		require.NoError(t, err, "%s", objectKey(o))
		out[objectKey(o)] = cur.GetResourceVersion()
	}
	deps, err := cl.kube.AppsV1().Deployments(app.ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, d := range deps.Items {
		out[app.ns+"/Deployment/"+d.Name] = d.ResourceVersion
	}
	return out
}

// headOf is the commit at the head of a bare repository's main.
func headOf(t *testing.T, repo string) string {
	t.Helper()
	return strings.TrimSpace(git(t, filepath.Dir(repo), "--git-dir", repo, "rev-parse", "main"))
}

// (In a file that sorts after argocd_test.go: TestArgoCD runs first, in
// a cluster where KServe has not been started, as it expects.)
//
// Scenario 5, a canary promoted the GitOps way: fraud-detect's staging
// and prod on this cluster, published with `kiln publish` to the
// loopback Git server, synced by Argo CD, served by the real KServe
// (Standard mode; its webhooks and controller as in TestServingStandard).
// `kiln promote -e prod --canary 50` makes a new model prod's canary;
// `kiln publish` commits only prod's files; prod is synced (by hand, as
// its sync policy says) and KServe rolls the canary's pods onto the new
// model while the stable version's Deployment stays as it was, and the
// split kiln renders goes from 80/20 to 50/50. Staging is untouched:
// every object of it keeps its resourceVersion. Then a commit made by
// hand to the published tree that the API server refuses (a negative
// quota): the sync fails with the API server's message in the
// Application's operation state, and what runs keeps running.
func TestArgoCDPromote(t *testing.T) {
	needFull(t, "argocd")
	ctx := context.Background()
	require.NoError(t, cl.startKServe(ctx), kserveLog())
	var ex gitopsExample
	for _, e := range gitopsExamples {
		if e.name == "fraud-detect" {
			ex = e
		}
	}
	require.Equal(t, "fraud-detect", ex.name)
	spec, repoPath, _ := loopbackSpec(t, ex.name, ex.name+"-promote", ex.edits...)
	publish := func() string {
		out, err := exec.Command(cl.kiln, "publish", "--repo", repoPath, "--path", "deploy", spec).CombinedOutput()
		require.NoError(t, err, "kiln publish: %s", out)
		t.Logf("kiln publish: %s", strings.TrimSpace(string(out)))
		return headOf(t, repoPath)
	}
	rev1 := publish()

	rendered := renderSpec(t, spec)
	apps := map[string]gitopsApp{}
	for env, ns := range ex.envs {
		objs := envObjects(t, rendered, env, ex.name)
		for _, o := range objs {
			crdFor(t, o.GroupVersionKind())
		}
		// The storage credentials a platform team would create.
		servingCredentials(t, objs)
		var inNS []*unstructured.Unstructured
		for _, o := range objs {
			if o.GetNamespace() == ns {
				inNS = append(inNS, o)
			}
		}
		apps[env] = gitopsApp{name: ex.name + "-" + env, ns: ns, objs: inNS}
	}
	health, err := os.ReadFile(filepath.Join(rendered, "argocd", ex.name, "argocd-cm-health.yaml"))
	require.NoError(t, err)
	var patch unstructured.Unstructured
	require.NoError(t, yaml.Unmarshal(health, &patch.Object))
	data, _, _ := unstructured.NestedStringMap(patch.Object, "data")
	cm, err := cl.kube.CoreV1().ConfigMaps(argoCDNS).Get(ctx, "argocd-cm", metav1.GetOptions{})
	require.NoError(t, err)
	for k, v := range data {
		cm.Data[k] = v
	}
	_, err = cl.kube.CoreV1().ConfigMaps(argoCDNS).Update(ctx, cm, metav1.UpdateOptions{})
	require.NoError(t, err)
	files, _ := filepath.Glob(filepath.Join(rendered, "argocd", ex.name, "application-*.yaml"))
	for _, f := range append([]string{filepath.Join(rendered, "argocd", ex.name, "appproject-"+ex.name+".yaml")}, files...) {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, cl.applyYAML(ctx, b, ""), f)
	}
	t.Cleanup(func() {
		for _, app := range apps {
			_ = cl.dyn.Resource(applicationGVR).Namespace(argoCDNS).Delete(context.Background(), app.name, metav1.DeleteOptions{})
			deleteNamespace(t, app.ns)
		}
		for _, o := range envObjects(t, rendered, "prod", ex.name) {
			if o.GetNamespace() == "" && o.GetKind() != "Namespace" {
				if ri, err := cl.resource(o); err == nil {
					_ = ri.Delete(context.Background(), o.GetName(), metav1.DeleteOptions{})
				}
			}
		}
		for _, o := range envObjects(t, rendered, "staging", ex.name) {
			if o.GetNamespace() == "" && o.GetKind() != "Namespace" {
				if ri, err := cl.resource(o); err == nil {
					_ = ri.Delete(context.Background(), o.GetName(), metav1.DeleteOptions{})
				}
			}
		}
	})
	prod, staging := apps["prod"], apps["staging"]
	syncByHand(t, prod.name)
	start := time.Now()
	waitSynced(t, staging, rev1)
	waitSynced(t, prod, rev1)
	t.Logf("staging and prod Synced and Healthy at %.12s after %s", rev1, time.Since(start).Round(time.Second))

	isvc := func(name string) *unstructured.Unstructured {
		o := find(t, prod.objs, "InferenceService", name)
		ri, err := cl.resource(o)
		require.NoError(t, err)
		cur, err := ri.Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		return cur
	}
	vsWeights := func() map[string]int64 {
		o := find(t, prod.objs, "VirtualService", "scorer")
		ri, err := cl.resource(o)
		require.NoError(t, err)
		cur, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
		require.NoError(t, err)
		return routeWeights(cur)
	}
	canaryModel := func() string {
		m, _, _ := unstructured.NestedString(isvc("scorer-canary").Object, "spec", "predictor", "model", "storageUri")
		return m
	}
	require.Equal(t, "gs://acme-risk-models/fraud/v42", canaryModel())
	require.Equal(t, map[string]int64{"stable": 80, "canary": 20}, vsWeights())
	stableDep, err := cl.kube.AppsV1().Deployments(prod.ns).Get(ctx, "scorer-predictor", metav1.GetOptions{})
	require.NoError(t, err, "KServe's Deployment of the stable version")
	stableGen := isvc("scorer").GetGeneration()
	before := resourceVersions(t, staging)

	// Promote, publish, sync prod.
	const model = "gs://acme-risk-models/fraud/v43"
	out, err := exec.Command(cl.kiln, "promote", spec, "fraud-detect/scorer", "--model-uri", model, "--canary", "50", "-e", "prod").CombinedOutput()
	require.NoError(t, err, "kiln promote: %s", out)
	t.Logf("kiln promote: %s", strings.TrimSpace(string(out)))
	git(t, spec, "commit", "--quiet", "-am", "promote v43 to prod's canary")
	rev2 := publish()
	require.NotEqual(t, rev1, rev2)
	changed := strings.Fields(git(t, filepath.Dir(repoPath), "--git-dir", repoPath, "diff", "--name-only", rev1, rev2))
	t.Logf("published change: %v", changed)
	require.NotEmpty(t, changed)
	for _, f := range changed {
		assert.True(t, strings.HasPrefix(f, "deploy/prod/"), "the promotion changes prod's files only: %s", f)
	}
	start = time.Now()
	syncByHand(t, prod.name)
	waitSynced(t, prod, rev2)
	t.Logf("prod Synced and Healthy at %.12s after %s", rev2, time.Since(start).Round(time.Second))

	// KServe rolls the canary onto the new model.
	var pods []corev1.Pod
	require.NoError(t, cl.waitFor(ctx, 3*time.Minute, "the canary's pods to serve "+model, func() (bool, error) {
		pods = podsOf(t, prod.ns, "serving.kserve.io/inferenceservice=scorer-canary")
		if len(pods) == 0 {
			return false, nil
		}
		for _, p := range pods {
			ready := false
			for _, c := range p.Status.Conditions {
				ready = ready || (c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue)
			}
			serves := false
			for _, c := range p.Spec.InitContainers {
				serves = serves || (c.Name == "storage-initializer" && strings.Contains(strings.Join(c.Args, " "), model))
			}
			if !ready || !serves || p.DeletionTimestamp != nil {
				return false, nil
			}
		}
		return true, nil
	}), "canary pods: %v\n%s", podNames(pods), eventsFor(prod.ns, "scorer-canary"))
	waitReady(t, isvc("scorer-canary"), 2*time.Minute)
	t.Logf("canary pods serving %s after %s: %v", model, time.Since(start).Round(time.Second), podNames(pods))
	assert.Equal(t, model, canaryModel())
	assert.Equal(t, map[string]int64{"stable": 50, "canary": 50}, vsWeights(), "the split moved")
	t.Logf("VirtualService scorer: weights %v", vsWeights())
	// The stable version is left as it was.
	assert.Equal(t, stableGen, isvc("scorer").GetGeneration(), "the stable InferenceService is not changed")
	dep, err := cl.kube.AppsV1().Deployments(prod.ns).Get(ctx, "scorer-predictor", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, stableDep.Generation, dep.Generation, "the stable version's Deployment is not rolled")
	// Staging: Argo CD compared it at the new revision and changed
	// nothing.
	waitSynced(t, staging, rev2)
	after := resourceVersions(t, staging)
	assert.Equal(t, before, after, "staging's objects keep their resourceVersions")
	t.Logf("staging: %d objects, resourceVersions unchanged", len(after))

	// A hand-made commit the API server refuses.
	clone := filepath.Join(t.TempDir(), "tree")
	git(t, filepath.Dir(clone), "clone", "--quiet", repoPath, clone)
	quota := filepath.Join(clone, "deploy", "prod", ex.name, "resourcequota-"+ex.name+".yaml")
	b, err := os.ReadFile(quota)
	require.NoError(t, err)
	require.Contains(t, string(b), `requests.cpu: "200"`)
	require.NoError(t, os.WriteFile(quota, []byte(strings.Replace(string(b), `requests.cpu: "200"`, `requests.cpu: "-1"`, 1)), 0o644))
	git(t, clone, "commit", "--quiet", "-am", "hand edit: prod's CPU quota")
	git(t, clone, "push", "--quiet", "origin", "main")
	rev3 := headOf(t, repoPath)
	syncByHand(t, prod.name)
	var phase, msg string
	var cur *unstructured.Unstructured
	require.NoError(t, cl.waitFor(ctx, 3*time.Minute, "the sync of "+rev3[:12]+" to end", func() (bool, error) {
		cur, err = cl.dyn.Resource(applicationGVR).Namespace(argoCDNS).Get(ctx, prod.name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		phase, _, _ = unstructured.NestedString(cur.Object, "status", "operationState", "phase")
		msg, _, _ = unstructured.NestedString(cur.Object, "status", "operationState", "message")
		rev, _, _ := unstructured.NestedString(cur.Object, "status", "operationState", "operation", "sync", "revision")
		synced, _, _ := unstructured.NestedString(cur.Object, "status", "operationState", "syncResult", "revision")
		return (rev == rev3 || synced == rev3 || rev == "HEAD") && (phase == "Failed" || phase == "Error"), nil
	}))
	refused := `ResourceQuota "fraud-detect" is invalid: spec.hard[requests.cpu]: Invalid value: "-1": must be greater than or equal to 0`
	t.Logf("Application %s after the hand edit: operation %s: %s", prod.name, phase, msg)
	// Argo CD v3.5.1 diffs on the server (a server-side apply dry run)
	// before it applies anything: the refusal ends the operation in Error
	// at that comparison, and the Application carries it as a
	// ComparisonError condition.
	assert.Equal(t, "Error", phase)
	assert.Contains(t, msg, "ComparisonError")
	assert.Contains(t, msg, refused)
	var cond string
	require.NoError(t, cl.waitFor(ctx, 2*time.Minute, "a ComparisonError condition on "+prod.name, func() (bool, error) {
		cur, err = cl.dyn.Resource(applicationGVR).Namespace(argoCDNS).Get(ctx, prod.name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(cur.Object, "status", "conditions")
		for _, c := range conds {
			cm := c.(map[string]any)
			if cm["type"] == "ComparisonError" {
				cond, _ = cm["message"].(string)
				return true, nil
			}
		}
		return false, nil
	}))
	s, h, _ := appStatus(cur)
	at, _, _ := unstructured.NestedString(cur.Object, "status", "sync", "revision")
	t.Logf("Application %s: sync %s at %.12s, health %s; condition ComparisonError: %s", prod.name, s, at, h, cond)
	assert.Contains(t, cond, refused)
	assert.Equal(t, "Unknown", s, "the comparison at the refused revision failed")
	q, err := cl.kube.CoreV1().ResourceQuotas(prod.ns).Get(ctx, ex.name, metav1.GetOptions{})
	require.NoError(t, err)
	cpu := q.Spec.Hard[corev1.ResourceRequestsCPU]
	assert.Equal(t, "200", cpu.String(), "the cluster keeps the quota it had")
	// kiln check on the tree says it is not what kiln renders.
	b, err = exec.Command(cl.kiln, "check", "--out", filepath.Join(clone, "deploy"), spec).CombinedOutput()
	t.Logf("kiln check on the hand-edited tree: %s", strings.TrimSpace(string(b)))
	assert.Error(t, err, "kiln check finds the hand edit")
	assert.Contains(t, string(b), "resourcequota-"+ex.name+".yaml")
}
