package serving

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GatewayAPIVersion is the Gateway API group version kiln emits
// (standard channel, validated against v1.6.3), and ReferenceGrantVersion
// the version of ReferenceGrant, which the standard channel serves as
// v1beta1 only.
const (
	GatewayAPIGroup       = "gateway.networking.k8s.io"
	GatewayAPIVersion     = GatewayAPIGroup + "/v1"
	ReferenceGrantVersion = GatewayAPIGroup + "/v1beta1"
)

// Route is an HTTP route to a model, whatever serves it: where it
// attaches, which requests it takes and how it shares them between
// backends. HTTPRoute turns it into a Gateway API HTTPRoute; other
// renderers that route to models through the Gateway API use it too.
type Route struct {
	// Name and Namespace of the HTTPRoute.
	Name, Namespace string
	// Parent is the Gateway the route attaches to, or, for callers inside
	// a mesh, the Service whose traffic it routes (GAMMA).
	Parent ParentReference
	// Hostnames the route answers for; none for a Service parent.
	Hostnames []string
	// Path is the prefix the model answers under; "" or "/" for all
	// paths. A longer prefix is replaced with "/" before the request
	// reaches a backend, which answers at /v1/models/….
	Path string
	// Backends share the requests by weight.
	Backends []Backend
	// Testers, if set, sends requests carrying a header to one backend
	// (the canary), ahead of the weighted rule.
	Testers *Testers
	// Timeout of a whole request, as a Go duration; "" for the
	// implementation's default.
	Timeout string
}

// Backend is a Service a route sends a share of requests to.
type Backend struct {
	// Service name, its namespace ("" for the route's) and port.
	Service, Namespace string
	Port               int32
	Weight             int32
}

// Testers routes requests whose Header is Value to Backend.
type Testers struct {
	Header, Value string
	Backend       Backend
}

// HTTPRoute renders r. Rules are named ("canary-testers", "model"), so
// the implementation's status and metrics can tell them apart.
func (r Route) HTTPRoute() (*HTTPRoute, error) {
	hr := &HTTPRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: GatewayAPIVersion, Kind: "HTTPRoute"},
		ObjectMeta: metav1.ObjectMeta{Name: r.Name, Namespace: r.Namespace},
		Spec: HTTPRouteSpec{
			ParentRefs: []ParentReference{r.Parent},
			Hostnames:  slices.Clone(r.Hostnames),
		},
	}
	var timeouts *HTTPRouteTimeouts
	if r.Timeout != "" {
		d, err := GatewayDuration(r.Timeout)
		if err != nil {
			return nil, err
		}
		timeouts = &HTTPRouteTimeouts{Request: d}
	}
	var path *HTTPPathMatch
	var filters []HTTPRouteFilter
	if p := strings.TrimSuffix(r.Path, "/"); p != "" {
		// PathPrefix matches whole path elements: /skin matches /skin
		// and /skin/…, not /skinny.
		path = &HTTPPathMatch{Type: "PathPrefix", Value: p}
		filters = []HTTPRouteFilter{{Type: "URLRewrite", URLRewrite: &HTTPURLRewriteFilter{
			Path: &HTTPPathModifier{Type: "ReplacePrefixMatch", ReplacePrefixMatch: new("/")},
		}}}
	}
	if t := r.Testers; t != nil {
		hr.Spec.Rules = append(hr.Spec.Rules, HTTPRouteRule{
			Name:        "canary-testers",
			Matches:     []HTTPRouteMatch{{Path: path, Headers: []HTTPHeaderMatch{{Type: "Exact", Name: t.Header, Value: t.Value}}}},
			Filters:     filters,
			BackendRefs: []HTTPBackendRef{t.Backend.ref(false)},
			Timeouts:    timeouts,
		})
	}
	rule := HTTPRouteRule{Name: "model", Filters: filters, Timeouts: timeouts}
	if path != nil {
		rule.Matches = []HTTPRouteMatch{{Path: path}}
	}
	for _, b := range r.Backends {
		rule.BackendRefs = append(rule.BackendRefs, b.ref(len(r.Backends) > 1))
	}
	hr.Spec.Rules = append(hr.Spec.Rules, rule)
	return hr, nil
}

// ref is the backendRef of b; weighted only when it shares the rule.
func (b Backend) ref(weighted bool) HTTPBackendRef {
	ref := HTTPBackendRef{Name: b.Service, Namespace: b.Namespace, Port: new(b.Port)}
	if weighted {
		ref.Weight = new(b.Weight)
	}
	return ref
}

// GatewayParent is the parentRef of a Gateway (namespace "" for the
// route's own) and, optionally, one of its listeners.
func GatewayParent(name, namespace, sectionName string) ParentReference {
	return ParentReference{Name: name, Namespace: namespace, SectionName: sectionName}
}

// ServiceParent is the parentRef of a Service: the route applies to
// requests for that Service inside a mesh that implements GAMMA.
func ServiceParent(name string, port int32) ParentReference {
	return ParentReference{Group: new(""), Kind: "Service", Name: name, Port: new(port)}
}

// ReferenceGrants returns the ReferenceGrants route needs: one in each
// other namespace that one of its backendRefs names, allowing HTTPRoutes
// of the route's namespace to refer to Services there. A Gateway in
// another namespace needs none: its listeners' allowedRoutes say which
// namespaces' routes may attach. Each grant is named
// kiln-<route namespace>-<route name>, so routes never share one.
func ReferenceGrants(route *HTTPRoute) []*ReferenceGrant {
	var namespaces []string
	for _, rule := range route.Spec.Rules {
		for _, b := range rule.BackendRefs {
			if b.Namespace != "" && b.Namespace != route.Namespace {
				namespaces = append(namespaces, b.Namespace)
			}
		}
	}
	slices.Sort(namespaces)
	var out []*ReferenceGrant
	for _, ns := range slices.Compact(namespaces) {
		var names []string
		for _, rule := range route.Spec.Rules {
			for _, b := range rule.BackendRefs {
				if b.Namespace == ns {
					names = append(names, b.Name)
				}
			}
		}
		slices.Sort(names)
		g := &ReferenceGrant{
			TypeMeta:   metav1.TypeMeta{APIVersion: ReferenceGrantVersion, Kind: "ReferenceGrant"},
			ObjectMeta: metav1.ObjectMeta{Name: "kiln-" + route.Namespace + "-" + route.Name, Namespace: ns},
			Spec: ReferenceGrantSpec{
				From: []ReferenceGrantFrom{{Group: GatewayAPIGroup, Kind: "HTTPRoute", Namespace: route.Namespace}},
			},
		}
		for _, n := range slices.Compact(names) {
			g.Spec.To = append(g.Spec.To, ReferenceGrantTo{Group: "", Kind: "Service", Name: n})
		}
		out = append(out, g)
	}
	return out
}

// GatewayDuration writes a Go duration as a Gateway API duration
// (GEP-2257: up to four of h, m, s and ms, each at most 5 digits).
// Anything below a millisecond is dropped; a positive duration shorter
// than that becomes 1ms rather than 0s, which would turn the timeout off.
func GatewayDuration(s string) (string, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return "", err
	}
	if d < 0 {
		return "", fmt.Errorf("duration %s is negative", s)
	}
	if d > 0 && d < time.Millisecond {
		d = time.Millisecond
	}
	h := d / time.Hour
	if h > 99999 {
		return "", fmt.Errorf("duration %s is longer than a Gateway API duration can be (99999h)", s)
	}
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	sec := d / time.Second
	d -= sec * time.Second
	ms := d / time.Millisecond
	var b strings.Builder
	for _, part := range []struct {
		n    time.Duration
		unit string
	}{{h, "h"}, {m, "m"}, {sec, "s"}, {ms, "ms"}} {
		if part.n > 0 {
			fmt.Fprintf(&b, "%d%s", part.n, part.unit)
		}
	}
	if b.Len() == 0 {
		return "0s", nil
	}
	return b.String(), nil
}

// HTTPRoute is gateway.networking.k8s.io/v1 HTTPRoute: the fields kiln
// sets.
type HTTPRoute struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              HTTPRouteSpec `json:"spec"`
}

// HTTPRouteSpec is where a route attaches and its rules.
type HTTPRouteSpec struct {
	ParentRefs []ParentReference `json:"parentRefs,omitempty"`
	Hostnames  []string          `json:"hostnames,omitempty"`
	Rules      []HTTPRouteRule   `json:"rules,omitempty"`
}

// ParentReference names a Gateway (the default group and kind) or a
// Service (group "", kind Service).
type ParentReference struct {
	Group       *string `json:"group,omitempty"`
	Kind        string  `json:"kind,omitempty"`
	Namespace   string  `json:"namespace,omitempty"`
	Name        string  `json:"name"`
	SectionName string  `json:"sectionName,omitempty"`
	Port        *int32  `json:"port,omitempty"`
}

// HTTPRouteRule matches requests and sends them to backends.
type HTTPRouteRule struct {
	Name        string             `json:"name,omitempty"`
	Matches     []HTTPRouteMatch   `json:"matches,omitempty"`
	Filters     []HTTPRouteFilter  `json:"filters,omitempty"`
	BackendRefs []HTTPBackendRef   `json:"backendRefs,omitempty"`
	Timeouts    *HTTPRouteTimeouts `json:"timeouts,omitempty"`
}

// HTTPRouteMatch matches a path prefix and headers.
type HTTPRouteMatch struct {
	Path    *HTTPPathMatch    `json:"path,omitempty"`
	Headers []HTTPHeaderMatch `json:"headers,omitempty"`
}

// HTTPPathMatch matches a request path.
type HTTPPathMatch struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// HTTPHeaderMatch matches a request header.
type HTTPHeaderMatch struct {
	Type  string `json:"type,omitempty"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

// HTTPRouteFilter changes a request on its way (kiln: URL rewrites).
type HTTPRouteFilter struct {
	Type       string                `json:"type"`
	URLRewrite *HTTPURLRewriteFilter `json:"urlRewrite,omitempty"`
}

// HTTPURLRewriteFilter rewrites the request path.
type HTTPURLRewriteFilter struct {
	Path *HTTPPathModifier `json:"path,omitempty"`
}

// HTTPPathModifier replaces the matched prefix.
type HTTPPathModifier struct {
	Type               string  `json:"type"`
	ReplacePrefixMatch *string `json:"replacePrefixMatch,omitempty"`
}

// HTTPBackendRef is a Service and its share of a rule's requests.
type HTTPBackendRef struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	Port      *int32 `json:"port,omitempty"`
	Weight    *int32 `json:"weight,omitempty"`
}

// HTTPRouteTimeouts bounds a whole request.
type HTTPRouteTimeouts struct {
	Request string `json:"request,omitempty"`
}

// ReferenceGrant is gateway.networking.k8s.io/v1beta1 ReferenceGrant.
type ReferenceGrant struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ReferenceGrantSpec `json:"spec"`
}

// ReferenceGrantSpec allows objects of From to refer to objects of To in
// the grant's namespace.
type ReferenceGrantSpec struct {
	From []ReferenceGrantFrom `json:"from"`
	To   []ReferenceGrantTo   `json:"to"`
}

// ReferenceGrantFrom is a kind of referring object and its namespace.
type ReferenceGrantFrom struct {
	Group     string `json:"group"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
}

// ReferenceGrantTo is a kind of object that may be referred to,
// optionally by name.
type ReferenceGrantTo struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
	Name  string `json:"name,omitempty"`
}
