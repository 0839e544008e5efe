//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/validate"
)

const kserveModule = "github.com/kserve/kserve"

var (
	kserveOnce sync.Once
	kserveErr  error
)

// startKServe installs KServe into the cluster and starts its controller
// manager, once, for the tests that need it (the others do not pay for
// it): the CRDs and ClusterServingRuntimes from KServe's module at the
// pinned version, its inferenceservice-config with Standard as the
// default mode, and its webhooks (the InferenceService defaulter and
// validator, and the pod mutator that injects the storage initializer),
// wired to the manager on loopback by URL since the API server cannot
// reach a Service here. The Istio and Gateway API CRDs from
// ../shared/crds are installed too, so that kiln's routing objects are
// admitted (no Istio or gateway runs: nothing reconciles them).
func (c *cluster) startKServe(ctx context.Context) error {
	kserveOnce.Do(func() { kserveErr = c.installKServe(ctx) })
	return kserveErr
}

func (c *cluster) installKServe(ctx context.Context) error {
	bin, err := binary("kserve", kserveModule, "kserve-manager")
	if err != nil {
		return err
	}
	dir, err := moduleDir("kserve", kserveModule)
	if err != nil {
		return err
	}
	shared, ok := validate.FindCRDDir(repoRoot())
	if !ok {
		return fmt.Errorf("the upstream CRDs (../shared/crds or $KILN_TEST_CRDS) are not there: the Istio and Gateway API CRDs come from them")
	}
	var crds []string
	for _, pattern := range []string{
		filepath.Join(dir, "config/crd/full/serving.kserve.io_*.yaml"),
		filepath.Join(dir, "config/crd/full/clusterstoragecontainer/serving.kserve.io_*.yaml"),
		filepath.Join(shared, "istio/*.yaml"),
		filepath.Join(shared, "gateway-api/*.yaml"),
	} {
		m, _ := filepath.Glob(pattern)
		if len(m) == 0 {
			return fmt.Errorf("no CRDs at %s", pattern)
		}
		crds = append(crds, m...)
	}
	if err := c.applyFiles(ctx, crds...); err != nil {
		return err
	}
	if err := c.waitServed(ctx,
		schema.GroupVersionKind{Group: "serving.kserve.io", Version: "v1beta1", Kind: "InferenceService"},
		schema.GroupVersionKind{Group: "serving.kserve.io", Version: "v1alpha1", Kind: "ClusterServingRuntime"},
		schema.GroupVersionKind{Group: "serving.kserve.io", Version: "v1alpha1", Kind: "ClusterStorageContainer"},
		schema.GroupVersionKind{Group: "networking.istio.io", Version: "v1beta1", Kind: "VirtualService"},
		schema.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "DestinationRule"},
		schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"},
	); err != nil {
		return err
	}

	// KServe's configuration as its install ships it, in a cluster whose
	// default mode is Standard (kiln names the mode on every
	// InferenceService anyway).
	b, err := os.ReadFile(filepath.Join(dir, "config/configmap/inferenceservice.yaml"))
	if err != nil {
		return err
	}
	var cm unstructured.Unstructured
	if err := yaml.Unmarshal(b, &cm.Object); err != nil {
		return err
	}
	if err := unstructured.SetNestedField(cm.Object, `{"defaultDeploymentMode": "Standard"}`, "data", "deploy"); err != nil {
		return err
	}
	if err := c.applyYAML(ctx, []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: kserve}\n"), ""); err != nil {
		return err
	}
	if err := c.apply(ctx, &cm); err != nil {
		return fmt.Errorf("inferenceservice-config: %w", err)
	}
	// The model servers KServe ships (their images are never pulled).
	runtimes, _ := filepath.Glob(filepath.Join(dir, "config/runtimes/kserve-*.yaml"))
	if err := c.applyFiles(ctx, runtimes...); err != nil {
		return err
	}

	// The manager's webhook server reads its certificate from
	// $TMPDIR/k8s-webhook-server/serving-certs: one of its own.
	tmp := filepath.Join(c.dir, "kserve-tmp")
	cert, err := newLoopbackCert()
	if err != nil {
		return err
	}
	if err := cert.write(filepath.Join(tmp, "k8s-webhook-server", "serving-certs")); err != nil {
		return err
	}
	webhookPort, probePort := freePort(), freePort()
	if err := c.start("kserve", bin, []string{
		"KUBECONFIG=" + filepath.Join(c.dir, "kubeconfig"),
		"POD_NAMESPACE=kserve",
		"TMPDIR=" + tmp,
	},
		"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", freePort()),
		"--health-probe-addr", fmt.Sprintf("127.0.0.1:%d", probePort),
		"--webhook-port", fmt.Sprint(webhookPort),
	); err != nil {
		return err
	}
	if err := waitHTTP(c, fmt.Sprintf("http://127.0.0.1:%d/readyz", probePort), "", 2*time.Minute); err != nil {
		return fmt.Errorf("kserve manager: %w", err)
	}
	// KServe's webhooks (config/webhook/manifests.yaml), by URL.
	url := func(path string) string { return fmt.Sprintf("https://localhost:%d%s", webhookPort, path) }
	caBundle := base64.StdEncoding.EncodeToString(cert.cert)
	hooks := fmt.Sprintf(`apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: inferenceservice.serving.kserve.io}
webhooks:
- name: inferenceservice.kserve-webhook-server.defaulter
  clientConfig: {url: %[1]q, caBundle: %[4]s}
  failurePolicy: Fail
  sideEffects: None
  admissionReviewVersions: [v1beta1]
  rules:
  - {apiGroups: [serving.kserve.io], apiVersions: [v1beta1], operations: [CREATE, UPDATE], resources: [inferenceservices]}
- name: inferenceservice.kserve-webhook-server.pod-mutator
  clientConfig: {url: %[2]q, caBundle: %[4]s}
  failurePolicy: Fail
  sideEffects: None
  reinvocationPolicy: IfNeeded
  admissionReviewVersions: [v1beta1]
  namespaceSelector:
    matchExpressions: [{key: control-plane, operator: DoesNotExist}]
  objectSelector:
    matchExpressions: [{key: serving.kserve.io/inferenceservice, operator: Exists}]
  rules:
  - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: inferenceservice.serving.kserve.io}
webhooks:
- name: inferenceservice.kserve-webhook-server.validator
  clientConfig: {url: %[3]q, caBundle: %[4]s}
  failurePolicy: Fail
  sideEffects: None
  admissionReviewVersions: [v1beta1]
  rules:
  - {apiGroups: [serving.kserve.io], apiVersions: [v1beta1], operations: [CREATE, UPDATE], resources: [inferenceservices]}
`, url("/mutate-serving-kserve-io-v1beta1-inferenceservice"), url("/mutate-pods"),
		url("/validate-serving-kserve-io-v1beta1-inferenceservice"), caBundle)
	return c.applyYAML(ctx, []byte(hooks), "")
}
