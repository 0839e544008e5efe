//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"
)

// The cluster every test shares: started once by TestMain.
var cl *cluster

var keep = flag.Bool("e2e.keep", false, "leave the cluster's directory (logs, data) in place after the run")

func TestMain(m *testing.M) {
	flag.Parse()
	start := time.Now()
	c, err := startCluster()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the cluster:", err)
		if c != nil {
			c.dumpLogs(os.Stderr)
			c.stop()
		}
		os.Exit(1)
	}
	fmt.Printf("e2e: cluster up in %s (logs in %s)\n", time.Since(start).Round(time.Second), c.dir)
	cl = c
	code := m.Run()
	if code != 0 {
		c.dumpLogs(os.Stderr)
	}
	c.stop()
	os.Exit(code)
}

// cluster is a control plane on loopback with the controllers kiln's
// output targets, each a process of its own.
type cluster struct {
	dir    string // work directory: data, keys, kubeconfig, logs
	kiln   string // the kiln binary under test
	config *rest.Config
	kube   kubernetes.Interface
	dyn    dynamic.Interface
	mapper meta.ResettableRESTMapper
	procs  []*process
}

type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
}

// repoRoot is the kiln module root (the parent of e2e/).
func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Dir(wd)
}

// cacheDir is where build.sh puts the binaries.
func cacheDir() string {
	if d := os.Getenv("KILN_E2E_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "kiln-e2e")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "kiln-e2e")
}

// moduleVersion reads the version of module mod that tools/<tool>/go.mod
// pins, as build.sh does.
func moduleVersion(tool, mod string) (string, error) {
	b, err := os.ReadFile(filepath.Join("tools", tool, "go.mod"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == mod && strings.HasPrefix(f[1], "v") {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("tools/%s/go.mod does not require %s", tool, mod)
}

// moduleDir is where the Go module cache holds module mod as tools/<tool> pins it.
func moduleDir(tool, mod string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod)
	cmd.Dir = filepath.Join("tools", tool)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s in tools/%s: %v", mod, tool, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func binary(tool, mod, name string) (string, error) {
	v, err := moduleVersion(tool, mod)
	if err != nil {
		return "", err
	}
	p := filepath.Join(cacheDir(), tool+"-"+v, name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s %s is not built (%s): run e2e/build.sh", name, v, p)
	}
	return p, nil
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

const adminToken = "kiln-e2e-admin"

func (c *cluster) start(name, bin string, env []string, args ...string) error {
	logPath := filepath.Join(c.dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = c.dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	c.procs = append(c.procs, p)
	return nil
}

func (c *cluster) stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	if !*keep && c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
}

// dumpLogs prints the last lines of every process's log.
func (c *cluster) dumpLogs(w io.Writer) {
	for _, p := range c.procs {
		b, _ := os.ReadFile(p.log)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) > 25 {
			lines = lines[len(lines)-25:]
		}
		fmt.Fprintf(w, "==== %s (%s), last lines:\n%s\n", p.name, p.log, strings.Join(lines, "\n"))
	}
}

// alive fails if a process has exited.
func (c *cluster) alive() error {
	for _, p := range c.procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %s (log: %s)", p.name, p.cmd.ProcessState, p.log)
		default:
		}
	}
	return nil
}

func startCluster() (*cluster, error) {
	dir, err := os.MkdirTemp("", "kiln-e2e-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir}
	bins := map[string]string{}
	for _, b := range []struct{ tool, mod, name string }{
		{"etcd", "go.etcd.io/etcd/server/v3", "etcd"},
		{"kubernetes", "k8s.io/kubernetes", "kube-apiserver"},
		{"kubernetes", "k8s.io/kubernetes", "kube-controller-manager"},
		{"kubernetes", "k8s.io/kubernetes", "kube-scheduler"},
		{"kwok", "sigs.k8s.io/kwok", "kwok"},
		{"training-operator", "github.com/kubeflow/training-operator", "training-operator"},
		{"argo-workflows", "github.com/argoproj/argo-workflows/v3", "workflow-controller"},
	} {
		p, err := binary(b.tool, b.mod, b.name)
		if err != nil {
			return c, err
		}
		bins[b.name] = p
	}

	// kiln itself, built from this checkout.
	c.kiln = filepath.Join(dir, "kiln")
	build := exec.Command("go", "build", "-o", c.kiln, "./cmd/kiln")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		return c, fmt.Errorf("building kiln: %v\n%s", err, out)
	}

	// Service-account token signing key and the admin's static token.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return c, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	files := map[string][]byte{
		"sa.key":     keyPEM,
		"sa.pub":     pubPEM,
		"tokens.csv": []byte(adminToken + ",admin,admin,\"system:masters\"\n"),
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			return c, err
		}
	}

	etcdClient, etcdPeer := freePort(), freePort()
	if err := c.start("etcd", bins["etcd"], nil,
		"--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-url", fmt.Sprintf("http://127.0.0.1:%d", etcdClient),
		"--listen-peer-url", fmt.Sprintf("http://127.0.0.1:%d", etcdPeer)); err != nil {
		return c, err
	}
	if err := waitHTTP(c, fmt.Sprintf("http://127.0.0.1:%d/health", etcdClient), "", time.Minute); err != nil {
		return c, fmt.Errorf("etcd: %w", err)
	}

	apiPort := freePort()
	server := fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	if err := c.start("kube-apiserver", bins["kube-apiserver"], nil,
		"--etcd-servers", fmt.Sprintf("http://127.0.0.1:%d", etcdClient),
		"--bind-address", "127.0.0.1",
		"--advertise-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(apiPort),
		"--cert-dir", filepath.Join(dir, "pki"),
		"--authorization-mode", "RBAC",
		"--token-auth-file", filepath.Join(dir, "tokens.csv"),
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", filepath.Join(dir, "sa.pub"),
		"--service-account-signing-key-file", filepath.Join(dir, "sa.key"),
		"--service-cluster-ip-range", "10.96.0.0/16",
		// The defaults include ServiceAccount, LimitRanger and PodSecurity;
		// ResourceQuota is named to be sure it is on.
		"--enable-admission-plugins", "ResourceQuota,PodSecurity,LimitRanger,ServiceAccount",
		"--disable-admission-plugins", "NodeRestriction",
		// As clusters run it: privileged pods are for Pod Security to refuse.
		"--allow-privileged=true",
		// No kubernetes Service endpoints: the advertised address is loopback.
		"--endpoint-reconciler-type", "none",
	); err != nil {
		return c, err
	}
	if err := waitHTTP(c, server+"/readyz", adminToken, 3*time.Minute); err != nil {
		return c, fmt.Errorf("kube-apiserver: %w", err)
	}

	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: %q, insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: %q}
contexts:
- name: e2e
  context: {cluster: e2e, user: admin}
current-context: e2e
`, server, adminToken)), 0o600); err != nil {
		return c, err
	}
	c.config = &rest.Config{Host: server, BearerToken: adminToken, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, QPS: 50, Burst: 100}
	if c.kube, err = kubernetes.NewForConfig(c.config); err != nil {
		return c, err
	}
	if c.dyn, err = dynamic.NewForConfig(c.config); err != nil {
		return c, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(c.config)
	if err != nil {
		return c, err
	}
	c.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))

	env := []string{"KUBECONFIG=" + kubeconfig}
	if err := c.start("kube-controller-manager", bins["kube-controller-manager"], env,
		"--kubeconfig", kubeconfig,
		"--authentication-kubeconfig", kubeconfig,
		"--authorization-kubeconfig", kubeconfig,
		"--bind-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(freePort()),
		"--leader-elect=false",
		"--service-account-private-key-file", filepath.Join(dir, "sa.key"),
		"--root-ca-file", filepath.Join(dir, "pki", "apiserver.crt"),
		"--concurrent-resource-quota-syncs", "2",
		"--resource-quota-sync-period", "10s",
	); err != nil {
		return c, err
	}
	if err := c.start("kube-scheduler", bins["kube-scheduler"], env,
		"--kubeconfig", kubeconfig,
		"--authentication-kubeconfig", kubeconfig,
		"--authorization-kubeconfig", kubeconfig,
		"--bind-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(freePort()),
		"--leader-elect=false",
	); err != nil {
		return c, err
	}
	if err := c.start("kwok", bins["kwok"], env,
		"--kubeconfig", kubeconfig,
		"--config", filepath.Join(repoRoot(), "e2e", "kwok-stages.yaml"),
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector", "kwok.x-k8s.io/node=fake",
		"--node-ip", "10.0.0.1",
		"--cidr", "10.244.0.0/16",
		"--server-address", fmt.Sprintf("127.0.0.1:%d", freePort()),
		"--node-lease-duration-seconds", "40",
	); err != nil {
		return c, err
	}
	ctx := context.Background()
	if err := c.waitFor(ctx, time.Minute, "the default service account", func() (bool, error) {
		_, err := c.kube.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		return c, err
	}
	if err := c.addNodes(ctx); err != nil {
		return c, err
	}
	if err := c.installControllers(ctx, bins, env); err != nil {
		return c, err
	}
	for _, a := range addons {
		if err := a(ctx, c, env); err != nil {
			return c, err
		}
	}
	return c, nil
}

// addons start what `make e2e-full` adds to the cluster (Trainer v2 and
// JobSet, Argo CD); each is a no-op unless -e2e.full is set.
var addons []func(ctx context.Context, c *cluster, env []string) error

func waitHTTP(c *cluster, url, token string, timeout time.Duration) error {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		if err := c.alive(); err != nil {
			return err
		}
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s: %s", url, timeout, last)
}

// waitFor polls cond every half second until it holds; the error says
// what was awaited. Processes that died end the wait.
func (c *cluster) waitFor(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	var lastErr error
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		if err := c.alive(); err != nil {
			return false, err
		}
		ok, err := cond()
		if err != nil {
			lastErr = err
			return false, nil
		}
		return ok, nil
	})
	if err != nil {
		if lastErr != nil {
			return fmt.Errorf("waiting for %s: %v (last error: %v)", what, err, lastErr)
		}
		return fmt.Errorf("waiting for %s: %v", what, err)
	}
	return nil
}

// GPU products of the simulated nodes. The examples ask for A100s; the
// L4 nodes are there to prove the product selector keeps GPU pods off
// GPUs of another kind.
const (
	gpuProduct      = "NVIDIA-A100-SXM4-80GB"
	otherGPUProduct = "NVIDIA-L4"
	devGPUProduct   = "NVIDIA-A10G"
)

// addNodes registers the fake nodes: A100 nodes with 8 GPUs each, L4
// nodes, both tainted as GPU nodes usually are, and CPU nodes.
func (c *cluster) addNodes(ctx context.Context) error {
	node := func(name string, gpus int, product string) *corev1.Node {
		capacity := corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("96"),
			corev1.ResourceMemory: resource.MustParse("1Ti"),
			corev1.ResourcePods:   resource.MustParse("110"),
		}
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels:      map[string]string{"type": "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"},
		}}
		if gpus > 0 {
			capacity["nvidia.com/gpu"] = *resource.NewQuantity(int64(gpus), resource.DecimalSI)
			n.Labels["nvidia.com/gpu.product"] = product
			n.Labels["nvidia.com/gpu.count"] = fmt.Sprint(gpus)
			n.Spec.Taints = []corev1.Taint{{Key: "nvidia.com/gpu", Value: "present", Effect: corev1.TaintEffectNoSchedule}}
		}
		n.Status.Capacity, n.Status.Allocatable = capacity, capacity
		return n
	}
	var nodes []*corev1.Node
	for i := range 4 {
		nodes = append(nodes, node(fmt.Sprintf("gpu-a100-%d", i), 8, gpuProduct))
	}
	for i := range 2 {
		nodes = append(nodes, node(fmt.Sprintf("gpu-l4-%d", i), 8, otherGPUProduct))
		nodes = append(nodes, node(fmt.Sprintf("cpu-%d", i), 0, ""))
		// skin-lesion's dev environment asks for A10Gs.
		nodes = append(nodes, node(fmt.Sprintf("gpu-a10g-%d", i), 4, devGPUProduct))
	}
	for i, n := range nodes {
		// Two zones, as cloud nodes are labelled: kiln spreads serving
		// replicas over zones (whenUnsatisfiable: DoNotSchedule, which
		// keeps pods off nodes without the label).
		n.Labels["topology.kubernetes.io/zone"] = fmt.Sprintf("zone-%c", 'a'+i%2)
		if _, err := c.kube.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	return c.waitFor(ctx, time.Minute, "the nodes to be Ready", func() (bool, error) {
		list, err := c.kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		ready := 0
		for _, n := range list.Items {
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready == len(nodes), nil
	})
}

// installControllers installs the CRDs of the controllers (from their
// modules, at the pinned versions) and starts them.
func (c *cluster) installControllers(ctx context.Context, bins map[string]string, env []string) error {
	argoDir, err := moduleDir("argo-workflows", "github.com/argoproj/argo-workflows/v3")
	if err != nil {
		return err
	}
	toDir, err := moduleDir("training-operator", "github.com/kubeflow/training-operator")
	if err != nil {
		return err
	}
	// Argo's minimal CRDs, as Argo installs them (the full ones are not
	// structural); the training operator's CRDs.
	var crds []string
	for _, d := range []string{filepath.Join(argoDir, "manifests/base/crds/minimal"), filepath.Join(toDir, "manifests/base/crds")} {
		m, _ := filepath.Glob(filepath.Join(d, "*.yaml"))
		for _, f := range m {
			if filepath.Base(f) != "kustomization.yaml" {
				crds = append(crds, f)
			}
		}
	}
	if err := c.applyFiles(ctx, crds...); err != nil {
		return err
	}
	if err := c.waitServed(ctx,
		schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "WorkflowTaskResult"},
		schema.GroupVersionKind{Group: "kubeflow.org", Version: "v1", Kind: "PyTorchJob"},
	); err != nil {
		return err
	}

	// The training operator runs its webhook's certificate rotation
	// before its controllers: give it the Secret it keeps its CA in.
	if err := c.applyYAML(ctx, []byte(`apiVersion: v1
kind: Namespace
metadata: {name: kubeflow}
---
apiVersion: v1
kind: Secret
metadata: {name: training-operator-webhook-cert, namespace: kubeflow}
---
apiVersion: v1
kind: Namespace
metadata: {name: argo}
---
# Argo's defaults (no executor settings, no artifact repository: kiln's
# workflows name theirs), without its metrics servers.
apiVersion: v1
kind: ConfigMap
metadata: {name: workflow-controller-configmap, namespace: argo}
data:
  metricsConfig: |
    enabled: false
  telemetryConfig: |
    enabled: false
`), ""); err != nil {
		return err
	}
	// In a real installation the kubelet mounts that Secret where the
	// webhook server reads its certificate. Here the rotator only waits
	// for a file to exist at the fixed path /tmp/k8s-webhook-server/
	// serving-certs (its content is never read: give it any), while the
	// webhook server reads $TMPDIR/k8s-webhook-server/serving-certs
	// (controller-runtime's default): a loopback certificate of this
	// cluster's own, which the webhook configuration below trusts. (Other
	// runs on the machine may rewrite the shared /tmp one at any time.)
	toTmp := filepath.Join(c.dir, "training-operator-tmp")
	toCert, err := newLoopbackCert()
	if err != nil {
		return err
	}
	if _, err := os.Stat("/tmp/k8s-webhook-server/serving-certs/tls.crt"); err != nil {
		if err := toCert.write("/tmp/k8s-webhook-server/serving-certs"); err != nil {
			return err
		}
	}
	if err := toCert.write(filepath.Join(toTmp, "k8s-webhook-server", "serving-certs")); err != nil {
		return err
	}
	toWebhookPort, toProbePort := freePort(), freePort()
	if err := c.start("training-operator", bins["training-operator"], append(env, "MY_POD_NAMESPACE=kubeflow", "TMPDIR="+toTmp),
		"--metrics-bind-address", fmt.Sprintf("127.0.0.1:%d", freePort()),
		"--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", toProbePort),
		"--webhook-server-port", fmt.Sprint(toWebhookPort),
		"--enable-scheme", "pytorchjob", "--enable-scheme", "tfjob", "--enable-scheme", "xgboostjob",
		// As skin-lesion's trainingOperator.restricted says the cluster does.
		"--pytorch-init-container-template-file", filepath.Join(repoRoot(), "e2e", "testdata", "pytorch-init-container.yaml"),
	); err != nil {
		return err
	}
	if err := c.wireTrainingOperatorWebhooks(ctx, toProbePort, toWebhookPort, toCert); err != nil {
		return err
	}
	if err := c.start("workflow-controller", bins["workflow-controller"], append(env, "LEADER_ELECTION_DISABLE=true"),
		"--kubeconfig", filepath.Join(c.dir, "kubeconfig"),
		"--namespace", "argo",
		"--executor-image", "quay.io/argoproj/argoexec:v3.6.10",
		"--workflow-workers", "4",
	); err != nil {
		return err
	}
	return nil
}

// trainingOperatorSchemes are the job kinds the suite's training
// operator runs (--enable-scheme), by resource: each has a validating
// webhook.
var trainingOperatorSchemes = []string{"pytorchjob", "tfjob", "xgboostjob"}

// wireTrainingOperatorWebhooks registers the training operator's
// validating webhooks, as upstream declares them
// (manifests/base/webhook/manifests.yaml: one per job kind, on CREATE
// and UPDATE, failurePolicy Fail), by URL on loopback since the API
// server cannot reach a Service here, once the operator serves them. So
// every PyTorchJob, TFJob and XGBoostJob the tests create, kiln's
// included, is judged by the operator's own validation.
func (c *cluster) wireTrainingOperatorWebhooks(ctx context.Context, probePort, port int, cert loopbackCert) error {
	if err := waitHTTP(c, fmt.Sprintf("http://127.0.0.1:%d/readyz", probePort), "", 2*time.Minute); err != nil {
		return fmt.Errorf("training operator: %w", err)
	}
	// Ready is certificates and a listening server; the webhooks are
	// registered just after (setupControllers): wait for each path.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cert.cert)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var hooks strings.Builder
	hooks.WriteString("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: validating-webhook-configuration}\nwebhooks:\n")
	for _, kind := range trainingOperatorSchemes {
		url := fmt.Sprintf("https://localhost:%d/validate-kubeflow-org-v1-%s", port, kind)
		if err := c.waitFor(ctx, time.Minute, "the training operator's "+kind+" webhook", func() (bool, error) {
			resp, err := client.Post(url, "application/json", strings.NewReader("{}"))
			if err != nil {
				return false, nil
			}
			resp.Body.Close()
			return resp.StatusCode != http.StatusNotFound, nil
		}); err != nil {
			return err
		}
		fmt.Fprintf(&hooks, `- name: validator.%[1]s.training-operator.kubeflow.org
  clientConfig: {url: %[2]q, caBundle: %[3]s}
  failurePolicy: Fail
  sideEffects: None
  admissionReviewVersions: [v1]
  rules:
  - {apiGroups: [kubeflow.org], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [%[1]ss]}
`, kind, url, base64.StdEncoding.EncodeToString(cert.cert))
	}
	return c.applyYAML(ctx, []byte(hooks.String()), "")
}

// applyYAML creates or updates every document of a YAML stream
// (server-side apply); namespace, if set, overrides the documents'.
func (c *cluster) applyYAML(ctx context.Context, b []byte, namespace string) error {
	for _, doc := range splitYAML(b) {
		var obj unstructured.Unstructured
		if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
			return err
		}
		if len(obj.Object) == 0 {
			continue
		}
		if namespace != "" {
			obj.SetNamespace(namespace)
		}
		if err := c.apply(ctx, &obj); err != nil {
			return fmt.Errorf("%s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
	}
	return nil
}

// resource finds the API resource of obj's kind, and whether it is namespaced.
func (c *cluster) resource(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		c.mapper.Reset()
		if m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			return nil, err
		}
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := obj.GetNamespace()
		if ns == "" {
			ns = "default"
		}
		return c.dyn.Resource(m.Resource).Namespace(ns), nil
	}
	return c.dyn.Resource(m.Resource), nil
}

func (c *cluster) apply(ctx context.Context, obj *unstructured.Unstructured) error {
	ri, err := c.resource(obj)
	if err != nil {
		return err
	}
	if obj.GetName() == "" {
		_, err := ri.Create(ctx, obj, metav1.CreateOptions{})
		return err
	}
	_, err = ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: "kiln-e2e", Force: true})
	return err
}

func splitYAML(b []byte) [][]byte {
	var out [][]byte
	var cur bytes.Buffer
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(make([]byte, 1<<20), 16<<20)
	for s.Scan() {
		line := s.Text()
		if strings.TrimRight(line, " ") == "---" {
			out = append(out, append([]byte(nil), cur.Bytes()...))
			cur.Reset()
			continue
		}
		cur.WriteString(line + "\n")
	}
	return append(out, cur.Bytes())
}

// ignoreNotFound is err unless the object is gone anyway.
func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
