package render

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Kind describes a kind kiln emits: everything the rest of kiln needs to
// know about it, stated once by the renderer that emits it. The object
// set orders objects and fills in namespaces from it, Render gives objects
// their sync wave, Argo CD's renderer its health checks and
// ignoreDifferences, the workflow builders the conditions a step waits
// for and the platform renderer the workflow's RBAC; none of them keeps a
// list of kinds of its own.
type Kind struct {
	// Group, Version and Kind of the objects ("" group for core).
	Group, Version, Kind string
	// Plural is the resource name, as RBAC rules and API paths spell it.
	Plural string
	// ClusterScoped kinds get no namespace.
	ClusterScoped bool
	// Order is where the kind's objects are applied, lower first (the
	// Order* constants); kinds of the same order go alphabetically.
	Order int
	// Wave is the Argo CD sync wave of the kind's objects: -1 for what
	// workloads need in place before they start (namespace, quota,
	// identities, RBAC, configuration), 0 for the rest. Argo CD waits for
	// a wave to be healthy before the next, so a kind that only becomes
	// healthy once a workload uses it (a PersistentVolumeClaim on a
	// WaitForFirstConsumer storage class) must not be in an earlier wave.
	Wave int
	// Health is the Lua health check Argo CD runs for the kind, for kinds
	// Argo CD has none for built in; "" when it has one.
	Health string
	// ControllerFields are JSON pointers into the object that a
	// controller changes after admission (Kueue's suspend flag); Argo CD
	// ignores their differences.
	ControllerFields []string
	// Done and Failed are the success and failure conditions of an Argo
	// resource template that applies an object of the kind and waits for
	// it (label-selector syntax over gjson paths); "" for kinds nothing
	// waits on. A workflow step that waits on a kind without them would
	// never end.
	Done, Failed string
	// PodJobLabel is the label the kind's controller puts on the pods it
	// creates, valued with the object's name: how a workflow finds the
	// pods of an object it created (the sweep's log reader).
	PodJobLabel string
}

// Apply order of kinds: namespaces and policy first, then identities
// and permissions, configuration and storage, network policy, services and
// routing, then workloads (the same idea as kustomize's ordering). Kinds
// without a descriptor go with the workloads.
const (
	OrderNamespace     = 0
	OrderPolicy        = 10
	OrderIdentity      = 20
	OrderConfig        = 30
	OrderNetworkPolicy = 40
	OrderRouting       = 50
	OrderWorkload      = 100
)

// GVK returns the kind's group, version and kind.
func (k Kind) GVK() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: k.Group, Version: k.Version, Kind: k.Kind}
}

// GroupKind returns the kind's group and kind.
func (k Kind) GroupKind() schema.GroupKind { return schema.GroupKind{Group: k.Group, Kind: k.Kind} }

// APIVersion is the kind's apiVersion: group/version, or the version alone
// for the core group.
func (k Kind) APIVersion() string { return k.GVK().GroupVersion().String() }

// KindDeclarer is implemented by renderers that emit kinds of their own:
// Render collects the descriptors of every renderer before any renders.
type KindDeclarer interface {
	Kinds() []Kind
}

// coreKinds are the kinds of the Kubernetes API (and RBAC, policy,
// autoscaling) that renderers emit.
var coreKinds = []Kind{
	{Version: "v1", Kind: "Namespace", Plural: "namespaces", ClusterScoped: true, Order: OrderNamespace, Wave: -1},
	{Version: "v1", Kind: "ResourceQuota", Plural: "resourcequotas", Order: OrderPolicy, Wave: -1},
	{Version: "v1", Kind: "LimitRange", Plural: "limitranges", Order: OrderPolicy + 1, Wave: -1},
	{Group: "scheduling.k8s.io", Version: "v1", Kind: "PriorityClass", Plural: "priorityclasses", ClusterScoped: true, Order: OrderPolicy + 2, Wave: -1},
	{Version: "v1", Kind: "ServiceAccount", Plural: "serviceaccounts", Order: OrderIdentity, Wave: -1},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Plural: "clusterroles", ClusterScoped: true, Order: OrderIdentity + 1, Wave: -1},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role", Plural: "roles", Order: OrderIdentity + 2, Wave: -1},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding", Plural: "clusterrolebindings", ClusterScoped: true, Order: OrderIdentity + 3, Wave: -1},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding", Plural: "rolebindings", Order: OrderIdentity + 4, Wave: -1},
	{Version: "v1", Kind: "ConfigMap", Plural: "configmaps", Order: OrderConfig, Wave: -1},
	// Claims go with the workloads' wave: see Kind.Wave.
	{Version: "v1", Kind: "PersistentVolumeClaim", Plural: "persistentvolumeclaims", Order: OrderConfig + 1},
	{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy", Plural: "networkpolicies", Order: OrderNetworkPolicy + 5},
	{Version: "v1", Kind: "Service", Plural: "services", Order: OrderRouting},
	{Group: "apps", Version: "v1", Kind: "Deployment", Plural: "deployments", Order: OrderWorkload},
	{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler", Plural: "horizontalpodautoscalers", Order: OrderWorkload},
	{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget", Plural: "poddisruptionbudgets", Order: OrderWorkload},
}

// CoreKinds returns the descriptors of the core kinds.
func CoreKinds() []Kind { return slices.Clone(coreKinds) }

// Kinds is a table of kind descriptors by group and kind.
type Kinds struct {
	byGK map[schema.GroupKind]Kind
}

// NewKinds returns a table of the core kinds and the kinds the renderers
// among rs declare. Two renderers may declare the same kind (pipelines
// and sweeps both emit WorkflowTemplates) only with the same descriptor.
func NewKinds(rs ...Renderer) (*Kinds, error) {
	k := &Kinds{byGK: map[schema.GroupKind]Kind{}}
	if err := k.add(coreKinds...); err != nil {
		return nil, err
	}
	for _, r := range rs {
		if d, ok := r.(KindDeclarer); ok {
			if err := k.add(d.Kinds()...); err != nil {
				return nil, fmt.Errorf("renderer %s: %w", r.Name(), err)
			}
		}
	}
	return k, nil
}

func (t *Kinds) add(ks ...Kind) error {
	for _, k := range ks {
		if k.Kind == "" || k.Version == "" || k.Plural == "" {
			return fmt.Errorf("kind %q needs a version, a kind and a plural", k.GroupKind())
		}
		if prev, ok := t.byGK[k.GroupKind()]; ok && !equalKind(prev, k) {
			return fmt.Errorf("kind %s is declared twice, differently", k.GroupKind())
		}
		t.byGK[k.GroupKind()] = k
	}
	return nil
}

func equalKind(a, b Kind) bool {
	return a.Version == b.Version && a.Plural == b.Plural && a.ClusterScoped == b.ClusterScoped &&
		a.Order == b.Order && a.Wave == b.Wave && a.Health == b.Health &&
		slices.Equal(a.ControllerFields, b.ControllerFields) && a.Done == b.Done && a.Failed == b.Failed &&
		a.PodJobLabel == b.PodJobLabel
}

// Lookup returns the descriptor of a group and kind.
func (t *Kinds) Lookup(gk schema.GroupKind) (Kind, bool) {
	if t == nil {
		return Kind{}, false
	}
	k, ok := t.byGK[gk]
	return k, ok
}

// Of returns the descriptor of an object's kind.
func (t *Kinds) Of(o Object) (Kind, bool) {
	return t.Lookup(o.GetObjectKind().GroupVersionKind().GroupKind())
}

// All returns every descriptor, sorted by group and kind.
func (t *Kinds) All() []Kind {
	var out []Kind
	for _, k := range t.byGK {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b Kind) int {
		return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Kind, b.Kind))
	})
	return out
}

// order is the apply order of a group and kind: its descriptor's, or
// with the workloads when it has none.
func (t *Kinds) order(gk schema.GroupKind) int {
	if k, ok := t.Lookup(gk); ok {
		return k.Order
	}
	return OrderWorkload
}

// namespaced reports whether an object of the kind lives in a namespace:
// every kind without a descriptor does.
func (t *Kinds) namespaced(gk schema.GroupKind) bool {
	k, ok := t.Lookup(gk)
	return !ok || !k.ClusterScoped
}

// SyncWave is the Argo CD sync wave of a group and kind (see Kind.Wave):
// its descriptor's, or 0.
func (t *Kinds) SyncWave(gk schema.GroupKind) string {
	k, _ := t.Lookup(gk)
	return strconv.Itoa(k.Wave)
}
