package render

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kiln-ml/kiln/diag"
)

// Labels and annotations every object carries.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelPartOf    = "app.kubernetes.io/part-of"
	LabelComponent = "app.kubernetes.io/component"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelInstance  = "app.kubernetes.io/instance"
	// AnnotationPath is the CUE path of the entry an object came from,
	// such as training.resnet: stable while the spec's text moves around
	// (`kiln explain PATH` shows where it is written). Objects carry no
	// spec positions: adding a comment must change no object.
	AnnotationPath = "kiln.dev/path"
	ManagedBy      = "kiln"
)

// Object is a typed Kubernetes object: a k8s.io/api type or one of kiln's
// own small structs for custom resources, which embed metav1.TypeMeta and
// metav1.ObjectMeta.
type Object interface {
	metav1.Object
	GetObjectKind() schema.ObjectKind
}

// Origin is the spec entry an object was rendered from.
type Origin struct {
	// Path is the entry's CUE path, such as training.resnet.
	Path string
	// Pos is where the entry is written.
	Pos diag.Pos
	// Component is the app.kubernetes.io/component label: training,
	// pipeline, sweep, serving, notebook or platform.
	Component string
	// Name is the app.kubernetes.io/name label; the entry's name.
	Name string
	// ContentNamed objects get a hash of their final content appended to
	// their name (see ContentName) after every transformer has run: for
	// objects a controller runs once and never updates (a standalone
	// training job), so a changed object is a new one. Patches target
	// them by the name without the hash.
	ContentNamed bool
}

// Item is an object in a set with its origin.
type Item struct {
	Object Object
	Origin Origin
}

// GVK returns the object's group, version and kind.
func (it Item) GVK() schema.GroupVersionKind { return it.Object.GetObjectKind().GroupVersionKind() }

// Key identifies an object in a cluster.
func (it Item) Key() string {
	gvk := it.GVK()
	return fmt.Sprintf("%s/%s %s/%s", gvk.Group, gvk.Kind, it.Object.GetNamespace(), it.Object.GetName())
}

// Set is the objects of one environment.
type Set struct {
	items map[string]Item
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{items: map[string]Item{}} }

// Add puts an object in the set. Two entries that render an object with
// the same kind, namespace and name are reported, naming both, instead of
// one silently replacing the other.
func (s *Set) Add(obj Object, origin Origin) *diag.Diagnostic {
	it := Item{Object: obj, Origin: origin}
	gvk := it.GVK()
	if gvk.Kind == "" || gvk.Version == "" {
		panic(fmt.Sprintf("render: object %s from %s has no apiVersion/kind", obj.GetName(), origin.Path))
	}
	if prev, ok := s.items[it.Key()]; ok {
		d := diag.Errorf(origin.Pos, origin.Path, "renders %s %q, which %s renders too; rename one of them", gvk.Kind, obj.GetName(), prev.Origin.Path)
		if prev.Origin.Pos.IsValid() {
			d.Related = []diag.Pos{prev.Origin.Pos}
		}
		return &d
	}
	s.items[it.Key()] = it
	return nil
}

// Replace swaps an object for another with the same kind, namespace and
// name (a patched copy), keeping its origin. It reports false when the set
// has no such object.
func (s *Set) Replace(obj Object) bool {
	key := Item{Object: obj}.Key()
	it, ok := s.items[key]
	if !ok {
		return false
	}
	it.Object = obj
	s.items[key] = it
	return true
}

// Len returns the number of objects.
func (s *Set) Len() int { return len(s.items) }

// Items returns the objects in apply order: kind priority, then namespace,
// then name.
func (s *Set) Items() []Item {
	items := slices.Collect(maps.Values(s.items))
	slices.SortFunc(items, func(a, b Item) int {
		ga, gb := a.GVK(), b.GVK()
		return cmp.Or(
			cmp.Compare(kindRank(ga.Kind), kindRank(gb.Kind)),
			strings.Compare(ga.Kind, gb.Kind),
			strings.Compare(ga.Group, gb.Group),
			strings.Compare(a.Object.GetNamespace(), b.Object.GetNamespace()),
			strings.Compare(a.Object.GetName(), b.Object.GetName()),
		)
	})
	return items
}

// kindOrder is the order objects are applied in: namespaces and policy
// first, then identities and permissions, configuration, then workloads
// (the same idea as kustomize's ordering). Kinds not listed sort after all
// of these, alphabetically.
var kindOrder = []string{
	"Namespace", "ResourceQuota", "LimitRange", "PriorityClass", "AppProject",
	"ServiceAccount", "ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding",
	"ConfigMap", "PersistentVolumeClaim",
	"PeerAuthentication", "AuthorizationPolicy", "NetworkPolicy",
	"Service", "DestinationRule", "Gateway", "VirtualService",
}

func kindRank(kind string) int {
	if i := slices.Index(kindOrder, kind); i >= 0 {
		return i
	}
	return len(kindOrder)
}

// SyncWave is the Argo CD sync wave of a kind: the platform objects (wave
// -1: namespaces, quotas, identities, RBAC, configuration) before
// workloads (wave 0), so they exist when the workloads arrive. Argo CD
// waits for a wave to be healthy before the next, so a kind that only
// becomes healthy once a workload uses it must not be in an earlier wave:
// a PersistentVolumeClaim on a WaitForFirstConsumer storage class stays
// Pending (Progressing) until its pod exists, and would hold the sync
// forever. Claims go with the workloads.
func SyncWave(kind string) string {
	if i := slices.Index(kindOrder, kind); i >= 0 && i <= slices.Index(kindOrder, "ConfigMap") {
		return "-1"
	}
	return "0"
}
