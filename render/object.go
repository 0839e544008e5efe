package render

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
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
	// PodSecurity is the Pod Security level the renderer built the
	// object's pods for (PodSecurityBaseline when their entry asks for
	// baseline); "" for restricted or an object without pods. `kiln
	// check` holds pods to restricted unless their object says baseline.
	PodSecurity string
}

// Pod Security levels an object's pods are built for.
const (
	PodSecurityRestricted = "restricted"
	PodSecurityBaseline   = "baseline"
)

// PodSecurityOf is the level of pods built with sec: "" (restricted) or
// PodSecurityBaseline.
func PodSecurityOf(sec ir.Security) string {
	if sec.Restricted() {
		return ""
	}
	return PodSecurityBaseline
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
	return gvk.Group + "/" + gvk.Kind + " " + it.Object.GetNamespace() + "/" + it.Object.GetName()
}

// Set is the objects of one environment.
type Set struct {
	items map[string]Item
	kinds *Kinds
}

// NewSet returns an empty set that knows the core kinds only.
func NewSet() *Set { return NewSetOf(nil) }

// NewSetOf returns an empty set that orders objects by the descriptors
// in kinds (the core kinds when kinds is nil).
func NewSetOf(kinds *Kinds) *Set {
	if kinds == nil {
		kinds, _ = NewKinds() // the core table is valid: tested
	}
	return &Set{items: map[string]Item{}, kinds: kinds}
}

// Add puts an object in the set. Two entries that render an object with
// the same kind, namespace and name are reported, naming both, instead of
// one silently replacing the other.
func (s *Set) Add(obj Object, origin Origin) *diag.Diagnostic {
	it := Item{Object: obj, Origin: origin}
	gvk := it.GVK()
	if gvk.Kind == "" || gvk.Version == "" {
		panic(fmt.Sprintf("render: object %s from %s has no apiVersion/kind", obj.GetName(), origin.Path))
	}
	key := it.Key()
	if prev, ok := s.items[key]; ok {
		d := diag.Errorf(origin.Pos, origin.Path, "renders %s %q, which %s renders too; rename one of them", gvk.Kind, obj.GetName(), prev.Origin.Path)
		if prev.Origin.Pos.IsValid() {
			d.Related = []diag.Pos{prev.Origin.Pos}
		}
		return &d
	}
	s.items[key] = it
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

// Items returns the objects in apply order: their kinds' order (see
// Kind.Order), kind, group, then namespace, then name. Each object's sort
// key is worked out once, not at every comparison: an object's kind is
// parsed from its apiVersion each time it is asked for.
func (s *Set) Items() []Item {
	type keyed struct {
		it                    Item
		order                 int
		kind, group, ns, name string
	}
	ks := make([]keyed, 0, len(s.items))
	for _, it := range s.items {
		gvk := it.GVK()
		ks = append(ks, keyed{it, s.kinds.order(gvk.GroupKind()), gvk.Kind, gvk.Group, it.Object.GetNamespace(), it.Object.GetName()})
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		return cmp.Or(
			cmp.Compare(a.order, b.order),
			strings.Compare(a.kind, b.kind),
			strings.Compare(a.group, b.group),
			strings.Compare(a.ns, b.ns),
			strings.Compare(a.name, b.name),
		)
	})
	items := make([]Item, len(ks))
	for i, k := range ks {
		items[i] = k.it
	}
	return items
}
