package compiler

import (
	"reflect"
	"testing"
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
