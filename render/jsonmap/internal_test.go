package jsonmap

import (
	"reflect"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestWalked: the struct types kiln's objects are mostly made of are
// walked, not handed to encoding/json, or the package saves nothing; and
// those it cannot name with certainty are handed over.
func TestWalked(t *testing.T) {
	for _, typ := range []reflect.Type{
		reflect.TypeFor[corev1.Pod](), reflect.TypeFor[corev1.PodSpec](), reflect.TypeFor[corev1.Container](),
		reflect.TypeFor[metav1.ObjectMeta](), reflect.TypeFor[corev1.Service](),
		reflect.TypeFor[wfv1.WorkflowTemplate](), reflect.TypeFor[wfv1.Template](), reflect.TypeFor[wfv1.WorkflowSpec](),
	} {
		if fieldsOf(typ).fallback {
			t.Errorf("%v goes through encoding/json", typ)
		}
	}
	type embedsPtr struct{ *corev1.Pod }
	type stringOpt struct {
		N int `json:"n,string"`
	}
	type twoNames struct {
		corev1.Pod
		Kind int `json:"kind"`
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[embedsPtr](), reflect.TypeFor[stringOpt](), reflect.TypeFor[twoNames]()} {
		if !fieldsOf(typ).fallback {
			t.Errorf("%v is walked", typ)
		}
	}
}
