package argo

import (
	"encoding/json"
	"fmt"
	"sync"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"
)

// Names Argo gives the executor (argoexec) containers of a step pod.
const (
	InitContainer = "init"
	WaitContainer = "wait"
)

// ExecutorResources are the requests (and memory limit) of Argo's executor
// containers. The controller gives them its configmap's executor.resources,
// empty by default, and a namespace whose ResourceQuota covers CPU or
// memory rejects a pod with any container that requests neither. The
// executor copies artifacts and reports results; it needs little.
func ExecutorResources() corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("100m"),
			corev1.ResourceMemory: resource.MustParse("128Mi"),
		},
		Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
	}
}

// ExecutorSecurityContext is the restricted profile for Argo's executor
// containers. The controller gives them its configmap's
// executor.securityContext, nil by default, and locks down only the
// containers of resource templates (common.MinimalCtrSC). The argoexec
// image runs as a non-root numeric user (8737), so runAsNonRoot holds
// without a runAsUser; the pod's own runAsUser, when set, wins anyway.
func ExecutorSecurityContext() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot:             new(true),
		AllowPrivilegeEscalation: new(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// Executor makes the containers Argo adds to every step pod meet the
// restricted Pod Security profile and request CPU and memory, whatever the
// controller's configmap says, through podSpecPatch (argo v3.6.10
// workflow/controller/workflowpod.go: the controller builds the whole pod,
// executor containers included, then applies the workflow's podSpecPatch
// and then the template's, each a strategic merge into the PodSpec, where
// containers merge by name):
//
//   - the workflow-level patch names only the init container, which every
//     step pod has (container, script, containerSet, resource and data
//     templates alike);
//   - a container, script or containerSet template's own patch names the
//     wait container, which only those pods have: a patch naming a
//     container the pod lacks would add a container with no image;
//   - a resource template's patch names main, which is argoexec there
//     (no wait); its securityContext is Argo's lock-down already, the
//     patch adds the resources.
//
// A user step's main container is never named, so its resources and
// security context stay as kiln wrote them. An existing template patch is
// kept, with the executor's merged into it. Templates without a pod
// (steps, dag, suspend) are left alone.
func Executor(spec *wfv1.WorkflowSpec) error {
	wf, err := executorPatch(spec.PodSpecPatch, true, InitContainer)
	if err != nil {
		return fmt.Errorf("workflow podSpecPatch: %w", err)
	}
	spec.PodSpecPatch = wf
	for i := range spec.Templates {
		if err := executorTemplate(&spec.Templates[i]); err != nil {
			return err
		}
	}
	return nil
}

func executorTemplate(t *wfv1.Template) error {
	var name string
	switch {
	case t.Container != nil || t.Script != nil || t.ContainerSet != nil:
		name = WaitContainer
	case t.Resource != nil:
		name = MainContainer
	default:
		for i := range t.Steps {
			for j := range t.Steps[i].Steps {
				if in := t.Steps[i].Steps[j].Inline; in != nil {
					if err := executorTemplate(in); err != nil {
						return err
					}
				}
			}
		}
		if t.DAG != nil {
			for i := range t.DAG.Tasks {
				if in := t.DAG.Tasks[i].Inline; in != nil {
					if err := executorTemplate(in); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	p, err := executorPatch(t.PodSpecPatch, false, name)
	if err != nil {
		return fmt.Errorf("template %s podSpecPatch: %w", t.Name, err)
	}
	t.PodSpecPatch = p
	return nil
}

// executorPatch merges the patch of the executor container name (an init
// container when init is set) into the patch existing. Most templates
// have no patch of their own, and then the result is always the same:
// it is made once per container, not once per template (a strategic merge
// and a YAML encoding each, a tenth of rendering a large system).
func executorPatch(existing string, init bool, name string) (string, error) {
	add := func() (string, error) {
		spec := corev1.PodSpec{Containers: []corev1.Container{executorContainer(name)}}
		if init {
			spec = corev1.PodSpec{InitContainers: spec.Containers}
		}
		return mergePatch(existing, spec)
	}
	if existing != "" {
		return add()
	}
	key := fmt.Sprint(init, name)
	if p, ok := executorPatches.Load(key); ok {
		return p.(string), nil
	}
	p, err := add()
	if err == nil {
		executorPatches.Store(key, p)
	}
	return p, err
}

// executorPatches holds executorPatch's results for templates without a
// patch of their own, by init and container name.
var executorPatches sync.Map

// executorContainer is the patch of one executor container: only the
// fields kiln sets, so the merge leaves the rest as Argo built it.
func executorContainer(name string) corev1.Container {
	return corev1.Container{Name: name, Resources: ExecutorResources(), SecurityContext: ExecutorSecurityContext()}
}

// mergePatch merges add into the patch existing (YAML or JSON, may be
// empty) and returns it as YAML.
func mergePatch(existing string, add corev1.PodSpec) (string, error) {
	b, err := clean(add)
	if err != nil {
		return "", err
	}
	if existing != "" {
		old, err := yaml.YAMLToJSON([]byte(existing))
		if err != nil {
			return "", err
		}
		if b, err = strategicpatch.StrategicMergePatch(old, b, corev1.PodSpec{}); err != nil {
			return "", err
		}
	}
	y, err := yaml.JSONToYAML(b)
	return string(y), err
}

// clean marshals v holding only what was set: a PodSpec marshals
// "containers": null, which in a strategic merge patch deletes the list.
func clean(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	prune(m)
	return json.Marshal(m)
}
