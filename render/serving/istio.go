package serving

import (
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/render"
)

// Where Istio and Knative run, as installed by their defaults.
const (
	istioNamespace   = "istio-system"
	knativeNamespace = "knative-serving"
	// knativeLocalGateway is the mesh-internal gateway Knative routes
	// every Knative model through.
	knativeLocalGateway = "knative-local-gateway.istio-system.svc.cluster.local"
)

// DefaultGatewaySelector selects Istio's default ingress gateway pods.
var DefaultGatewaySelector = map[string]string{"istio": "ingressgateway"}

// Connection limits and outlier detection kiln applies to every model it
// routes to: enough headroom for bursts of inference requests, and an
// endpoint that fails 5 times in a row is taken out for 30s (at most half
// of them, so a bad rollout does not eject everything).
const (
	maxConnections     = 1024
	maxPendingRequests = 1024
	consecutive5xx     = 5
	ejectionInterval   = "10s"
	baseEjectionTime   = "30s"
	maxEjectionPercent = 50
	retryOn            = "5xx,reset,connect-failure,refused-stream"
)

// istio renders the traffic objects of an entry:
//   - a Gateway for its host (unless it names an existing gateway) and a
//     VirtualService for the host, when exposed;
//   - for models behind kiln's own Service (Standard-mode KServe, TF
//     Serving), a DestinationRule with stable and canary subsets and, with
//     a canary, a mesh VirtualService that applies the split to callers
//     inside the mesh;
//   - for Knative-mode KServe, a mesh VirtualService for kiln's
//     <name>-serving host that sends each track's share to Knative's
//     local gateway with that track's InferenceService host;
//   - an AuthorizationPolicy when access is limited.
//
// kiln never adds a VirtualService for an InferenceService's own host:
// KServe owns those (in Knative mode a VirtualService named after the
// InferenceService, which is why kiln's exposed one is <name>-ingress
// there).
func istio(c *render.Context, e *entry) {
	o := e.origin(c)
	if e.splitByKiln() {
		c.Add(destinationRule(e), o)
	}
	if e.serverless() || (e.splitByKiln() && e.s.Canary != nil) {
		c.Add(meshVirtualService(e), o)
	}
	if x := e.s.Expose; x != nil {
		if x.Gateway == "" {
			c.Add(gateway(e), o)
		}
		c.Add(exposedVirtualService(e), o)
	}
	if e.s.Access != nil {
		c.Add(authorizationPolicy(e), o)
	}
}

// splitByKiln reports whether kiln's own Service selects the model's pods
// (and its DestinationRule subsets split them).
func (e *entry) splitByKiln() bool {
	return e.s.Runtime == "tfserving" || (e.s.Runtime == "kserve" && !e.serverless())
}

// serviceHost is the cluster-local name of kiln's Service of the model.
func (e *entry) serviceHost() string {
	return e.serviceName() + "." + e.env.Namespace + ".svc.cluster.local"
}

func gateway(e *entry) *Gateway {
	x := e.s.Expose
	sel := x.GatewaySelector
	if len(sel) == 0 {
		sel = DefaultGatewaySelector
	}
	g := &Gateway{
		TypeMeta:   metav1.TypeMeta{APIVersion: NetworkingIstio, Kind: "Gateway"},
		ObjectMeta: metav1.ObjectMeta{Name: e.obj},
		Spec:       GatewaySpec{Selector: sel},
	}
	if x.TLS != nil {
		g.Spec.Servers = []GatewayServer{
			{Port: GatewayPort{Number: 443, Name: "https", Protocol: "HTTPS"}, Hosts: []string{x.Host}, TLS: &ServerTLS{Mode: "SIMPLE", CredentialName: x.TLS.Secret}},
			{Port: GatewayPort{Number: 80, Name: "http", Protocol: "HTTP"}, Hosts: []string{x.Host}, TLS: &ServerTLS{HTTPSRedirect: true}},
		}
	} else {
		g.Spec.Servers = []GatewayServer{{Port: GatewayPort{Number: 80, Name: "http", Protocol: "HTTP"}, Hosts: []string{x.Host}}}
	}
	return g
}

// gatewayRef is how a VirtualService names the entry's gateway.
func (e *entry) gatewayRef() string {
	if g := e.s.Expose.Gateway; g != "" {
		return g
	}
	return e.obj
}

// prefix is the path prefix an exposed model answers under, ending in '/'
// so that "/skin" does not also match "/skinny".
func (e *entry) prefix() string {
	p := e.s.Expose.Path
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// exposedVirtualService routes the exposed host and path to the model.
func exposedVirtualService(e *entry) *VirtualService {
	x := e.s.Expose
	name := e.obj
	if e.serverless() {
		// KServe's own VirtualService for the InferenceService is <name>.
		name += "-ingress"
	}
	vs := &VirtualService{
		TypeMeta:   metav1.TypeMeta{APIVersion: NetworkingIstio, Kind: "VirtualService"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       VirtualServiceSpec{Hosts: []string{x.Host}, Gateways: []string{e.gatewayRef()}},
	}
	var match *HTTPMatchRequest
	var rewrite *HTTPRewrite
	if p := e.prefix(); p != "/" {
		// The model server answers at /v1/models/…: strip the prefix.
		match = &HTTPMatchRequest{URI: &StringMatch{Prefix: p}}
		rewrite = &HTTPRewrite{URI: "/"}
	}
	vs.Spec.HTTP = e.routes(match, rewrite)
	return vs
}

// meshVirtualService applies the canary split to callers inside the mesh
// that use kiln's Service (<name>-serving).
func meshVirtualService(e *entry) *VirtualService {
	return &VirtualService{
		TypeMeta:   metav1.TypeMeta{APIVersion: NetworkingIstio, Kind: "VirtualService"},
		ObjectMeta: metav1.ObjectMeta{Name: e.obj + "-mesh"},
		Spec:       VirtualServiceSpec{Hosts: []string{e.serviceHost()}, HTTP: e.routes(nil, nil)},
	}
}

// routes are the HTTP routes to the model: the testers' header to the
// canary first, then everything else split by weight.
func (e *entry) routes(match *HTTPMatchRequest, rewrite *HTTPRewrite) []VirtualServiceRoute {
	x := e.s.Expose
	var timeout string
	var retries *HTTPRetry
	if x != nil {
		timeout = x.Timeout
		if x.Retries != nil {
			// attempts: 0 turns off Istio's default retries.
			retries = &HTTPRetry{Attempts: int32(*x.Retries), RetryOn: retryOn}
			if *x.Retries > 0 {
				retries.PerTryTimeout = perTryTimeout(x.Timeout, *x.Retries)
			}
		}
	}
	withMatch := func(headers map[string]StringMatch) []HTTPMatchRequest {
		if match == nil && headers == nil {
			return nil
		}
		m := HTTPMatchRequest{Headers: headers}
		if match != nil {
			m.URI = match.URI
		}
		return []HTTPMatchRequest{m}
	}
	var out []VirtualServiceRoute
	if x != nil && x.CanaryHeader != nil && e.s.Canary != nil {
		r := VirtualServiceRoute{
			Name:    "canary-testers",
			Match:   withMatch(map[string]StringMatch{x.CanaryHeader.Name: {Exact: x.CanaryHeader.Value}}),
			Rewrite: rewrite,
			Route:   []HTTPRouteDestination{e.routeTo(Canary, 0)},
			Timeout: timeout,
			Retries: retries,
		}
		out = append(out, r)
	}
	r := VirtualServiceRoute{Name: "model", Match: withMatch(nil), Rewrite: rewrite, Timeout: timeout, Retries: retries}
	if e.s.Canary == nil {
		r.Route = []HTTPRouteDestination{e.routeTo(Stable, 0)}
	} else {
		for _, track := range e.tracks() {
			r.Route = append(r.Route, e.routeTo(track, int32(e.weight(track))))
		}
	}
	return append(out, r)
}

// perTryTimeout gives each of the 1+retries attempts an equal part of the
// route's timeout, so a retry fits in it (Istio's default per-try timeout
// is the whole route timeout, which leaves no time to retry). Without a
// route timeout Istio's default applies.
func perTryTimeout(timeout string, retries int) string {
	d, err := time.ParseDuration(timeout)
	if timeout == "" || err != nil || d <= 0 {
		return ""
	}
	per := (d / time.Duration(retries+1)).Truncate(time.Millisecond)
	if per < time.Millisecond {
		per = time.Millisecond
	}
	// Seconds with a decimal fraction: the form both protobuf's JSON
	// durations and Go's accept.
	return strconv.FormatFloat(per.Seconds(), 'f', -1, 64) + "s"
}

// routeTo is the weighted destination of a track. A Knative-mode track is
// reached through Knative's local gateway with the Host of that track's
// InferenceService, set per destination: Istio turns it into a host
// rewrite of that weighted destination alone.
func (e *entry) routeTo(track string, weight int32) HTTPRouteDestination {
	d := HTTPRouteDestination{Destination: e.destination(track), Weight: weight}
	if e.serverless() {
		d.Headers = &Headers{Request: &HeaderOperations{Set: map[string]string{"Host": e.isvcHost(track)}}}
	}
	return d
}

// isvcHost is the cluster-local host of a track's InferenceService, which
// KServe routes at Knative's local gateway to its transformer or
// predictor.
func (e *entry) isvcHost(track string) string {
	return e.trackName(track) + "." + e.env.Namespace + ".svc.cluster.local"
}

// destination is where a track's traffic goes.
func (e *entry) destination(track string) Destination {
	switch {
	case e.serverless():
		return Destination{Host: knativeLocalGateway, Port: &PortSelector{Number: 80}}
	case e.s.Runtime == "seldon":
		return Destination{Host: e.obj + "-" + seldonPredictorName(track) + "." + e.env.Namespace + ".svc.cluster.local", Port: &PortSelector{Number: seldonHTTPPort}}
	}
	d := Destination{Host: e.serviceHost(), Port: &PortSelector{Number: e.servicePort()}}
	if e.s.Canary != nil {
		d.Subset = track
	}
	return d
}

// destinationRule sets connection limits and outlier detection for kiln's
// Service and, with a canary, its stable and canary subsets.
func destinationRule(e *entry) *DestinationRule {
	dr := &DestinationRule{
		TypeMeta:   metav1.TypeMeta{APIVersion: NetworkingIstio, Kind: "DestinationRule"},
		ObjectMeta: metav1.ObjectMeta{Name: e.obj},
		Spec: DestinationRuleSpec{
			Host: e.serviceHost(),
			TrafficPolicy: &TrafficPolicy{
				ConnectionPool: &ConnectionPool{
					TCP:  &TCPSettings{MaxConnections: maxConnections},
					HTTP: &HTTPSettings{HTTP1MaxPendingRequests: maxPendingRequests, HTTP2MaxRequests: maxConnections},
				},
			},
		},
	}
	if e.min >= 2 {
		// Envoy ejects at least one endpoint whatever maxEjectionPercent
		// says: with a single replica, five 5xx in a row would take the
		// model out of rotation for baseEjectionTime.
		dr.Spec.TrafficPolicy.OutlierDetection = &OutlierDetection{
			Consecutive5xxErrors: new(uint32(consecutive5xx)),
			Interval:             ejectionInterval,
			BaseEjectionTime:     baseEjectionTime,
			MaxEjectionPercent:   maxEjectionPercent,
		}
	}
	if e.s.Canary != nil {
		for _, track := range e.tracks() {
			dr.Spec.Subsets = append(dr.Spec.Subsets, Subset{Name: track, Labels: map[string]string{LabelTrack: track}})
		}
	}
	return dr
}

// authorizationPolicy allows only the listed callers, plus what must
// reach the model for it to work at all: the ingress gateway's namespace
// when it is exposed (the Gateway API Gateway's with that ingress), and Knative's activator and local gateway in Knative mode.
func authorizationPolicy(e *entry) *AuthorizationPolicy {
	a := e.s.Access
	var from []RuleFrom
	if len(a.Principals) > 0 {
		from = append(from, RuleFrom{Source: Source{Principals: slices.Clone(a.Principals)}})
	}
	namespaces := slices.Clone(a.Namespaces)
	switch {
	case e.s.Expose != nil && e.env.Ingress.GatewayAPI():
		// The Gateway's proxies run in its namespace.
		namespaces = append(namespaces, e.gatewayNamespace())
	case e.s.Expose != nil || e.serverless():
		namespaces = append(namespaces, istioNamespace)
	}
	if e.serverless() {
		namespaces = append(namespaces, knativeNamespace)
	}
	slices.Sort(namespaces)
	namespaces = slices.Compact(namespaces)
	if len(namespaces) > 0 {
		from = append(from, RuleFrom{Source: Source{Namespaces: namespaces}})
	}
	ap := &AuthorizationPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: SecurityIstio, Kind: "AuthorizationPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: e.obj},
		Spec: AuthorizationPolicySpec{
			Selector: &WorkloadSelector{MatchLabels: map[string]string{LabelServing: e.obj}},
			Action:   "ALLOW",
		},
	}
	// An ALLOW policy without rules allows no one: what an empty access
	// list asks for.
	if len(from) > 0 {
		ap.Spec.Rules = []Rule{{From: from}}
	}
	return ap
}

// StrictMTLS requires mutual TLS for every workload of the
// namespace ("default" is Istio's name for the namespace-wide policy).
func StrictMTLS() *PeerAuthentication {
	return &PeerAuthentication{
		TypeMeta:   metav1.TypeMeta{APIVersion: SecurityIstio, Kind: "PeerAuthentication"},
		ObjectMeta: metav1.ObjectMeta{Name: "default"},
		Spec:       PeerAuthenticationSpec{MTLS: MutualTLS{Mode: "STRICT"}},
	}
}
