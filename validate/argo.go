package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	argovalidate "github.com/argoproj/argo-workflows/v3/workflow/validate"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// argoKinds are the kinds Argo's own validator checks. The CRDs say little
// about them (their schemas are largely non-structural), so the controller's
// validator is the real oracle: DAG references, parameters and artifacts
// resolve, expressions parse, cron schedules are valid.
var argoKinds = map[string]bool{"Workflow": true, "WorkflowTemplate": true, "CronWorkflow": true}

// templates resolves templateRefs between the WorkflowTemplates validated
// together, the way the controller resolves them in the cluster.
type templates map[string]*wfv1.WorkflowTemplate

// Get implements templateresolution.WorkflowTemplateNamespacedGetter.
func (t templates) Get(name string) (*wfv1.WorkflowTemplate, error) {
	if wt, ok := t[name]; ok {
		return wt, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Group: "argoproj.io", Resource: "workflowtemplates"}, name)
}

// clusterTemplates resolves no ClusterWorkflowTemplate: kiln emits none.
type clusterTemplates struct{}

// Get implements templateresolution.ClusterWorkflowTemplateGetter.
func (clusterTemplates) Get(name string) (*wfv1.ClusterWorkflowTemplate, error) {
	return nil, apierrors.NewNotFound(schema.GroupResource{Group: "argoproj.io", Resource: "clusterworkflowtemplates"}, name)
}

// isArgo reports whether gvk is checked by Argo's validator.
func isArgo(gvk schema.GroupVersionKind) bool {
	return gvk.Group == "argoproj.io" && gvk.Version == "v1alpha1" && argoKinds[gvk.Kind]
}

// argoMu serializes every call into Argo's validator, which is not safe
// for concurrent use: workflow/validate/validate.go (v3.6.10) keeps one
// package-wide placeholderGenerator (l.97) whose counter NextPlaceholder
// increments without a lock (workflow/common/placeholder.go:19-23) on
// every validation, and ValidateAll validates documents on several
// goroutines. Argo's validation is a small part of the work, so
// serializing it costs little.
var argoMu sync.Mutex

// argoProblems runs Argo's validator in lint mode (as `argo lint` does) on
// one Workflow, WorkflowTemplate or CronWorkflow given as JSON. Calls are
// serialized (see argoMu).
func argoProblems(j []byte, kind string, tmpls templates) []string {
	argoMu.Lock()
	defer argoMu.Unlock()
	if tmpls == nil {
		tmpls = templates{}
	}
	opts := argovalidate.ValidateOpts{Lint: true}
	var err error
	switch kind {
	case "Workflow":
		var wf wfv1.Workflow
		if err = json.Unmarshal(j, &wf); err == nil {
			err = argovalidate.ValidateWorkflow(tmpls, clusterTemplates{}, &wf, opts)
		}
	case "WorkflowTemplate":
		var wt wfv1.WorkflowTemplate
		if err = json.Unmarshal(j, &wt); err == nil {
			opts.WorkflowTemplateValidation = true
			err = argovalidate.ValidateWorkflowTemplate(tmpls, clusterTemplates{}, &wt, opts)
		}
	case "CronWorkflow":
		var cw wfv1.CronWorkflow
		if err = json.Unmarshal(j, &cw); err == nil {
			err = argovalidate.ValidateCronWorkflow(context.Background(), tmpls, clusterTemplates{}, &cw)
		}
	}
	if err != nil {
		return []string{fmt.Sprintf("%s: argo: %s", documentPath, oneLine(err.Error()))}
	}
	return nil
}

// workflowTemplates decodes the WorkflowTemplates among docs so that
// Workflows and CronWorkflows referring to them can be checked.
func workflowTemplates(docs [][]byte) templates {
	out := templates{}
	for _, doc := range docs {
		u, j, problems := decode(doc)
		if problems != nil || u.GetKind() != "WorkflowTemplate" || !isArgo(u.GroupVersionKind()) {
			continue
		}
		var wt wfv1.WorkflowTemplate
		if json.Unmarshal(j, &wt) == nil {
			out[wt.Name] = &wt
		}
	}
	return out
}
