package cli_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

// TestExampleQuantitiesCanonical checks that every resource quantity in
// the rendered example is written in the form the API server stores
// ("500m", not "0.5"; "2Gi", not "2048Mi"). Argo CD compares custom
// resources (training jobs, inference services) field by field as
// strings, so any other spelling shows as a difference forever: the
// application would never settle as Synced.
func TestExampleQuantitiesCanonical(t *testing.T) {
	files := renderExample(t, "skin-lesion")
	checked := 0
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if !strings.HasSuffix(p, ".yaml") {
			continue
		}
		var doc any
		if err := yaml.Unmarshal([]byte(files[p]), &doc); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		walkQuantities(doc, "", false, func(path, s string) {
			checked++
			q, err := resource.ParseQuantity(s)
			if err != nil {
				t.Errorf("%s: %s: %q is not a quantity: %v", p, path, s, err)
				return
			}
			if c := q.String(); c != s {
				t.Errorf("%s: %s: %q is stored by the API server as %q; write that", p, path, s, c)
			}
		})
	}
	if checked == 0 {
		t.Fatal("no quantities found: the walk is broken")
	}
}

// quantityMaps are keys whose values map resource names to quantities;
// quantityFields are keys whose value is one quantity.
var (
	quantityMaps   = map[string]bool{"limits": true, "requests": true, "hard": true, "capacity": true}
	quantityFields = map[string]bool{"sizeLimit": true}
)

func walkQuantities(v any, path string, inMap bool, f func(path, s string)) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			child := path + "." + k
			switch e := v[k].(type) {
			case string:
				if inMap || quantityFields[k] {
					f(child, e)
				}
			case float64:
				if inMap || quantityFields[k] {
					t := resource.NewQuantity(int64(e), resource.DecimalSI).String()
					f(child, t)
				}
			default:
				walkQuantities(e, child, quantityMaps[k], f)
			}
		}
	case []any:
		for _, e := range v {
			walkQuantities(e, path+"[]", false, f)
		}
	}
}
