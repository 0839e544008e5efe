package compiler

import (
	"reflect"
	"testing"

	"github.com/kiln-ml/kiln/diag"
)

func TestChangedPartsAndSplice(t *testing.T) {
	base := map[string]any{
		"name": "s", "namespace": "ns",
		"trainer":  map[string]any{"api": "v1"},
		"training": map[string]any{"a": map[string]any{"workers": 2}, "b": map[string]any{"workers": 3}},
		"serving":  map[string]any{"m": map[string]any{"replicas": 1}},
	}
	eff := map[string]any{
		"name": "s", "namespace": "ns",
		"trainer":  map[string]any{"api": "v1"},
		"training": map[string]any{"a": map[string]any{"workers": 1}, "b": map[string]any{"workers": 3}},
		"serving":  map[string]any{"m": map[string]any{"replicas": 1}},
		"gitops":   map[string]any{"repoURL": "x"},
	}
	changed := changedParts(base, eff)
	want := map[string]any{
		"name": "s", "namespace": "ns",
		"training": map[string]any{"a": map[string]any{"workers": 1}},
		"gitops":   map[string]any{"repoURL": "x"},
	}
	if !reflect.DeepEqual(changed, want) {
		t.Fatalf("changedParts = %v, want %v", changed, want)
	}
	// The schema fills in defaults, and adds sections the overrides did
	// not touch (trainer); only the changed parts are taken.
	checked := map[string]any{
		"name": "s", "namespace": "ns",
		"trainer":  map[string]any{"api": "v2"},
		"training": map[string]any{"a": map[string]any{"workers": 1, "nprocPerNode": "auto"}},
		"gitops":   map[string]any{"repoURL": "x", "path": "deploy"},
	}
	spliceParts(eff, changed, checked)
	if got := eff["trainer"].(map[string]any)["api"]; got != "v1" {
		t.Errorf("trainer.api = %v: a part the overrides left alone was replaced", got)
	}
	if got := eff["training"].(map[string]any)["a"].(map[string]any)["nprocPerNode"]; got != "auto" {
		t.Errorf("training.a lost its default: %v", eff["training"])
	}
	if got := eff["training"].(map[string]any)["b"]; !reflect.DeepEqual(got, map[string]any{"workers": 3}) {
		t.Errorf("training.b = %v, want it untouched", got)
	}
	if got := eff["gitops"].(map[string]any)["path"]; got != "deploy" {
		t.Errorf("gitops = %v, want the evaluated section", eff["gitops"])
	}
}

// TestCopyAlongLeavesBase patches a copyAlong copy the way every kind of
// override does (merge into an entry, replace, delete, add an object) and
// wants the base, which the next environment starts from, unchanged, and
// the parts the patch did not name shared rather than copied.
func TestCopyAlongLeavesBase(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{
			"name": "s",
			"training": map[string]any{
				"a": map[string]any{"workers": 2, "resources": map[string]any{"gpus": 1, "cpu": "4"}, "args": map[string]any{"lr": 1}},
				"b": map[string]any{"workers": 3},
			},
			"artifacts": map[string]any{"s3": map[string]any{"bucket": "x"}},
		}
	}
	patch := map[string]any{
		"training": map[string]any{
			"a": map[string]any{"resources": map[string]any{"gpus": 4, "cpu": nil}, "args": nil, "elastic": map[string]any{"maxReplicas": 3}},
		},
		"artifacts": map[string]any{"s3": map[string]any{"bucket": "y"}},
		"gitops":    map[string]any{"path": "deploy"},
	}
	orig, want := base(), base()
	eff := copyAlong(orig, patch)
	applyOverrides(eff, clone(patch).(map[string]any), "", "environments.prod.overrides", map[string]diag.Pos{})
	if !reflect.DeepEqual(orig, want) {
		t.Errorf("patching the copy changed the base:\n got %v\nwant %v", orig, want)
	}
	a := eff["training"].(map[string]any)["a"].(map[string]any)
	if got := a["resources"]; !reflect.DeepEqual(got, map[string]any{"gpus": 4}) {
		t.Errorf("training.a.resources = %v, want the patched object", got)
	}
	if _, ok := a["args"]; ok {
		t.Errorf("training.a.args = %v, want it deleted", a["args"])
	}
	if got := eff["artifacts"].(map[string]any)["s3"].(map[string]any)["bucket"]; got != "y" {
		t.Errorf("artifacts.s3.bucket = %v, want y", got)
	}
	b, origB := eff["training"].(map[string]any)["b"], orig["training"].(map[string]any)["b"]
	if reflect.ValueOf(b).UnsafePointer() != reflect.ValueOf(origB).UnsafePointer() {
		t.Errorf("training.b was copied; an entry the patch does not name is shared with the base")
	}
}
