//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
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

// gitopsExample is a bundled example as the Argo CD scenario deploys it:
// edits to its spec (old, new, …: its gitops repository on the loopback
// Git server as REPO, every environment on this cluster in a namespace of
// its own) and the namespace of each environment after them.
type gitopsExample struct {
	name  string
	edits []string
	envs  map[string]string
}

var gitopsExamples = []gitopsExample{
	{"llm-finetune", []string{
		`destination: server: "https://prod.k8s.acme.example"`, `namespace: "genai-prod"`,
		`https://github.com/acme/genai-config.git`, `REPO`,
	}, map[string]string{"dev": "genai", "prod": "genai-prod"}},
	{"skin-lesion", []string{
		`destination: server: "https://prod.k8s.acme.example"`, `namespace: "derm-ml-prod"`,
		`https://github.com/acme/derm-ml-config.git`, `REPO`,
	}, map[string]string{"dev": "derm-ml", "prod": "derm-ml-prod"}},
	{"fraud-detect", []string{
		`destination: name: "payments-prod"`, `// (e2e: this cluster)`,
		// The gitops repository only: the promote step's repository
		// must stay https (the step does not run here).
		`repoURL: "https://github.com/acme/risk-ml-deploy.git"`, `repoURL: "REPO"`,
	}, map[string]string{"staging": "risk-ml-staging", "prod": "risk-ml"}},
}

// played are the status patches the test applies, as the controllers the
// suite does not run would once their objects work: KServe (models
// serving), the notebook controller (server ready), Katib (experiment
// done).
var played = map[string]string{
	"InferenceService":    `{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Ready","lastTransitionTime":%q}]}}`,
	"LLMInferenceService": `{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Ready","lastTransitionTime":%q}]}}`,
	"Notebook":            `{"status":{"readyReplicas":1,"containerState":{"running":{"startedAt":%q}},"conditions":[]}}`,
	"Experiment":          `{"status":{"trialsSucceeded":4,"conditions":[{"type":"Succeeded","status":"True","reason":"ExperimentMaxTrialsReached","message":"Experiment has succeeded because max trial count has reached","lastTransitionTime":%q}]}}`,
}

// play sets the played status on the objects of an environment that
// have none yet; it returns what it changed.
func play(t *testing.T, objs []*unstructured.Unstructured) []string {
	ctx := context.Background()
	var out []string
	for _, o := range objs {
		patch, ok := played[o.GetKind()]
		if !ok {
			continue
		}
		ri, err := cl.resource(o)
		if err != nil {
			continue
		}
		cur, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
		if err != nil {
			continue
		}
		if _, has := cur.Object["status"].(map[string]any); has {
			if conds, _, _ := unstructured.NestedSlice(cur.Object, "status", "conditions"); len(conds) > 0 || o.GetKind() == "Notebook" {
				continue
			}
		}
		b := []byte(fmt.Sprintf(patch, time.Now().UTC().Format(time.RFC3339)))
		if _, err := ri.Patch(ctx, o.GetName(), types.MergePatchType, b, metav1.PatchOptions{}, "status"); err == nil {
			out = append(out, o.GetKind()+"/"+o.GetName())
		}
	}
	return out
}

// crdFor finds, in ../shared/crds, the CRD of a kind and installs it
// unless the cluster serves the kind already (its controller is not part
// of the suite: the test plays it).
func crdFor(t *testing.T, gvk schema.GroupVersionKind) {
	t.Helper()
	ctx := context.Background()
	if _, err := cl.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err == nil {
		return
	}
	dir, ok := validate.FindCRDDir(repoRoot())
	require.True(t, ok, "the CRDs in ../shared/crds (or $KILN_TEST_CRDS)")
	var found *unstructured.Unstructured
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != nil || !strings.HasSuffix(p, ".yaml") || strings.Contains(p, "validation_patches") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for _, doc := range splitYAML(b) {
			var crd unstructured.Unstructured
			if yaml.Unmarshal(doc, &crd.Object) != nil || crd.GetKind() != "CustomResourceDefinition" {
				continue
			}
			g, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
			k, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
			if g == gvk.Group && k == gvk.Kind {
				found = &crd
				return nil
			}
		}
		return nil
	})
	require.NotNil(t, found, "no CRD for %s in %s", gvk, dir)
	require.NoError(t, cl.apply(ctx, found), "installing the CRD of %s", gvk.Kind)
	require.NoError(t, cl.waitServed(ctx, gvk))
}

// The bundled examples deployed the GitOps way, each as its own subtest.
// kiln publishes an example's output to a Git repository on loopback; the
// AppProject and Applications kiln renders go into Argo CD's namespace,
// kiln's health checks into argocd-cm (as the file's header says). Argo
// CD syncs every environment (an explicit sync, as `argocd app sync`
// does, for those synced by hand); every resource ends Synced and
// Healthy. Kinds whose controllers the suite does not run get their CRDs
// from ../shared/crds and their status from the test (played, above):
// kiln's Lua checks hold them Progressing until then. Watches record the
// order objects were created: every object of wave -1 before the first
// of wave 0, in each namespace. Drift: a hand edit of the self-healing
// environment's ResourceQuota is reverted by Argo CD, and `kiln check` on
// the published tree reports no drift.
func TestArgoCD(t *testing.T) {
	needFull(t, "argocd")
	for _, ex := range gitopsExamples {
		t.Run(ex.name, func(t *testing.T) { gitopsSync(t, ex) })
	}
}

func gitopsSync(t *testing.T, ex gitopsExample) {
	ctx := context.Background()
	spec, repoPath, _ := loopbackSpec(t, ex.name, ex.name+"-config", ex.edits...)
	out, err := exec.Command(cl.kiln, "publish", "--repo", repoPath, "--path", "deploy", spec).CombinedOutput()
	require.NoError(t, err, "kiln publish: %s", out)
	t.Logf("kiln publish: %s", strings.SplitN(strings.TrimSpace(string(out)), "\n", 3)[:2])

	rendered := t.TempDir()
	b, err := exec.Command(cl.kiln, "render", "--out", rendered, spec).CombinedOutput()
	require.NoError(t, err, "kiln render: %s", b)
	var objs []*unstructured.Unstructured
	for env := range ex.envs {
		objs = append(objs, envObjects(t, rendered, env, ex.name)...)
	}
	for _, o := range objs {
		crdFor(t, o.GroupVersionKind())
		// A claim binds to a volume a provisioner would have made.
		if o.GetKind() == "PersistentVolumeClaim" {
			size, _, _ := unstructured.NestedString(o.Object, "spec", "resources", "requests", "storage")
			modes, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "accessModes")
			freeVolume(t, size, corev1.PersistentVolumeAccessMode(modes[0]))
		}
	}

	// kiln's health checks into argocd-cm, as its header says.
	if health, err := os.ReadFile(filepath.Join(rendered, "argocd", ex.name, "argocd-cm-health.yaml")); err == nil {
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
		t.Logf("argocd-cm: kiln's health checks for %s", strings.Join(slices.Sorted(maps.Keys(data)), ", "))
	}

	var namespaces []string
	for _, ns := range ex.envs {
		namespaces = append(namespaces, ns)
	}
	created := watchCreations(t, objs, namespaces...)
	// The AppProject first: an Application naming a project that does
	// not exist yet fails its sync operation for good.
	apps, _ := filepath.Glob(filepath.Join(rendered, "argocd", ex.name, "application-*.yaml"))
	for _, f := range append([]string{filepath.Join(rendered, "argocd", ex.name, "appproject-"+ex.name+".yaml")}, apps...) {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, cl.applyYAML(ctx, b, ""), f)
	}
	t.Cleanup(func() {
		for env, ns := range ex.envs {
			_ = cl.dyn.Resource(applicationGVR).Namespace(argoCDNS).Delete(context.Background(), ex.name+"-"+env, metav1.DeleteOptions{})
			deleteNamespace(t, ns)
		}
		// Cluster-scoped objects (a ClusterStorageContainer) go too: the
		// next example's Application would find them tracked by this one.
		for _, o := range objs {
			if o.GetNamespace() == "" && o.GetKind() != "Namespace" {
				if ri, err := cl.resource(o); err == nil {
					_ = ri.Delete(context.Background(), o.GetName(), metav1.DeleteOptions{})
				}
			}
		}
	})
	selfHealing := ""
	for env := range ex.envs {
		app := ex.name + "-" + env
		cur, err := cl.dyn.Resource(applicationGVR).Namespace(argoCDNS).Get(ctx, app, metav1.GetOptions{})
		require.NoError(t, err)
		if heal, _, _ := unstructured.NestedBool(cur.Object, "spec", "syncPolicy", "automated", "selfHeal"); heal {
			selfHealing = env
			continue
		}
		// Synced by hand, as `argocd app sync` does.
		_, err = cl.dyn.Resource(applicationGVR).Namespace(argoCDNS).Patch(ctx, app, types.MergePatchType,
			[]byte(`{"operation":{"initiatedBy":{"username":"kiln-e2e"},"sync":{"revision":"HEAD"}}}`), metav1.PatchOptions{})
		require.NoError(t, err)
	}

	start := time.Now()
	for env, ns := range ex.envs {
		app := ex.name + "-" + env
		var envObjs []*unstructured.Unstructured
		for _, o := range objs {
			if o.GetNamespace() == ns {
				envObjs = append(envObjs, o)
			}
		}
		var cur *unstructured.Unstructured
		// Once synced, before the played controllers report, kiln's
		// health checks hold the application Progressing.
		var before, playedNow []string
		err := cl.waitFor(ctx, 5*time.Minute, "Application "+app+" to be Synced and Healthy", func() (bool, error) {
			var err error
			cur, err = cl.dyn.Resource(applicationGVR).Namespace(argoCDNS).Get(ctx, app, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			s, h, _ := appStatus(cur)
			if s == "Synced" && before == nil {
				before = append(before, "application "+h)
				for kind := range played {
					for _, r := range resourcesOf(cur, kind) {
						hs, _, _ := unstructured.NestedString(r, "health", "status")
						hm, _, _ := unstructured.NestedString(r, "health", "message")
						before = append(before, fmt.Sprintf("%s/%s %s: %s", kind, r["name"], hs, hm))
					}
				}
			}
			if s == "Synced" {
				playedNow = append(playedNow, play(t, envObjs)...)
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
		t.Logf("  synced, before the test played their controllers: %s", strings.Join(before, "; "))
		if len(playedNow) > 0 {
			t.Logf("  played: %s", strings.Join(playedNow, ", "))
			assert.Equal(t, "application Progressing", before[0], "kiln's health checks wait for the played objects")
		}
		for kind := range played {
			for _, r := range resourcesOf(cur, kind) {
				msg, _, _ := unstructured.NestedString(r, "health", "message")
				t.Logf("  %s %s, healthy: %s", kind, r["name"], msg)
			}
		}
	}

	// Sync waves: nothing of wave 0 was created before the last object
	// of wave -1, in each namespace (each Application syncs on its own).
	t.Logf("created, in order:\n  %s", strings.Join(created.order(), "\n  "))
	for _, ns := range ex.envs {
		var lastLow, firstHigh int64 = -1, -1
		for _, o := range objs {
			if o.GetNamespace() != ns && !(o.GetKind() == "Namespace" && o.GetName() == ns) {
				continue
			}
			key := objectKey(o)
			created.mu.Lock()
			rv, ok := created.rev[key]
			created.mu.Unlock()
			if !assert.True(t, ok, "Argo CD created %s", key) {
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

	// Drift: a hand edit of the self-healing environment's quota.
	require.NotEmpty(t, selfHealing, "an environment of %s self-heals", ex.name)
	ns := ex.envs[selfHealing]
	q, err := cl.kube.CoreV1().ResourceQuotas(ns).Get(ctx, ex.name, metav1.GetOptions{})
	require.NoError(t, err)
	want := q.Spec.Hard["requests.nvidia.com/gpu"]
	edited := q.DeepCopy()
	edited.Spec.Hard["requests.nvidia.com/gpu"] = resource.MustParse("999")
	_, err = cl.kube.CoreV1().ResourceQuotas(ns).Update(ctx, edited, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
	require.NoError(t, err)
	edit := time.Now()
	require.NoError(t, cl.waitFor(ctx, 2*time.Minute, "Argo CD to revert the hand edit", func() (bool, error) {
		q, err := cl.kube.CoreV1().ResourceQuotas(ns).Get(ctx, ex.name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		got := q.Spec.Hard["requests.nvidia.com/gpu"]
		return got.Cmp(want) == 0, nil
	}))
	t.Logf("hand edit of ResourceQuota %s/%s (requests.nvidia.com/gpu %s → 999) reverted by selfHeal after %s", ns, ex.name, want.String(), time.Since(edit).Round(time.Second))

	// kiln check on the published tree: no drift.
	clone := t.TempDir()
	git(t, clone, "clone", "--quiet", repoPath, "tree")
	crds, _ := validate.FindCRDDir(repoRoot())
	b, err = exec.Command(cl.kiln, "check", "--crds", crds, "--out", filepath.Join(clone, "tree", "deploy"), spec).CombinedOutput()
	t.Logf("kiln check on the published tree: %s", strings.TrimSpace(string(b)))
	require.NoError(t, err, "kiln check: %s", b)
	assert.Contains(t, string(b), "up to date", "kiln check finds the published tree equal to a fresh render")
}
