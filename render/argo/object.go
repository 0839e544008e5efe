package argo

import (
	"encoding/json"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/jsonmap"
)

// Group, version and kinds of Argo Workflows objects.
const (
	Group                = "argoproj.io"
	APIVersion           = "argoproj.io/v1alpha1"
	KindWorkflowTemplate = "WorkflowTemplate"
	KindCronWorkflow     = "CronWorkflow"
	KindWorkflow         = "Workflow"
)

// Object is a wfv1 object (or any render.Object) that marshals cleanly:
// without the empty inputs, outputs, arguments and metadata structs and
// the zero status that Argo's Go types emit (their struct fields carry
// omitempty, which encoding/json ignores for structs). Those would be
// noise in every diff, and Argo CD would see the status as drift.
type Object struct {
	render.Object
	err error
}

// Wrap returns o ready for a render.Set. A WorkflowTemplate or Workflow
// that defines templates gets the executor settings (Executor) here, so
// every workflow kiln writes has them, whichever renderer built it.
func Wrap(o render.Object) *Object {
	w := &Object{Object: o}
	var spec *wfv1.WorkflowSpec
	switch o := o.(type) {
	case *wfv1.WorkflowTemplate:
		spec = &o.Spec
	case *wfv1.Workflow:
		spec = &o.Spec
	}
	if spec != nil && len(spec.Templates) > 0 {
		w.err = Executor(spec)
	}
	return w
}

// Unwrap returns the wrapped object.
func (o *Object) Unwrap() render.Object { return o.Object }

// MarshalJSON implements json.Marshaler.
func (o *Object) MarshalJSON() ([]byte, error) {
	m, err := o.MarshalMap()
	if err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// MarshalMap implements render.MapMarshaler: render.Marshal encodes the
// pruned map. The map is built from the typed object directly
// (jsonmap), not through JSON text: workflows are kiln's largest objects.
func (o *Object) MarshalMap() (map[string]any, error) {
	if o.err != nil {
		return nil, o.err
	}
	m, err := jsonmap.Map(o.Object)
	if err != nil {
		return nil, err
	}
	delete(m, "status")
	prune(m)
	return m, nil
}

// emptyMeansUnset are the keys whose empty object Argo treats exactly as
// an absent one. Others (emptyDir: {}) carry meaning and stay.
var emptyMeansUnset = map[string]bool{
	"inputs": true, "outputs": true, "arguments": true, "metadata": true,
	"resources": true, "podMetadata": true, "workflowMetadata": true,
}

// prune drops nulls and empty objects under emptyMeansUnset keys, depth
// first, so a struct left empty by pruning goes too.
func prune(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			prune(e)
			switch e := e.(type) {
			case nil:
				delete(v, k)
			case map[string]any:
				if len(e) == 0 && emptyMeansUnset[k] {
					delete(v, k)
				}
			}
		}
	case []any:
		for _, e := range v {
			prune(e)
		}
	}
}

// WorkflowTemplate returns an empty WorkflowTemplate named name.
func WorkflowTemplate(name string) *wfv1.WorkflowTemplate {
	return &wfv1.WorkflowTemplate{
		TypeMeta:   metav1.TypeMeta{APIVersion: APIVersion, Kind: KindWorkflowTemplate},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}
}

// Kinds are the Argo Workflows kinds pipelines and sweeps emit (Argo CD
// has health checks for them built in).
func Kinds() []render.Kind {
	return []render.Kind{
		{Group: Group, Version: "v1alpha1", Kind: KindWorkflowTemplate, Plural: "workflowtemplates", Order: render.OrderWorkload},
		{Group: Group, Version: "v1alpha1", Kind: KindCronWorkflow, Plural: "cronworkflows", Order: render.OrderWorkload},
	}
}
