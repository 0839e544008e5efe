package serving

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

// namespaceNameLabel is the label Kubernetes sets on every namespace to
// its name, which NetworkPolicies select namespaces by.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// gatewayAPI renders the traffic objects of an entry in an environment
// whose ingress is the Gateway API:
//   - an HTTPRoute <name> on the environment's Gateway when exposed, its
//     weighted backendRefs splitting a canary, testers' header first;
//   - with a canary, a Service per track (<service>-stable,
//     <service>-canary) for models behind kiln's own Service (Standard
//     KServe, TF Serving), since a backendRef weighs Services, not
//     subsets; Seldon's predictors have a Service each already;
//   - with a canary and Istio in the mesh, an HTTPRoute <name>-mesh whose
//     parent is kiln's Service, so callers in the mesh get the same split;
//   - access as Istio's AuthorizationPolicy, or as a NetworkPolicy when
//     there is no mesh;
//   - a ReferenceGrant for each namespace a route's backends are in other
//     than the route's (none for what kiln renders today: routes and
//     Services share the environment's namespace, and a Gateway elsewhere
//     admits routes through its listeners' allowedRoutes).
func gatewayAPI(c *render.Context, e *entry) {
	o := e.origin(c)
	if e.serverless() {
		// Check reports it; nothing to route to.
		return
	}
	if e.splitByKiln() && e.s.Canary != nil {
		for _, track := range e.tracks() {
			c.Add(e.trackService(track), o)
		}
	}
	var routes []Route
	if x := e.s.Expose; x != nil && e.env.Ingress.Gateway != nil {
		g := e.env.Ingress.Gateway
		ns := g.Namespace
		if ns == e.env.Namespace {
			ns = ""
		}
		r := e.route(e.obj, GatewayParent(g.Name, ns, g.SectionName))
		r.Hostnames = []string{x.Host}
		r.Path = x.Path
		routes = append(routes, r)
	}
	if e.splitByKiln() && e.s.Canary != nil && e.env.Ingress.Istio() {
		routes = append(routes, e.route(e.obj+"-mesh", ServiceParent(e.serviceName(), int32(e.servicePort()))))
	}
	for _, r := range routes {
		hr, err := r.HTTPRoute()
		if err != nil {
			c.Errorf(ir.Join(e.path, "expose", "timeout"), "%v", err)
			continue
		}
		c.Add(hr, o)
		for _, g := range ReferenceGrants(hr) {
			c.Add(g, o)
		}
	}
	if e.s.Access != nil {
		if e.env.Ingress.Istio() {
			c.Add(authorizationPolicy(e), o)
		} else {
			c.Add(networkPolicy(c, e), o)
		}
	}
}

// route is the Route of the entry's model under a name and parent.
func (e *entry) route(name string, parent ParentReference) Route {
	r := Route{Name: name, Namespace: e.env.Namespace, Parent: parent}
	for _, track := range e.tracks() {
		r.Backends = append(r.Backends, e.backend(track))
	}
	if x := e.s.Expose; x != nil {
		r.Timeout = x.Timeout
		if h := x.CanaryHeader; h != nil && e.s.Canary != nil {
			r.Testers = &Testers{Header: h.Name, Value: h.Value, Backend: e.backend(Canary)}
		}
	}
	return r
}

// backend is the Service a track's traffic goes to, with its share.
func (e *entry) backend(track string) Backend {
	b := Backend{Weight: int32(e.weight(track))}
	switch {
	case e.s.Runtime == "seldon":
		b.Service, b.Port = e.obj+"-"+seldonPredictorName(track), seldonHTTPPort
	case e.s.Canary != nil:
		b.Service, b.Port = e.trackServiceName(track), int32(e.servicePort())
	default:
		b.Service, b.Port = e.serviceName(), int32(e.servicePort())
	}
	return b
}

// trackServiceName is the name of the Service of one track's pods.
func (e *entry) trackServiceName(track string) string {
	return e.serviceName() + "-" + track
}

// trackService is kiln's Service narrowed to one track's pods.
func (e *entry) trackService(track string) *corev1.Service {
	var s *corev1.Service
	if e.s.Runtime == "tfserving" {
		s = tfService(e)
	} else {
		s = rawService(e)
	}
	s.Name = e.trackServiceName(track)
	s.Spec.Selector[LabelTrack] = track
	return s
}

// networkPolicy admits to the model's pods only what access lists, by
// namespace: a NetworkPolicy sees addresses, not identities, so a
// principal admits its whole namespace (Check warns). The Gateway's
// namespace is admitted when the model is exposed: the implementation's
// proxies run there for most implementations (Istio, Envoy Gateway in
// its namespaced mode); one that runs them elsewhere needs that namespace
// listed in access.namespaces.
func networkPolicy(c *render.Context, e *entry) *networkingv1.NetworkPolicy {
	a := e.s.Access
	namespaces := slices.Clone(a.Namespaces)
	for _, p := range a.Principals {
		if ns, ok := principalNamespace(p); ok {
			namespaces = append(namespaces, ns)
		}
	}
	if e.s.Expose != nil {
		namespaces = append(namespaces, e.gatewayNamespace())
	}
	slices.Sort(namespaces)
	namespaces = slices.Compact(namespaces)
	np := &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: e.obj},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{LabelServing: e.obj}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			// No rules admit no one: what an empty access list asks for.
			Ingress: []networkingv1.NetworkPolicyIngressRule{},
		},
	}
	if len(namespaces) > 0 {
		var peers []networkingv1.NetworkPolicyPeer
		for _, ns := range namespaces {
			peers = append(peers, networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{namespaceNameLabel: ns}}})
		}
		np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: peers}}
	}
	return np
}

// principalNamespace is the namespace of an Istio principal
// (<trust domain>/ns/<namespace>/sa/<service account>).
func principalNamespace(p string) (string, bool) {
	parts := strings.Split(p, "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "ns" && parts[i+1] != "" && parts[i+1] != "*" {
			return parts[i+1], true
		}
	}
	return "", false
}

// gatewayNamespace is the namespace of the environment's Gateway.
func (e *entry) gatewayNamespace() string {
	if g := e.env.Ingress.Gateway; g != nil && g.Namespace != "" {
		return g.Namespace
	}
	return e.env.Namespace
}

// checkGatewayAPI reports what an entry asks of the ingress that the
// Gateway API cannot do, or does elsewhere.
func checkGatewayAPI(c *render.Context, e *entry) {
	in := e.env.Ingress
	if !in.GatewayAPI() {
		if !in.Istio() {
			c.Errorf(ir.Path("environments", e.env.Name, "ingress", "mesh"), "ingress.mesh \"none\" needs ingress.api \"gateway-api\": the istio ingress is Istio's")
		}
		return
	}
	if e.serverless() {
		// KServe v0.20 writes HTTPRoutes (ingress enableGatewayApi) for
		// Standard mode only. A Knative-mode model is reached through
		// Knative's ingress (net-istio, net-gateway-api, …), which routes
		// the predictor's own host and splits canary traffic between
		// revisions, and KServe's Istio VirtualService for the model's
		// host. An HTTPRoute kiln wrote could only point at the
		// predictor's placeholder Service, an ExternalName Service whose
		// support as a backend Gateway API leaves to each implementation,
		// and would route around the split Knative applies: no sound
		// route to render.
		c.Errorf(ir.Join(e.path, "deploymentMode"), "the gateway-api ingress routes Standard-mode KServe only: KServe v0.20 writes HTTPRoutes for Standard mode alone, and a Knative-mode model is reached through Knative's own ingress (which splits its canary traffic) and an Istio VirtualService for its host; a route kiln wrote could only point at Knative's ExternalName placeholder Service, which Gateway API implementations need not support as a backend. Set deploymentMode: \"Standard\", or the environment's ingress.api to \"istio\"")
	}
	x := e.s.Expose
	if x == nil {
		return
	}
	if in.Gateway == nil {
		c.Errorf(ir.Path("environments", e.env.Name, "ingress"), "ingress.api \"gateway-api\" routes exposed models through a Gateway: name it in ingress.gateway")
	}
	if x.TLS != nil {
		c.Errorf(ir.Join(e.path, "expose", "tls"), "with the gateway-api ingress TLS terminates at the Gateway's listener (its certificateRefs), which kiln does not render: configure the certificate there and remove expose.tls")
	}
	if x.Gateway != "" {
		c.Errorf(ir.Join(e.path, "expose", "gateway"), "expose.gateway names an Istio Gateway; with the gateway-api ingress the route attaches to the environment's ingress.gateway: remove expose.gateway")
	}
	if len(x.GatewaySelector) > 0 {
		c.Errorf(ir.Join(e.path, "expose", "gatewaySelector"), "expose.gatewaySelector configures an Istio Gateway kiln renders; with the gateway-api ingress kiln renders none: remove it")
	}
}

// gatewayAPIWarnings reports what the Gateway API ingress leaves out of
// an entry's settings.
func gatewayAPIWarnings(c *render.Context, e *entry) diag.List {
	var out diag.List
	warn := func(p, format string, args ...any) {
		out.Add(diag.Warnf(c.Env.Sources.Pos(p), p, format, args...))
	}
	if x := e.s.Expose; x != nil && x.Retries != nil {
		warn(ir.Join(e.path, "expose", "retries"), "HTTPRoute has no retries in the Gateway API's standard channel (retry is experimental), so kiln renders none: the implementation's default applies")
	}
	if a := e.s.Access; a != nil && !e.env.Ingress.Istio() {
		for i, p := range a.Principals {
			path := ir.Join(e.path, "access", "principals")
			if ns, ok := principalNamespace(p); ok {
				warn(path, "without a mesh access renders as a NetworkPolicy, which sees namespaces, not identities: principal %q admits every pod of namespace %q", p, ns)
			} else {
				c.Errorf(path, "principal %d (%q) names no namespace (…/ns/<namespace>/sa/<account>); without a mesh access admits callers by namespace only", i, p)
			}
		}
	}
	return out
}
