package compiler

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/ir"
)

// TestBoundsReportValuesKubernetesRejects compiles specs with values the
// schema admits but Kubernetes does not, and wants an error at the value's
// position and path for each, instead of a panic or a silently wrapped
// replica count later.
const boundsBase = `package x

name:      "demo"
namespace: "demo-ns"
environments: {dev: {}, prod: {}}
training: bert: {framework: "pytorch", image: "t:1"}

`

func TestBoundsReportValuesKubernetesRejects(t *testing.T) {
	for _, tc := range []struct {
		name, extra, path, pos, msg string
	}{
		{"memory", `training: bert: resources: memory: "1e99999999999999999999"`, "training.bert.resources.memory", "spec.cue:8:", "not a quantity Kubernetes accepts"},
		{"workspace", `notebooks: nb: {image: "nb:1", workspace: "1e99999999999999999999"}`, "notebooks.nb.workspace", "spec.cue:8:", "not a quantity Kubernetes accepts"},
		{"quota", `environments: prod: quota: cpu: "1e99999999999999999999"`, "environments.prod.quota.cpu", "spec.cue:8:", "not a quantity Kubernetes accepts"},
		{"workers", `training: bert: workers: 4294967297`, "training.bert.workers", "spec.cue:8:", "at most 2147483647"},
		{"override", `environments: prod: overrides: training: bert: workers: 2147483648`, "training.bert.workers", "spec.cue:8:", "at most 2147483647"},
		// Beyond Go's int64 too: decoding fails, still at the position.
		{"workers-int64", `training: bert: workers: 99999999999999999999999`, "training.bert.workers", "spec.cue:8:", "at most 2147483647"},
		{"env-int64", `environments: prod: gpu: maxPerPod: 99999999999999999999999`, "environments.prod.gpu.maxPerPod", "spec.cue:8:", "at most 2147483647"},
		{"gpus", `training: bert: resources: gpus: 4294967298`, "training.bert.resources.gpus", "spec.cue:8:", "at most 2147483647"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := compileString(t, boundsBase+tc.extra+"\n", Options{})
			var found bool
			for _, d := range diags {
				if d.Path == tc.path && strings.Contains(d.Msg, tc.msg) && strings.Contains(d.Pos.String(), tc.pos) {
					found = true
				}
			}
			if !found {
				t.Errorf("want an error at %s%s containing %q; got:\n%v", tc.pos, tc.path, tc.msg, diags)
			}
		})
	}
}

// TestBoundsReachEveryField fills every int and Quantity field reachable
// from an environment's spec, its own settings and the system (through
// pointers, maps, lists) with a bad value and wants each one reported
// exactly once: a field added to the IR later is covered too.
func TestBoundsReachEveryField(t *testing.T) {
	for _, root := range []any{&ir.Spec{}, &ir.Environment{}, &ir.System{}} {
		v := reflect.ValueOf(root)
		want := fill(v.Elem(), 0)
		var got []string
		b := bounds{report: func(path, format string, args ...any) { got = append(got, path) }}
		b.walk("", v)
		if _, ok := root.(*ir.System); !ok && want == 0 {
			t.Errorf("%T: no field filled", root)
		}
		if len(got) != want {
			t.Errorf("%T: %d bad values set, %d reported: %v", root, want, len(got), got)
		}
	}
}

// fill sets every int to 2^32, every Quantity to a value Kubernetes
// rejects, allocates pointers and gives maps and lists one element,
// following the fields the walk follows. It returns how many it set.
func fill(v reflect.Value, depth int) int {
	if depth > 12 {
		return 0
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return fill(v.Elem(), depth+1)
	case reflect.Struct:
		n := 0
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || strings.HasPrefix(f.Tag.Get("json"), "-") {
				continue
			}
			n += fill(v.Field(i), depth+1)
		}
		return n
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return 0
		}
		e := reflect.New(v.Type().Elem()).Elem()
		n := fill(e, depth+1)
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(reflect.ValueOf("x").Convert(v.Type().Key()), e)
		return n
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		n := fill(s.Index(0), depth+1)
		v.Set(s)
		return n
	case reflect.String:
		if v.Type() == quantityType {
			v.SetString("1e99999999999999999999")
			return 1
		}
	case reflect.Int:
		v.SetInt(math.MaxInt32 + 1)
		return 1
	}
	return 0
}
