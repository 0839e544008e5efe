//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/validate"
)

const (
	argoCDModule = "github.com/argoproj/argo-cd/v3"
	argoCDNS     = "argocd"
)

var (
	applicationGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	// The Git server on loopback Argo CD reads kiln's published output
	// from: bare repositories under gitRoot, served at gitURL.
	gitRoot, gitURL string
)

func init() { addons = append(addons, startArgoCD) }

// startArgoCD starts a Git server (git http-backend behind the test's own
// HTTP server), a Redis-protocol server (miniredis), Argo CD's repo
// server (with kustomize on its PATH, as its image has) and its
// application controller, which deploys to this cluster as its in-cluster
// destination. Argo CD's CRDs come from the same checkout as the binary.
func startArgoCD(ctx context.Context, c *cluster, env []string) error {
	if !fullHas("argocd") {
		return nil
	}
	bins := map[string]string{}
	for _, b := range []struct{ tool, mod, name string }{
		{"argo-cd", argoCDModule, "argocd-application-controller"},
		{"argo-cd", argoCDModule, "argocd-repo-server"},
		{"kustomize", "sigs.k8s.io/kustomize/kustomize/v5", "kustomize"},
		{"redis", "github.com/alicebob/miniredis/v2", "redis"},
	} {
		p, err := binary(b.tool, b.mod, b.name)
		if err != nil {
			return err
		}
		bins[b.name] = p
	}
	src := filepath.Join(filepath.Dir(bins["argocd-repo-server"]), "src")
	if err := c.applyFiles(ctx,
		filepath.Join(src, "manifests/crds/application-crd.yaml"),
		filepath.Join(src, "manifests/crds/appproject-crd.yaml")); err != nil {
		return err
	}
	if err := c.waitServed(ctx, schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"},
		schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "AppProject"}); err != nil {
		return err
	}

	// Git over smart HTTP, read-only: kiln publishes to the bare
	// repositories by path, Argo CD fetches them over HTTP.
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return fmt.Errorf("git --exec-path (git must be installed): %v", err)
	}
	gitRoot = filepath.Join(c.dir, "git")
	if err := os.MkdirAll(gitRoot, 0o755); err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	gitURL = "http://" + l.Addr().String()
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + gitRoot, "GIT_HTTP_EXPORT_ALL=1"},
	}
	go func() { _ = http.Serve(l, backend) }()

	redis := fmt.Sprintf("127.0.0.1:%d", freePort())
	if err := c.start("redis", bins["redis"], nil, "--addr", redis); err != nil {
		return err
	}

	// Argo CD's settings: argocd-cm (kiln's health checks are merged into
	// it by each test), an empty RBAC config and the secret its settings
	// manager expects.
	if err := c.applyYAML(ctx, []byte(`apiVersion: v1
kind: Namespace
metadata: {name: argocd}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: argocd
  labels: {app.kubernetes.io/name: argocd-cm, app.kubernetes.io/part-of: argocd}
data:
  timeout.reconciliation: 10s
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-rbac-cm
  namespace: argocd
  labels: {app.kubernetes.io/name: argocd-rbac-cm, app.kubernetes.io/part-of: argocd}
---
apiVersion: v1
kind: Secret
metadata:
  name: argocd-secret
  namespace: argocd
  labels: {app.kubernetes.io/name: argocd-secret, app.kubernetes.io/part-of: argocd}
stringData:
  server.secretkey: kiln-e2e
`), ""); err != nil {
		return err
	}

	home := filepath.Join(c.dir, "argocd-home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	// The repo server runs git-verify-wrapper.sh (a script of Argo CD's
	// image) on every revision, and fails without it.
	scripts := filepath.Join(c.dir, "argocd-scripts")
	if err := os.MkdirAll(scripts, 0o755); err != nil {
		return err
	}
	if err := os.Symlink(filepath.Join(src, "hack", "git-verify-wrapper.sh"), filepath.Join(scripts, "git-verify-wrapper.sh")); err != nil {
		return err
	}
	path := strings.Join([]string{filepath.Dir(bins["kustomize"]), filepath.Dir(bins["argocd-repo-server"]), scripts, os.Getenv("PATH")}, string(os.PathListSeparator))
	argoEnv := append(env, "PATH="+path, "HOME="+home, "ARGOCD_GPG_ENABLED=false",
		// The in-cluster destination is this cluster, through the
		// kubeconfig rather than a pod's service account.
		"ARGOCD_FAKE_IN_CLUSTER=true")
	repoPort := freePort()
	if err := c.start("argocd-repo-server", bins["argocd-repo-server"], argoEnv,
		"--address", "127.0.0.1",
		"--port", fmt.Sprint(repoPort),
		"--metrics-address", "127.0.0.1",
		"--metrics-port", fmt.Sprint(freePort()),
		"--redis", redis,
		// Plaintext gRPC on loopback, and so no client CA either.
		"--disable-tls", "--client-ca-path=",
	); err != nil {
		return err
	}
	if err := c.waitFor(ctx, 2*time.Minute, "the repo server to listen", func() (bool, error) {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", repoPort))
		if err != nil {
			return false, nil
		}
		conn.Close()
		return true, nil
	}); err != nil {
		return err
	}
	return c.start("argocd-application-controller", bins["argocd-application-controller"], argoEnv,
		"--kubeconfig", filepath.Join(c.dir, "kubeconfig"),
		"--namespace", argoCDNS,
		"--repo-server", fmt.Sprintf("127.0.0.1:%d", repoPort),
		"--repo-server-plaintext",
		"--redis", redis,
		"--metrics-port", fmt.Sprint(freePort()),
		"--app-resync", "10",
		"--self-heal-timeout-seconds", "1",
		// Each resource's health in the Application's status, where the
		// tests read it (else it is only in Redis, for Argo CD's UI).
		"--persist-resource-health",
	)
}

// git runs git with a fixed identity.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=kiln e2e", "GIT_AUTHOR_EMAIL=e2e@kiln.dev",
		"GIT_COMMITTER_NAME=kiln e2e", "GIT_COMMITTER_EMAIL=e2e@kiln.dev", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %s: %s", strings.Join(args, " "), out)
	return string(out)
}

// loopbackSpec copies an example into a Git repository of its own, with
// its gitops repository on the loopback Git server and every environment
// on this cluster (edits: old → new in system.cue), and creates that
// bare repository. It returns the spec's directory and the repository's
// path and URL.
func loopbackSpec(t *testing.T, example, repo string, edits ...string) (spec, repoPath, repoURL string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "examples", example, "system.cue"))
	require.NoError(t, err)
	src := string(b)
	repoURL = gitURL + "/" + repo + ".git"
	for i := 0; i+1 < len(edits); i += 2 {
		old := strings.ReplaceAll(edits[i], "REPO", repoURL)
		require.Contains(t, src, old, "the example changed: update the test's edits")
		src = strings.ReplaceAll(src, old, strings.ReplaceAll(edits[i+1], "REPO", repoURL))
	}
	spec = t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(spec, "system.cue"), []byte(src), 0o644))
	git(t, spec, "init", "--quiet", "--initial-branch=main")
	git(t, spec, "add", ".")
	git(t, spec, "commit", "--quiet", "-m", "spec")
	repoPath = filepath.Join(gitRoot, repo+".git")
	git(t, gitRoot, "init", "--quiet", "--bare", "--initial-branch=main", repoPath)
	return spec, repoPath, repoURL
}

// creations records, from watches started before a sync, the order in
// which objects of some kinds were created in some namespaces: the
// etcd revision of each creation, which orders them across kinds.
type creations struct {
	mu     sync.Mutex
	rev    map[string]int64 // objectKey → revision of its creation
	wave   map[string]int   // objectKey → its sync wave
	cancel context.CancelFunc
}

// objectKey is namespace/Kind/name.
func objectKey(o *unstructured.Unstructured) string {
	return o.GetNamespace() + "/" + o.GetKind() + "/" + o.GetName()
}

func watchCreations(t *testing.T, objs []*unstructured.Unstructured, namespaces ...string) *creations {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cr := &creations{rev: map[string]int64{}, wave: map[string]int{}, cancel: cancel}
	t.Cleanup(cancel)
	seen := map[schema.GroupVersionResource]bool{}
	for _, o := range objs {
		w, _ := strconv.Atoi(o.GetAnnotations()["argocd.argoproj.io/sync-wave"])
		cr.wave[objectKey(o)] = w
		gvk := o.GroupVersionKind()
		m, err := cl.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		require.NoError(t, err)
		if seen[m.Resource] {
			continue
		}
		seen[m.Resource] = true
		var ris []func(context.Context, metav1.ListOptions) (watch.Interface, error)
		if o.GetNamespace() == "" {
			ris = append(ris, cl.dyn.Resource(m.Resource).Watch)
		} else {
			for _, ns := range namespaces {
				ris = append(ris, cl.dyn.Resource(m.Resource).Namespace(ns).Watch)
			}
		}
		for _, wf := range ris {
			w, err := wf(ctx, metav1.ListOptions{})
			require.NoError(t, err)
			go func() {
				for ev := range w.ResultChan() {
					u, ok := ev.Object.(*unstructured.Unstructured)
					if !ok || ev.Type != watch.Added {
						continue
					}
					rv, _ := strconv.ParseInt(u.GetResourceVersion(), 10, 64)
					cr.mu.Lock()
					key := objectKey(u)
					if _, ok := cr.rev[key]; !ok {
						cr.rev[key] = rv
					}
					cr.mu.Unlock()
				}
			}()
		}
	}
	return cr
}

// order is the objects of the watched kinds in the order they were
// created, each with its wave.
func (cr *creations) order() []string {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	var keys []string
	for k := range cr.rev {
		if _, ours := cr.wave[k]; ours {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return cr.rev[keys[i]] < cr.rev[keys[j]] })
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s (wave %d)", k, cr.wave[k]))
	}
	return out
}

// appStatus is an Application's sync and health status.
func appStatus(app *unstructured.Unstructured) (syncStatus, health, message string) {
	syncStatus, _, _ = unstructured.NestedString(app.Object, "status", "sync", "status")
	health, _, _ = unstructured.NestedString(app.Object, "status", "health", "status")
	phase, _, _ := unstructured.NestedString(app.Object, "status", "operationState", "phase")
	msg, _, _ := unstructured.NestedString(app.Object, "status", "operationState", "message")
	conds, _, _ := unstructured.NestedSlice(app.Object, "status", "conditions")
	for _, c := range conds {
		cm := c.(map[string]any)
		msg += fmt.Sprintf("; %s: %s", cm["type"], cm["message"])
	}
	return syncStatus, health, strings.TrimSpace(phase + " " + msg)
}

// unhealthy lists an Application's resources that are not Synced and
// Healthy, with Argo CD's message.
func unhealthy(app *unstructured.Unstructured) string {
	res, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
	var lines []string
	for _, r := range res {
		rm := r.(map[string]any)
		s, _ := rm["status"].(string)
		h, _, _ := unstructured.NestedString(rm, "health", "status")
		hm, _, _ := unstructured.NestedString(rm, "health", "message")
		if s != "Synced" || (h != "" && h != "Healthy") {
			lines = append(lines, fmt.Sprintf("  %s/%s: %s %s %s", rm["kind"], rm["name"], s, h, hm))
		}
	}
	return strings.Join(lines, "\n")
}

// resourcesOf lists an Application's resources of a kind, as its status
// reports them.
func resourcesOf(app *unstructured.Unstructured, kind string) []map[string]any {
	res, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
	var out []map[string]any
	for _, r := range res {
		if rm := r.(map[string]any); rm["kind"] == kind {
			out = append(out, rm)
		}
	}
	return out
}

// playReady plays the controller of a kind the cluster has no controller
// for: it sets a Ready condition on every object of the kind in ns, as
// KServe's controller does once the model serves.
func playReady(t *testing.T, gvr schema.GroupVersionResource, ns string) []string {
	t.Helper()
	ctx := context.Background()
	list, err := cl.dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil
	}
	var names []string
	for _, o := range list.Items {
		if s, _ := conditionOf(&o, "Ready"); s == "True" {
			continue
		}
		now := time.Now().UTC().Format(time.RFC3339)
		patch := fmt.Sprintf(`{"status":{"observedGeneration":%d,"conditions":[{"type":"Ready","status":"True","reason":"Ready","lastTransitionTime":%q}]}}`, o.GetGeneration(), now)
		_, err := cl.dyn.Resource(gvr).Namespace(ns).Patch(ctx, o.GetName(), types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status")
		if err == nil {
			names = append(names, o.GetName())
		}
	}
	return names
}

// servedOrInstall installs, from ../shared/crds, the CRD of a kind the
// cluster does not serve yet (its controller is not part of the suite).
func servedOrInstall(t *testing.T, gvk schema.GroupVersionKind, crdFile string) schema.GroupVersionResource {
	t.Helper()
	ctx := context.Background()
	if m, err := cl.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err == nil {
		return m.Resource
	}
	dir, ok := validate.FindCRDDir(repoRoot())
	require.True(t, ok, "the CRDs in ../shared/crds (or $KILN_TEST_CRDS)")
	require.NoError(t, cl.applyFiles(ctx, filepath.Join(dir, crdFile)))
	require.NoError(t, cl.waitServed(ctx, gvk))
	m, err := cl.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	require.NoError(t, err)
	return m.Resource
}

// llm-finetune deployed the GitOps way: kiln publishes its output to a
// Git repository on loopback, the AppProject and Applications kiln
// renders go into Argo CD's namespace with kiln's health checks merged
// into argocd-cm, and Argo CD syncs dev (automated) and prod (by hand, as
// its policy says). Every object ends Synced and Healthy, by kiln's Lua
// health check for LLMInferenceService (the test plays KServe's
// controller: it sets Ready). The objects are created in wave order.
// Then drift: a hand edit of dev's quota is reverted by selfHeal, and
// `kiln check` on the published tree reports no drift.
func TestArgoCD(t *testing.T) {
	needFull(t, "argocd")
	ctx := context.Background()
	// prod moves from its own cluster to this one, into a namespace of
	// its own (dev has genai).
	spec, repoPath, _ := loopbackSpec(t, "llm-finetune", "genai-config",
		`destination: server: "https://prod.k8s.acme.example"`, `namespace: "genai-prod"`,
		`https://github.com/acme/genai-config.git`, `REPO`)
	cmd := exec.Command(cl.kiln, "publish", "--repo", repoPath, "--path", "deploy", spec)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "kiln publish: %s", out)
	t.Logf("kiln publish: %s", strings.SplitN(strings.TrimSpace(string(out)), "\n", 3)[:2])

	rendered := t.TempDir()
	b, err := exec.Command(cl.kiln, "render", "--out", rendered, spec).CombinedOutput()
	require.NoError(t, err, "kiln render: %s", b)
	llmGVR := servedOrInstall(t, schema.GroupVersionKind{Group: "serving.kserve.io", Version: "v1alpha2", Kind: "LLMInferenceService"},
		"kserve/serving.kserve.io_llminferenceservices.yaml")

	// kiln's health checks into argocd-cm, as its header says.
	health, err := os.ReadFile(filepath.Join(rendered, "argocd", "llm-finetune", "argocd-cm-health.yaml"))
	require.NoError(t, err)
	var patch unstructured.Unstructured
	require.NoError(t, yaml.Unmarshal(health, &patch.Object))
	data, _, _ := unstructured.NestedStringMap(patch.Object, "data")
	require.NotEmpty(t, data)
	cm, err := cl.kube.CoreV1().ConfigMaps(argoCDNS).Get(ctx, "argocd-cm", metav1.GetOptions{})
	require.NoError(t, err)
	for k, v := range data {
		cm.Data[k] = v
	}
	_, err = cl.kube.CoreV1().ConfigMaps(argoCDNS).Update(ctx, cm, metav1.UpdateOptions{})
	require.NoError(t, err)

	envs := map[string]string{"dev": "genai", "prod": "genai-prod"}
	var objs []*unstructured.Unstructured
	for env := range envs {
		objs = append(objs, envObjects(t, rendered, env, "llm-finetune")...)
	}
	created := watchCreations(t, objs, "genai", "genai-prod")
	for _, f := range []string{"appproject-llm-finetune.yaml", "application-llm-finetune-dev.yaml", "application-llm-finetune-prod.yaml"} {
		b, err := os.ReadFile(filepath.Join(rendered, "argocd", "llm-finetune", f))
		require.NoError(t, err)
		require.NoError(t, cl.applyYAML(ctx, b, ""), f)
	}
	t.Cleanup(func() {
		for env, ns := range envs {
			_ = cl.dyn.Resource(applicationGVR).Namespace(argoCDNS).Delete(context.Background(), "llm-finetune-"+env, metav1.DeleteOptions{})
			deleteNamespace(t, ns)
		}
	})
	// prod is synced by hand (automated: false), as `argocd app sync` does.
	_, err = cl.dyn.Resource(applicationGVR).Namespace(argoCDNS).Patch(ctx, "llm-finetune-prod", types.MergePatchType,
		[]byte(`{"operation":{"initiatedBy":{"username":"kiln-e2e"},"sync":{"revision":"HEAD","syncOptions":["ServerSideApply=true"]}}}`), metav1.PatchOptions{})
	require.NoError(t, err)

	start := time.Now()
	for env, ns := range envs {
		app := "llm-finetune-" + env
		var cur *unstructured.Unstructured
		// Once synced, before KServe (the test) says the models are
		// ready, kiln's health check holds the application Progressing.
		var before []string
		err := cl.waitFor(ctx, 5*time.Minute, "Application "+app+" to be Synced and Healthy", func() (bool, error) {
			var err error
			cur, err = cl.dyn.Resource(applicationGVR).Namespace(argoCDNS).Get(ctx, app, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			s, h, _ := appStatus(cur)
			if s == "Synced" && before == nil {
				before = append(before, "application "+h)
				for _, r := range resourcesOf(cur, "LLMInferenceService") {
					hs, _, _ := unstructured.NestedString(r, "health", "status")
					hm, _, _ := unstructured.NestedString(r, "health", "message")
					before = append(before, fmt.Sprintf("%s %s: %s", r["name"], hs, hm))
				}
			}
			if s == "Synced" {
				playReady(t, llmGVR, ns)
			}
			return s == "Synced" && h == "Healthy", nil
		})
		if err != nil && cur != nil {
			s, h, msg := appStatus(cur)
			t.Fatalf("%v: %s %s (%s)\n%s", err, s, h, msg, unhealthy(cur))
		}
		require.NoError(t, err)
		res, _, _ := unstructured.NestedSlice(cur.Object, "status", "resources")
		rev, _, _ := unstructured.NestedString(cur.Object, "status", "sync", "revision")
		t.Logf("Application %s: Synced and Healthy at %.12s after %s, %d resources", app, rev, time.Since(start).Round(time.Second), len(res))
		assert.Empty(t, unhealthy(cur), "every resource of %s is Synced and Healthy", app)
		// The LLMInferenceServices' health is kiln's Lua check's verdict
		// (its messages), before and after they are ready.
		t.Logf("  synced, before the models are ready: %s", strings.Join(before, "; "))
		assert.Equal(t, "application Progressing", before[0])
		for _, b := range before[1:] {
			assert.Contains(t, b, "Progressing: Waiting for the LLMInferenceService to become ready")
		}
		for _, r := range resourcesOf(cur, "LLMInferenceService") {
			msg, _, _ := unstructured.NestedString(r, "health", "message")
			t.Logf("  LLMInferenceService %s once ready: %s", r["name"], msg)
			assert.Equal(t, "The LLMInferenceService is ready", msg, "kiln's health check judged %s", r["name"])
		}
	}

	// Sync waves: nothing of wave 0 was created before the last object
	// of wave -1 (per Application, each syncing on its own).
	order := created.order()
	t.Logf("created, in order:\n  %s", strings.Join(order, "\n  "))
	for _, ns := range envs {
		var lastLow, firstHigh int64 = -1, -1
		for _, o := range objs {
			if o.GetNamespace() != ns && !(o.GetKind() == "Namespace" && o.GetName() == ns) {
				continue
			}
			key := objectKey(o)
			created.mu.Lock()
			rv, ok := created.rev[key]
			created.mu.Unlock()
			if !assert.True(t, ok, "Argo CD created %s in %s", key, ns) {
				continue
			}
			if created.wave[key] < 0 && rv > lastLow {
				lastLow = rv
			}
			if created.wave[key] >= 0 && (firstHigh < 0 || rv < firstHigh) {
				firstHigh = rv
			}
		}
		assert.Less(t, lastLow, firstHigh, "namespace %s: every object of wave -1 is created before the first of wave 0", ns)
	}

	// Drift: a hand edit of dev's quota; dev self-heals.
	q, err := cl.kube.CoreV1().ResourceQuotas("genai").Get(ctx, "llm-finetune", metav1.GetOptions{})
	require.NoError(t, err)
	want := q.Spec.Hard["requests.nvidia.com/gpu"]
	edited := q.DeepCopy()
	edited.Spec.Hard["requests.nvidia.com/gpu"] = resource.MustParse("999")
	_, err = cl.kube.CoreV1().ResourceQuotas("genai").Update(ctx, edited, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
	require.NoError(t, err)
	edit := time.Now()
	require.NoError(t, cl.waitFor(ctx, 2*time.Minute, "Argo CD to revert the hand edit", func() (bool, error) {
		q, err := cl.kube.CoreV1().ResourceQuotas("genai").Get(ctx, "llm-finetune", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		got := q.Spec.Hard["requests.nvidia.com/gpu"]
		return got.Cmp(want) == 0, nil
	}))
	t.Logf("hand edit of ResourceQuota genai/llm-finetune (requests.nvidia.com/gpu %s → 999) reverted by selfHeal after %s", want.String(), time.Since(edit).Round(time.Second))

	// kiln check on the published tree: no drift.
	clone := t.TempDir()
	git(t, clone, "clone", "--quiet", repoPath, "tree")
	crds, _ := validate.FindCRDDir(repoRoot())
	b, err = exec.Command(cl.kiln, "check", "--crds", crds, "--out", filepath.Join(clone, "tree", "deploy"), spec).CombinedOutput()
	t.Logf("kiln check on the published tree: %s", strings.TrimSpace(string(b)))
	require.NoError(t, err, "kiln check: %s", b)
	assert.Contains(t, string(b), "up to date", "kiln check finds the published tree equal to a fresh render")
}
