package serving

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

func TestGatewayDuration(t *testing.T) {
	for in, want := range map[string]string{
		"30s":     "30s",
		"1m30s":   "1m30s",
		"90s":     "1m30s",
		"1.5s":    "1s500ms",
		"250ms":   "250ms",
		"100us":   "1ms", // never 0s, which turns the timeout off
		"0s":      "0s",
		"26h":     "26h",
		"1h0m1ms": "1h1ms",
	} {
		got, err := GatewayDuration(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		assert.Regexp(t, `^([0-9]{1,5}(h|m|s|ms)){1,4}$`, got, "GEP-2257 form of %s", in)
	}
	_, err := GatewayDuration("100000h")
	assert.Error(t, err)
}

// TestReferenceGrants: a backend in another namespace gets a grant there,
// naming exactly the Services referred to; a Gateway in another
// namespace, and backends in the route's own, need none.
func TestReferenceGrants(t *testing.T) {
	r := Route{Name: "classifier", Namespace: "derm-ml", Parent: GatewayParent("shared", "gateways", ""),
		Backends: []Backend{{Service: "classifier-serving", Port: 80, Weight: 100}}}
	hr, err := r.HTTPRoute()
	require.NoError(t, err)
	assert.Empty(t, ReferenceGrants(hr))

	r.Backends = []Backend{{Service: "a", Port: 80, Weight: 90}, {Service: "b", Namespace: "models", Port: 80, Weight: 10}}
	r.Testers = &Testers{Header: "x-canary", Value: "1", Backend: Backend{Service: "c", Namespace: "models", Port: 80}}
	hr, err = r.HTTPRoute()
	require.NoError(t, err)
	grants := ReferenceGrants(hr)
	require.Len(t, grants, 1)
	g := grants[0]
	assert.Equal(t, "models", g.Namespace)
	assert.Equal(t, []ReferenceGrantFrom{{Group: GatewayAPIGroup, Kind: "HTTPRoute", Namespace: "derm-ml"}}, g.Spec.From)
	assert.Equal(t, []ReferenceGrantTo{{Kind: "Service", Name: "b"}, {Kind: "Service", Name: "c"}}, g.Spec.To)

	v := crdValidator(t)
	for _, o := range []any{hr, g} {
		b, err := yaml.Marshal(o)
		require.NoError(t, err)
		assert.Empty(t, v.Validate(b), "%s", b)
	}
}

// gatewayEnv renders entries in an environment with the gateway-api
// ingress.
func gatewayProblems(t *testing.T, in ir.Ingress, s *ir.Serving) diag.List {
	t.Helper()
	env := environment("prod", false, 0, map[string]*ir.Serving{"classifier": s})
	env.Ingress = in
	for f, line := range map[string]int{"deploymentMode": 27, "expose.retries": 28, "expose.gateway": 29, "expose.gatewaySelector": 30, "access.principals": 31} {
		p := ir.Path("serving", "classifier")
		for _, part := range strings.Split(f, ".") {
			p = ir.Join(p, part)
		}
		env.Sources[p] = diag.Pos{File: specFile, Line: line, Col: 3}
	}
	_, diags := renderSystem(system(env))
	return diags
}

func TestGatewayAPIChecks(t *testing.T) {
	gw := ir.Ingress{API: "gateway-api", Mesh: "istio", Gateway: &ir.GatewayRef{Name: "models"}}
	type want struct {
		sev  diag.Severity
		path string
		line int
		msg  string
	}
	tests := []struct {
		name   string
		in     ir.Ingress
		mutate func(s *ir.Serving)
		want   []want
	}{
		{name: "knative", in: gw, mutate: func(s *ir.Serving) { s.DeploymentMode = "Knative" },
			want: []want{{diag.Error, "serving.classifier.deploymentMode", 27, `the gateway-api ingress routes Standard-mode KServe`}}},
		{name: "retries", in: gw, mutate: func(s *ir.Serving) { s.Expose.Retries = new(3) },
			want: []want{{diag.Warning, "serving.classifier.expose.retries", 28, "retry is experimental"}}},
		{name: "tls", in: gw, mutate: func(s *ir.Serving) { s.Expose.TLS = &ir.SecretRef{Secret: "cert"} },
			want: []want{{diag.Error, "serving.classifier.expose.tls", 23, "TLS terminates at the Gateway's listener"}}},
		{name: "istio gateway", in: gw, mutate: func(s *ir.Serving) { s.Expose.Gateway = "istio-system/public" },
			want: []want{{diag.Error, "serving.classifier.expose.gateway", 29, "expose.gateway names an Istio Gateway"}}},
		{name: "gateway selector", in: gw, mutate: func(s *ir.Serving) { s.Expose.GatewaySelector = map[string]string{"app": "gw"} },
			want: []want{{diag.Error, "serving.classifier.expose.gatewaySelector", 30, "kiln renders none"}}},
		{name: "principal without mesh", in: ir.Ingress{API: "gateway-api", Mesh: "none", Gateway: gw.Gateway},
			mutate: func(s *ir.Serving) {
				s.Access = &ir.ServingAccess{Principals: []string{"cluster.local/ns/batch/sa/scorer"}}
			},
			want: []want{{diag.Warning, "serving.classifier.access.principals", 31, `principal "cluster.local/ns/batch/sa/scorer" admits every pod of namespace "batch"`}}},
		{name: "principal without namespace", in: ir.Ingress{API: "gateway-api", Mesh: "none", Gateway: gw.Gateway},
			mutate: func(s *ir.Serving) { s.Access = &ir.ServingAccess{Principals: []string{"spiffe://other"}} },
			want:   []want{{diag.Error, "serving.classifier.access.principals", 31, "names no namespace"}}},
		{name: "no gateway", in: ir.Ingress{API: "gateway-api", Mesh: "istio"}, mutate: func(s *ir.Serving) {},
			want: []want{{diag.Error, "environments.prod.ingress", 1, "name it in ingress.gateway"}}},
		{name: "mesh none with istio", in: ir.Ingress{API: "istio", Mesh: "none"}, mutate: func(s *ir.Serving) {},
			want: []want{{diag.Error, "environments.prod.ingress.mesh", 1, `needs ingress.api "gateway-api"`}}},
		{name: "clean", in: gw, mutate: func(s *ir.Serving) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := model("kserve", "sklearn")
			s.DeploymentMode = "Standard"
			s.Expose = &ir.Expose{Host: "ml.acme.example", Path: "/"}
			tt.mutate(s)
			diags := gatewayProblems(t, tt.in, s)
			require.Len(t, diags, len(tt.want), "%v", diags)
			for i, w := range tt.want {
				d := diags[i]
				assert.Equal(t, w.sev, d.Severity, d.Msg)
				assert.Equal(t, w.path, d.Path)
				assert.Equal(t, w.line, d.Pos.Line, d.Msg)
				assert.Contains(t, d.Msg, w.msg)
			}
		})
	}
}

// TestGatewayAPINoMeshNoIstioObjects: without a mesh nothing of Istio's
// is rendered, not even the namespace's mutual TLS.
func TestGatewayAPINoMeshNoIstioObjects(t *testing.T) {
	gc := goldenCases()["tfserving-gateway-api-nomesh"]
	items := objects(t, gc)
	require.NotEmpty(t, items)
	for _, it := range items {
		assert.NotContains(t, it.GVK().Group, "istio.io", "%s %s", it.GVK().Kind, it.Object.GetName())
	}
}

// admits reports whether np lets a pod with labels from, in namespace
// fromNS, reach a pod with labels to in the policy's namespace, as a
// NetworkPolicy implementation decides it (ingress only; every port).
func admits(np *networkingv1.NetworkPolicy, fromNS string, from map[string]string, to map[string]string) bool {
	matches := func(sel *metav1.LabelSelector, labels map[string]string) bool {
		for k, v := range sel.MatchLabels {
			if labels[k] != v {
				return false
			}
		}
		return len(sel.MatchExpressions) == 0
	}
	if !matches(&np.Spec.PodSelector, to) {
		return true // not selected: not isolated by this policy
	}
	nsLabels := map[string]string{namespaceNameLabel: fromNS}
	for _, rule := range np.Spec.Ingress {
		if len(rule.From) == 0 {
			return true
		}
		for _, peer := range rule.From {
			switch {
			case peer.NamespaceSelector != nil && peer.PodSelector != nil:
				if matches(peer.NamespaceSelector, nsLabels) && matches(peer.PodSelector, from) {
					return true
				}
			case peer.NamespaceSelector != nil:
				if matches(peer.NamespaceSelector, nsLabels) {
					return true
				}
			case peer.PodSelector != nil:
				if fromNS == np.Namespace && matches(peer.PodSelector, from) {
					return true
				}
			}
		}
	}
	return false
}

// TestNetworkPolicyAdmitsTransformer: for every golden case whose access
// renders as a NetworkPolicy, the model's own transformer pods reach its
// predictor pods, callers from the listed namespaces and the Gateway's
// reach them, and any other namespace is kept out. KServe v0.20.0 points
// the transformer at <predictor service>.<namespace>
// (apis/serving/v1beta1/transformer_custom.go:78), so that call comes
// from the model's own namespace.
func TestNetworkPolicyAdmitsTransformer(t *testing.T) {
	checked := 0
	for name, gc := range goldenCases() {
		items := objects(t, gc)
		nps := ofKind[networkingv1.NetworkPolicy](items, "NetworkPolicy")
		if len(nps) == 0 {
			continue
		}
		checked++
		t.Run(name, func(t *testing.T) {
			np := nps[0]
			if np.Namespace == "" {
				np.Namespace = "derm-ml" // the environment's; set when written
			}
			for _, isvc := range ofKind[InferenceService](items, "InferenceService") {
				pred := isvc.Spec.Predictor.Labels
				for _, ns := range gc.s.Access.Namespaces {
					assert.True(t, admits(np, ns, map[string]string{}, pred), "%s: caller from %s", isvc.Name, ns)
				}
				assert.False(t, admits(np, "elsewhere", map[string]string{}, pred), "%s: caller from another namespace", isvc.Name)
				if tr := isvc.Spec.Transformer; tr != nil {
					assert.True(t, admits(np, np.Namespace, tr.Labels, pred), "%s: its transformer must reach its predictor", isvc.Name)
					assert.False(t, admits(np, np.Namespace, map[string]string{"app": "other"}, pred), "%s: other pods of the namespace stay out", isvc.Name)
				}
			}
		})
	}
	require.NotZero(t, checked)
}
