package jsonmap_test

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kiln-ml/kiln/render/jsonmap"
)

// roundTrip is the oracle: json.Marshal, then a decoder with UseNumber.
func roundTrip(t *testing.T, v any) (any, error) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out, nil
}

// same checks that jsonmap.Of(v) is what the round trip gives, errors
// included.
func same(t *testing.T, name string, v any) {
	t.Helper()
	want, wantErr := roundTrip(t, v)
	got, err := jsonmap.Of(v)
	if (err != nil) != (wantErr != nil) {
		t.Errorf("%s: error %v, want %v", name, err, wantErr)
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", name, got, want)
	}
}

type Base struct {
	A string `json:"a"`
	B int    `json:"b,omitempty"`
}

type inner struct {
	Exported string
	hidden   string
}

type withEmbedded struct {
	Base `json:",inline"`
	inner
	C float64 `json:"c,omitempty"`
}

type tagged struct {
	Base `json:"base"`
	N    int64 `json:"n,string"`
}

type oddName struct {
	Odd string `json:"odd name!"`
}

type clash struct {
	Base
	A string `json:"a"`
}

type ptrEmbed struct {
	*Base
	X int
}

type valueMarshaler struct{ n int }

func (v valueMarshaler) MarshalJSON() ([]byte, error) { return json.Marshal(v.n * 2) }

type ptrMarshaler struct{ N int }

func (p *ptrMarshaler) MarshalJSON() ([]byte, error) { return []byte(`"pointer"`), nil }

// raw encodes itself as its text.
type raw string

func (r raw) MarshalJSON() ([]byte, error) { return []byte(r), nil }

type textKey int

func (k textKey) MarshalText() ([]byte, error) { return []byte("k"), nil }

type zeroer struct{ V int }

func (z zeroer) IsZero() bool { return z.V < 0 }

type ptrZeroer struct{ V int }

func (z *ptrZeroer) IsZero() bool { return z == nil || z.V == 7 }

type kinds struct {
	Bool     bool              `json:"bool,omitempty"`
	Int8     int8              `json:"int8"`
	Uint     uint64            `json:"uint"`
	F32      float32           `json:"f32"`
	F64      float64           `json:"f64"`
	NegZero  float64           `json:"negZero,omitempty"`
	Bytes    []byte            `json:"bytes"`
	Array    [2]uint8          `json:"array"`
	Strs     []string          `json:"strs"`
	NilSlice []string          `json:"nilSlice"`
	NilMap   map[string]string `json:"nilMap"`
	IntKeys  map[int]string    `json:"intKeys"`
	TextKeys map[textKey]int   `json:"textKeys"`
	Any      any               `json:"any"`
	AnyNil   any               `json:"anyNil"`
	Ptr      *int              `json:"ptr,omitempty"`
	PtrSet   *int              `json:"ptrSet"`
	Value    valueMarshaler    `json:"value"`
	PtrM     ptrMarshaler      `json:"ptrM"`
	PtrMPtr  *ptrMarshaler     `json:"ptrMPtr"`
	PtrMNil  *ptrMarshaler     `json:"ptrMNil"`
	Zero1    zeroer            `json:"zero1,omitzero"`
	Zero2    zeroer            `json:"zero2,omitzero"`
	PZero1   ptrZeroer         `json:"pzero1,omitzero"`
	PZero2   ptrZeroer         `json:"pzero2,omitzero"`
	PZeroP   *ptrZeroer        `json:"pzeroP,omitzero"`
	Plain0   int               `json:"plain0,omitzero"`
	Struct   Base              `json:"struct,omitempty"`
	Skip     string            `json:"-"`
	Dash     string            `json:"-,"`
	Invalid  string            `json:"invalid"`
	hidden   int
}

func TestTypes(t *testing.T) {
	one := 1
	k := kinds{
		Int8: -3, Uint: math.MaxUint64, F32: 0.1, F64: 1e21, NegZero: math.Copysign(0, -1),
		Bytes: []byte("hi"), Array: [2]uint8{1, 2}, Strs: []string{"a", "\u2028", "<&>"},
		IntKeys: map[int]string{3: "x"}, TextKeys: map[textKey]int{1: 2},
		Any: map[string]any{"n": 1.5, "l": []any{true, nil}}, PtrSet: &one,
		Value: valueMarshaler{4}, PtrMPtr: &ptrMarshaler{}, Zero1: zeroer{-1}, Zero2: zeroer{0},
		PZero1: ptrZeroer{7}, PZero2: ptrZeroer{0}, PZeroP: &ptrZeroer{7},
		Dash: "dash", Invalid: "a\xffb",
	}
	same(t, "struct by value", k)
	same(t, "struct by pointer", &k)
	same(t, "in a map", map[string]kinds{"k": k})
	same(t, "in an interface slice", []any{k, &k})
	same(t, "embedded", withEmbedded{Base: Base{A: "a", B: 2}, inner: inner{Exported: "e", hidden: "h"}, C: -0.5})
	same(t, "tagged embedded, string option", tagged{Base: Base{A: "a"}, N: 42})
	same(t, "clash", clash{Base: Base{A: "inner"}, A: "outer"})
	same(t, "embedded pointer", ptrEmbed{Base: &Base{A: "a"}, X: 1})
	same(t, "nil embedded pointer", ptrEmbed{X: 1})
	same(t, "odd name", oddName{Odd: "odd"})
	for _, r := range []raw{`"plain"`, `"a\"b"`, "\"a\xffb\"", "\"\u2028\"", `-1.50e3`, `0`, `true`, `false`, `null`, ` { "x" : [1, "y"] } `, `[]`, `"<&>"`} {
		same(t, "raw "+string(r), map[string]any{"r": r, "p": &r})
	}
	same(t, "NaN", map[string]float64{"x": math.NaN()})
	same(t, "nil", nil)
	same(t, "invalid key", map[string]int{"\xfe": 1})
}

// TestKubernetesTypes: the types kiln's objects are made of, with their
// own encodings (quantities, int-or-strings, times) and omitzero.
func TestKubernetesTypes(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC))
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"a": "b"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "i",
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("500m"), "nvidia.com/gpu": resource.MustParse("2"),
			}},
			Ports:         []corev1.ContainerPort{{ContainerPort: 80}},
			LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromString("http")}}},
		}}},
	}
	same(t, "pod", pod)
	pod.CreationTimestamp = now
	same(t, "pod with a creation time", pod)
	same(t, "pod by value", *pod)
}

// BenchmarkMap compares the walk with the JSON round trip it replaces,
// on a pod of the size kiln renders.
func BenchmarkMap(b *testing.B) {
	pod := benchPod()
	b.Run("jsonmap", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jsonmap.Map(pod); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			js, err := json.Marshal(pod)
			if err != nil {
				b.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(js))
			dec.UseNumber()
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func benchPod() *corev1.Pod {
	c := corev1.Container{
		Name: "pytorch", Image: "registry.example/trainer:1.0",
		Command: []string{"torchrun", "train.py"}, Args: []string{"--lr=0.001", "--batch=64", "--epochs=10"},
		Env: []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
		Resources: corev1.ResourceRequirements{
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("16Gi"), "nvidia.com/gpu": resource.MustParse("1")},
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("16Gi")},
		},
		Ports: []corev1.ContainerPort{{Name: "pytorchjob-port", ContainerPort: 23456, Protocol: corev1.ProtocolTCP}},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: new(false), RunAsNonRoot: new(true),
			Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Labels: map[string]string{"app.kubernetes.io/name": "job-0", "app.kubernetes.io/part-of": "synth"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{c, c}, RestartPolicy: corev1.RestartPolicyOnFailure},
	}
}
