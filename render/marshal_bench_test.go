package render

import (
	"bytes"
	"os"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// benchObjects are golden-sized objects: a typed Deployment (through
// encoding/json) and a WorkflowTemplate as unstructured.
func benchObjects(b testing.TB) map[string]any {
	docs := func(p string) [][]byte {
		y, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		return bytes.Split(y, []byte("\n---\n"))
	}
	objs := map[string]any{}
	for _, d := range docs("serving/testdata/golden/tfserving.yaml") {
		if bytes.Contains(d, []byte("\nkind: Deployment\n")) {
			var dep appsv1.Deployment
			if err := yaml.Unmarshal(d, &dep); err != nil {
				b.Fatal(err)
			}
			objs["Deployment"] = &dep
		}
	}
	var wt unstructured.Unstructured
	if err := yaml.Unmarshal(docs("pipeline/testdata/golden/full/dev/vision/workflowtemplate-nightly-train.yaml")[0], &wt.Object); err != nil {
		b.Fatal(err)
	}
	objs["WorkflowTemplate"] = &wt
	if len(objs) != 2 {
		b.Fatalf("benchmark objects missing: %v", objs)
	}
	return objs
}

// BenchmarkMarshal compares Marshal (kiln's writer) with go-yaml writing
// the same map, and shows the part of each that ToMap takes.
func BenchmarkMarshal(b *testing.B) {
	for name, obj := range benchObjects(b) {
		b.Run(name+"/Marshal", func(b *testing.B) {
			for b.Loop() {
				if _, err := Marshal(obj); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/go-yaml", func(b *testing.B) {
			for b.Loop() {
				m, err := ToMap(obj)
				if err != nil {
					b.Fatal(err)
				}
				clean(m)
				delete(m, "status")
				if _, err := marshalGoYAML(m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/ToMap", func(b *testing.B) {
			for b.Loop() {
				if _, err := ToMap(obj); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMarshalTakesFastPath checks that golden-sized objects, typed and
// unstructured, are written by kiln's writer, not by go-yaml: that is
// where Marshal's speed comes from. A string the writer declines shows
// that the check can fail.
func TestMarshalTakesFastPath(t *testing.T) {
	objs := benchObjects(t)
	before := goYAMLDocs.Load()
	for name, obj := range objs {
		if _, err := Marshal(obj); err != nil {
			t.Fatal(err)
		}
		if n := goYAMLDocs.Load() - before; n != 0 {
			t.Fatalf("%s: written by go-yaml, not by kiln's writer", name)
		}
	}
	u := &unstructured.Unstructured{Object: map[string]any{"kind": "Thing", "spec": map[string]any{"note": "naïve\u2028"}}}
	if _, err := Marshal(u); err != nil {
		t.Fatal(err)
	}
	if goYAMLDocs.Load()-before != 1 {
		t.Errorf("a document the writer declines was not counted")
	}
}
