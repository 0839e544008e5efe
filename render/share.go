package render

import (
	"reflect"
	"runtime"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kiln-ml/kiln/par"
)

// Environments are mostly alike: an environment's overrides change a few
// entries, and the objects of every other entry come out the same in each
// environment. Encoding them once per environment was most of the cost of
// rendering a system with several environments, so Files encodes an
// object that equals one of an earlier environment once, and gives both
// files the same bytes. Equal means reflect.DeepEqual of the objects,
// which errs on the side of "different" (a nil and an empty slice, a NaN,
// a resource.Quantity with its string cached and one without): an object
// taken for equal is always one whose encoding is the same, so the bytes
// never change; an object taken for different is only encoded again.

// objectKey identifies an object within one environment's directory.
type objectKey struct {
	gvk       schema.GroupVersionKind
	namespace string
	name      string
}

func keyOf(o Object) objectKey {
	return objectKey{o.GetObjectKind().GroupVersionKind(), o.GetNamespace(), o.GetName()}
}

// sameAsEarlier returns, for each item of each environment, the index of
// an earlier environment whose object of the same kind, namespace and
// name is equal to it, or -1 (nil: all -1, as with one environment). The
// items (and so their file names) of the environment it names are those
// of a file Files wrote already.
func sameAsEarlier(envs []Environment) [][]int {
	if len(envs) < 2 {
		return nil
	}
	same := make([][]int, len(envs))
	// Each key's distinct objects so far, with their environment: a later
	// environment's own version of an object is compared with too (two
	// production environments are alike, and unlike dev).
	type version struct {
		env int
		obj Object
	}
	seen := map[objectKey][]version{}
	for e, env := range envs {
		items := env.Items
		same[e] = make([]int, len(items))
		cands := make([][]version, len(items))
		if e > 0 {
			for i, it := range items {
				cands[i] = seen[keyOf(it.Object)]
			}
		}
		// The comparisons, the costly part, run in parallel, each
		// into its own slot.
		par.Each(runtime.GOMAXPROCS(0), len(items), func(i int) {
			same[e][i] = -1
			for _, c := range cands[i] {
				if reflect.DeepEqual(c.obj, items[i].Object) {
					same[e][i] = c.env
					return
				}
			}
		})
		for i, it := range items {
			if same[e][i] < 0 {
				k := keyOf(it.Object)
				seen[k] = append(seen[k], version{e, it.Object})
			}
		}
	}
	return same
}
