//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// full names what of `make e2e-full` the cluster runs besides the core:
// "trainer" (Trainer v2 with JobSet), "argocd" (Argo CD), or "all".
// Their scenarios skip without it.
var full = flag.String("e2e.full", "", `also start and test what make e2e-full adds: "all", or a comma-separated list of "trainer", "argocd"`)

// fullHas says whether -e2e.full includes part.
func fullHas(part string) bool {
	for _, p := range strings.Split(*full, ",") {
		if p = strings.TrimSpace(p); p == "all" || p == part {
			return true
		}
	}
	return false
}

func needFull(t *testing.T, part string) {
	t.Helper()
	if !fullHas(part) {
		t.Skipf("part of make e2e-full (-e2e.full=%s)", part)
	}
}

// loopbackCert is a self-signed serving certificate for 127.0.0.1, which
// the API server trusts through a webhook configuration's caBundle.
type loopbackCert struct{ cert, key []byte }

func newLoopbackCert() (loopbackCert, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return loopbackCert{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "kiln-e2e-webhooks"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return loopbackCert{}, err
	}
	return loopbackCert{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
	}, nil
}

// write puts the certificate where a controller-runtime webhook server
// reads it (tls.crt, tls.key in dir).
func (lc loopbackCert) write(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "tls.crt"), lc.cert, 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "tls.key"), lc.key, 0o600)
}

// applyFiles applies YAML files (CRDs, runtimes) as they are.
func (c *cluster) applyFiles(ctx context.Context, files ...string) error {
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := c.applyYAML(ctx, b, ""); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return nil
}

// waitServed waits until the API server serves the kinds.
func (c *cluster) waitServed(ctx context.Context, gvks ...schema.GroupVersionKind) error {
	return c.waitFor(ctx, time.Minute, fmt.Sprintf("%v to be served", gvks), func() (bool, error) {
		c.mapper.Reset()
		for _, gvk := range gvks {
			if _, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
				return false, nil
			}
		}
		return true, nil
	})
}

// addGPUNodes registers more fake GPU nodes, as addNodes does: tainted,
// labelled with their product, 8 GPUs each.
func (c *cluster) addGPUNodes(ctx context.Context, prefix, product string, n int) error {
	for i := range n {
		capacity := corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("96"),
			corev1.ResourceMemory: resource.MustParse("2Ti"),
			corev1.ResourcePods:   resource.MustParse("110"),
			"nvidia.com/gpu":      resource.MustParse("8"),
		}
		name := fmt.Sprintf("%s-%d", prefix, i)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
				Labels: map[string]string{
					"type": "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
					"nvidia.com/gpu.product": product, "nvidia.com/gpu.count": "8",
				},
			},
			Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "nvidia.com/gpu", Value: "present", Effect: corev1.TaintEffectNoSchedule}}},
		}
		node.Status.Capacity, node.Status.Allocatable = capacity, capacity
		if _, err := c.kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("node %s: %w", name, err)
		}
	}
	return c.waitFor(ctx, time.Minute, prefix+" nodes to be Ready", func() (bool, error) {
		for i := range n {
			node, err := c.kube.CoreV1().Nodes().Get(ctx, fmt.Sprintf("%s-%d", prefix, i), metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			ready := false
			for _, cond := range node.Status.Conditions {
				ready = ready || (cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue)
			}
			if !ready {
				return false, nil
			}
		}
		return true, nil
	})
}
