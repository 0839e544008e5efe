package argo

import (
	"encoding/json"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v3/workflow/common"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/validate"
)

// argoPod builds the pod spec Argo v3.6.10's controller builds for tmpl
// with a default configmap (workflow/controller/workflowpod.go,
// createWorkflowPod and newExecContainer) before it applies podSpecPatch:
// an init container always; a wait container except for resource and
// data templates; executor containers with no resources and no
// securityContext, except in resource templates, whose executor
// containers get common.MinimalCtrSC (without a read-only root for init).
// The pod security context is the template's, else the workflow's.
func argoPod(spec *wfv1.WorkflowSpec, tmpl *wfv1.Template) corev1.PodSpec {
	exec := func(name string) corev1.Container {
		c := corev1.Container{Name: name, Image: "quay.io/argoproj/argoexec:v3.6.10", Command: []string{"argoexec", name}}
		if tmpl.Resource != nil {
			c.SecurityContext = common.MinimalCtrSC()
			if name == InitContainer {
				c.SecurityContext.ReadOnlyRootFilesystem = nil
			}
		}
		return c
	}
	ps := corev1.PodSpec{InitContainers: []corev1.Container{exec(InitContainer)}}
	switch {
	case tmpl.Resource != nil:
		ps.Containers = []corev1.Container{exec(MainContainer)}
	case tmpl.Container != nil:
		main := *tmpl.Container.DeepCopy()
		main.Name = MainContainer
		ps.Containers = []corev1.Container{exec(WaitContainer), main}
	}
	ps.SecurityContext = tmpl.SecurityContext
	if ps.SecurityContext == nil {
		ps.SecurityContext = spec.SecurityContext
	}
	return ps
}

// applyPodSpecPatch applies patches to ps the way argo v3.6.10's
// workflow/util.ApplyPodSpecPatch does (that package cannot be imported
// here: it pulls in Argo's server): each patch, YAML converted to JSON,
// must decode as a PodSpec and is then strategic-merged into the
// marshalled pod spec, in order.
func applyPodSpecPatch(ps corev1.PodSpec, patches ...string) (*corev1.PodSpec, error) {
	b, err := json.Marshal(ps)
	if err != nil {
		return nil, err
	}
	for _, p := range patches {
		pj, err := yaml.YAMLToJSON([]byte(p))
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(pj, &corev1.PodSpec{}); err != nil {
			return nil, err
		}
		if b, err = strategicpatch.StrategicMergePatch(b, pj, corev1.PodSpec{}); err != nil {
			return nil, err
		}
	}
	var out corev1.PodSpec
	return &out, json.Unmarshal(b, &out)
}

func podDoc(t *testing.T, ps corev1.PodSpec) []byte {
	t.Helper()
	b, err := render.Marshal(&corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: ps})
	require.NoError(t, err)
	return b
}

// TestExecutorPatchSecuresArgoPods applies the podSpecPatch kiln writes
// as Argo's controller does (util.ApplyPodSpecPatch, workflow patch first, then
// the template's, as the controller does) to the pods Argo builds, and
// holds every container of them to restricted and to requesting CPU and
// memory, without touching a user step's main container.
func TestExecutorPatchSecuresArgoPods(t *testing.T) {
	wt := workflowTemplate(t).Unwrap().(*wfv1.WorkflowTemplate)
	spec := &wt.Spec
	require.NotEmpty(t, spec.PodSpecPatch)
	pods := 0
	for i := range spec.Templates {
		tmpl := &spec.Templates[i]
		if tmpl.Container == nil && tmpl.Resource == nil {
			assert.Empty(t, tmpl.PodSpecPatch, "%s has no pod", tmpl.Name)
			continue
		}
		pods++
		before := argoPod(spec, tmpl)
		// Without kiln's patch the executor containers of a container
		// step break restricted (the bug this guards against).
		if tmpl.Container != nil {
			assert.NotEmpty(t, validate.RestrictedViolations(podDoc(t, before)), tmpl.Name)
		}
		var patches []string
		for _, p := range []string{spec.PodSpecPatch, tmpl.PodSpecPatch} {
			if p != "" {
				patches = append(patches, p)
			}
		}
		after, err := applyPodSpecPatch(before, patches...)
		require.NoError(t, err, tmpl.Name)

		assert.Empty(t, validate.RestrictedViolations(podDoc(t, *after)), tmpl.Name)
		// The patch adds no container: each one it names is in the pod.
		require.Len(t, after.Containers, len(before.Containers), tmpl.Name)
		require.Len(t, after.InitContainers, len(before.InitContainers), tmpl.Name)
		for _, c := range append(append([]corev1.Container{}, after.InitContainers...), after.Containers...) {
			assert.NotEmpty(t, c.Image, "%s/%s: a patch-made container", tmpl.Name, c.Name)
			assert.False(t, c.Resources.Requests.Cpu().IsZero(), "%s/%s requests no CPU", tmpl.Name, c.Name)
			assert.False(t, c.Resources.Requests.Memory().IsZero(), "%s/%s requests no memory", tmpl.Name, c.Name)
		}
		if tmpl.Container != nil {
			main := after.Containers[1]
			assert.True(t, apiequality.Semantic.DeepEqual(tmpl.Container.Resources, main.Resources), "the step's own resources stay: %v", main.Resources)
			assert.Equal(t, tmpl.Container.SecurityContext, main.SecurityContext, "the step's own security context stays")
		}
	}
	assert.Equal(t, 2, pods)
}

// TestExecutorKeepsExistingPatch merges into a template's own patch.
func TestExecutorKeepsExistingPatch(t *testing.T) {
	spec := &wfv1.WorkflowSpec{
		PodSpecPatch: "hostname: x\n",
		Templates: []wfv1.Template{{
			Name: "a", Container: &corev1.Container{Image: "busybox"},
			PodSpecPatch: `{"containers":[{"name":"main","env":[{"name":"A","value":"1"}]}]}`,
		}},
	}
	require.NoError(t, Executor(spec))
	ps, err := applyPodSpecPatch(argoPod(spec, &spec.Templates[0]), spec.PodSpecPatch, spec.Templates[0].PodSpecPatch)
	require.NoError(t, err)
	assert.Equal(t, "x", ps.Hostname)
	assert.Equal(t, []corev1.EnvVar{{Name: "A", Value: "1"}}, ps.Containers[1].Env)
	assert.Equal(t, ExecutorSecurityContext(), ps.Containers[0].SecurityContext)
	assert.Equal(t, ExecutorSecurityContext(), ps.InitContainers[0].SecurityContext)
	// Twice is the same as once.
	again := spec.DeepCopy()
	require.NoError(t, Executor(again))
	assert.Equal(t, spec.PodSpecPatch, again.PodSpecPatch)
	assert.Equal(t, spec.Templates[0].PodSpecPatch, again.Templates[0].PodSpecPatch)
}
