package plugins_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/argo"
	"github.com/kiln-ml/kiln/render/argocd"
)

// trainJob is a kind no built-in renderer knows, shaped like KubeRay's
// RayJob: everything the rest of kiln needs about it is in its
// descriptor. (It was Trainer v2's TrainJob until render/training came to
// render that kind itself.)
var trainJob = render.Kind{
	Group: "ray.io", Version: "v1", Kind: "RayJob", Plural: "rayjobs",
	Order: render.OrderWorkload,
	Health: `hs = {status = "Progressing", message = "waiting"}
return hs
`,
	ControllerFields: []string{"/spec/suspend"},
	Done:             "status.completionTime",
	Failed:           "status.conditions.0.type==Failed",
	PodJobLabel:      "ray.io/cluster",
}

// trainJobs is a test-only renderer: a standalone TrainJob, and a
// WorkflowTemplate whose step creates one and waits for it.
type trainJobs struct{}

func (trainJobs) Name() string         { return "trainjobs" }
func (trainJobs) Kinds() []render.Kind { return []render.Kind{trainJob} }
func (trainJobs) Render(c *render.Context) diag.List {
	job := func() *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"entrypoint": "python tune.py"}}}
		u.SetAPIVersion(trainJob.APIVersion())
		u.SetKind(trainJob.Kind)
		u.SetName("llm")
		return u
	}
	c.Add(job(), c.Origin("trainjobs.llm", "training", "llm"))

	j := job()
	j.SetNamespace(c.Env.Namespace)
	step, err := argo.TrainingTemplate(argo.TrainingInput{Name: "train", Job: j, Kind: trainJob, JobName: "{{workflow.name}}-llm"})
	if err != nil {
		c.Errorf("trainjobs.llm", "%v", err)
		return nil
	}
	wt := argo.WorkflowTemplate("finetune")
	wt.Spec.ServiceAccountName = render.WorkflowServiceAccount(c.System)
	wt.Spec.Entrypoint = step.Name
	wt.Spec.Templates = []wfv1.Template{step}
	c.Add(argo.Wrap(wt), c.Origin("trainjobs.llm", "pipeline", "finetune"))
	c.NeedJobAccess(trainJob, "create", "get", "patch", "delete")
	return nil
}

const contractSpec = `package contract

name:      "demo"
namespace: "demo-ml"
gitops: {
	repoURL:      "https://example.com/config.git"
	path:         "rendered"
	healthChecks: true
}
environments: dev: {}
`

// withRenderer inserts r among the built-ins before the platform
// renderer, as a new target's line in Builtins would.
func withRenderer(r render.Renderer) []render.Renderer {
	var out []render.Renderer
	for _, b := range plugins.Builtins() {
		if b.Name() == "platform" {
			out = append(out, r)
		}
		out = append(out, b)
	}
	return out
}

// TestNewKindFromDescriptor: a renderer of a new kind gets its apply order
// and sync wave, its Argo CD health check and ignoreDifferences, the
// conditions its workflow step waits for and the workflow Role's
// permissions from its descriptor and declared needs alone, with no edit
// to any other package.
func TestNewKindFromDescriptor(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(contractSpec), 0o644))
	sys, diags := compiler.Compile(context.Background(), dir, compiler.Options{})
	require.False(t, diags.HasErrors(), "%v", diags)
	res, diags := render.Render(context.Background(), sys, render.Options{Renderers: withRenderer(trainJobs{})})
	require.False(t, diags.HasErrors(), "%v", diags)
	env := res.Environments[0]

	// Order, namespace and wave.
	var kinds []string
	var job render.Item
	for _, it := range env.Items {
		kinds = append(kinds, it.GVK().Kind)
		if it.GVK().Kind == trainJob.Kind {
			job = it
		}
	}
	require.NotNil(t, job.Object, "no %s in %v", trainJob.Kind, kinds)
	assert.Greater(t, slices.Index(kinds, trainJob.Kind), slices.Index(kinds, "RoleBinding"), "applied after the platform objects: %v", kinds)
	assert.Equal(t, "demo-ml", job.Object.GetNamespace())
	assert.Equal(t, "0", job.Object.GetAnnotations()["argocd.argoproj.io/sync-wave"])

	// The workflow step waits for the kind's own conditions.
	var step *wfv1.ResourceTemplate
	for _, it := range env.Items {
		if wt, ok := it.Object.(*argo.Object); ok && it.Object.GetName() == "finetune" {
			step = wt.Unwrap().(*wfv1.WorkflowTemplate).Spec.Templates[0].Resource
		}
	}
	require.NotNil(t, step)
	assert.Equal(t, trainJob.Done, step.SuccessCondition)
	assert.Equal(t, trainJob.Failed, step.FailureCondition)

	// The workflow Role lets the step create, poll and delete the kind.
	var role *rbacv1.Role
	for _, it := range env.Items {
		if r, ok := it.Object.(*rbacv1.Role); ok && r.Name == render.WorkflowServiceAccount(sys) {
			role = r
		}
	}
	require.NotNil(t, role, "no workflow Role")
	assert.Contains(t, role.Rules, rbacv1.PolicyRule{APIGroups: []string{"ray.io"}, Resources: []string{"rayjobs"}, Verbs: []string{"create", "get", "delete", "patch"}})
	assert.Contains(t, role.Rules, rbacv1.PolicyRule{APIGroups: []string{"argoproj.io"}, Resources: []string{"workflows/finalizers"}, Verbs: []string{"update"}})

	// Argo CD: the health check and the fields the controller owns.
	require.Len(t, res.Dirs, 1)
	d := res.Dirs[0]
	var cm struct {
		Data map[string]string `json:"data"`
	}
	require.NoError(t, yaml.Unmarshal(d.Files[argocd.HealthFile], &cm))
	assert.Equal(t, trainJob.Health, cm.Data[argocd.HealthKey(trainJob.Group, trainJob.Kind)])
	var app *argocd.Application
	for _, it := range d.Items {
		if a, ok := it.Object.(*argocd.Application); ok {
			app = a
		}
	}
	require.NotNil(t, app)
	assert.Contains(t, app.Spec.IgnoreDifferences, argocd.IgnoreDifferences{Group: trainJob.Group, Kind: trainJob.Kind, JSONPointers: []string{"/spec/suspend"}})
}
