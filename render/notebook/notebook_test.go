package notebook

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/validate"
	"github.com/kiln-ml/kiln/validate/validatetest"
)

// restricted is the schema's default for notebooks (#NotebookSecurity).
var restricted = ir.Security{Profile: "restricted", RunAsUser: 1000, RunAsGroup: 0, FSGroup: 100}

func environment(quota int, notebooks map[string]*ir.Notebook) *ir.Environment {
	return &ir.Environment{
		Name:      "dev",
		Namespace: "derm-ml",
		GPU:       ir.GPUPolicy{Quota: quota, MaxPerPod: 4, Products: []string{"NVIDIA-A10G"}},
		Spec: &ir.Spec{
			Notebooks: notebooks,
			Datasets: map[string]*ir.Dataset{
				"shards": {URI: "pvc://derm-shards/v3", ReadOnly: true},
			},
		},
		Sources: ir.Sources{
			"":                                 {File: "spec/system.cue", Line: 1, Col: 1},
			"notebooks.explore.resources.gpus": {File: "spec/system.cue", Line: 7, Col: 16},
		},
	}
}

func renderEnv(env *ir.Environment) (*render.Result, diag.List) {
	sys := &ir.System{Name: "skin-lesion", Namespace: "derm-ml", Environments: []*ir.Environment{env}, Dir: "spec", SpecDir: "spec"}
	return render.Render(context.Background(), sys, render.Options{Renderers: []render.Renderer{Renderer{}}})
}

func TestNotebookValidatesAndIsRestricted(t *testing.T) {
	env := environment(8, map[string]*ir.Notebook{
		"explore": {
			Image:     "kubeflownotebookswg/jupyter-pytorch-cuda-full:v1.9.0",
			Resources: ir.Resources{GPUs: 1, CPU: "4", Memory: "32Gi"},
			Workspace: "50Gi",
			Datasets:  []string{"shards"},
			Security:  restricted,
		},
		"scratch_pad": {Image: "kubeflownotebookswg/jupyter-scipy:v1.9.0", Security: restricted, ServiceAccount: "pipeline-runner"},
	})
	res, diags := renderEnv(env)
	require.False(t, diags.HasErrors(), "%v", diags)
	files, err := render.Files(res)
	require.NoError(t, err)

	v := validatetest.CRDs(t)
	docs := map[string][]byte{}
	for name, b := range files {
		if strings.HasSuffix(name, "kustomization.yaml") {
			continue
		}
		docs[name] = b
		assert.Empty(t, validate.RestrictedViolations(b), name)
	}
	assert.Empty(t, v.ValidateAll(docs))

	nb := string(files["dev/skin-lesion/notebook-explore.yaml"])
	// The controller finds Jupyter by the Notebook's name, the home
	// directory is the workspace claim, and the pod lands on a GPU node.
	assert.Contains(t, nb, "name: explore\n        ports:")
	assert.Contains(t, nb, "claimName: explore-workspace")
	assert.Contains(t, nb, "mountPath: /home/jovyan")
	assert.Contains(t, nb, "nvidia.com/gpu.product: NVIDIA-A10G")
	assert.Contains(t, nb, "automountServiceAccountToken: false")

	pvc := string(files["dev/skin-lesion/persistentvolumeclaim-explore-workspace.yaml"])
	assert.Contains(t, pvc, "argocd.argoproj.io/sync-options: Prune=false,Delete=false", "Argo CD must never delete a user's work")
	assert.Contains(t, pvc, "storage: 50Gi")

	// Underscores become dashes; a notebook with its own service account
	// may call the API server; no workspace means no claim.
	pad := string(files["dev/skin-lesion/notebook-scratch-pad.yaml"])
	assert.Contains(t, pad, "automountServiceAccountToken: true")
	assert.Contains(t, pad, "serviceAccountName: pipeline-runner")
	assert.NotContains(t, files, "dev/skin-lesion/persistentvolumeclaim-scratch-pad-workspace.yaml")
}

func TestNotebookGPUChecks(t *testing.T) {
	cases := []struct {
		quota, gpus int
		want        string
	}{
		{0, 1, `notebooks.explore asks for 1 GPU; dev has no GPU quota`},
		{2, 3, `notebooks.explore asks for 3 GPUs; dev allows 2`},
		{8, 5, `notebooks.explore asks for 5 GPUs; dev allows at most 4 per pod`},
		{8, 2, ""},
	}
	for _, tc := range cases {
		env := environment(tc.quota, map[string]*ir.Notebook{
			"explore": {Image: "jupyter:1", Resources: ir.Resources{GPUs: tc.gpus}, Security: restricted},
		})
		_, diags := renderEnv(env)
		if tc.want == "" {
			assert.False(t, diags.HasErrors(), "%v", diags)
			continue
		}
		require.Len(t, diags, 1)
		d := diags[0]
		assert.Contains(t, d.Msg, tc.want)
		assert.Equal(t, "notebooks.explore.resources.gpus", d.Path)
		assert.Equal(t, diag.Pos{File: "spec/system.cue", Line: 7, Col: 16}, d.Pos)
	}
}

// Kubeflow's notebook images (kubeflownotebookswg/*, v1.9.0) start through
// s6-overlay, whose init, running without privilege escalation, accepts
// a root-owned /run only with group 0; their user jovyan is UID 1000 and
// its home belongs to group 100. A notebook that sets no security must get
// exactly that, and still meet restricted.
func TestNotebookDefaultsFitKubeflowImages(t *testing.T) {
	dir := t.TempDir()
	spec := `package lab

name:      "lab"
namespace: "lab-ml"
environments: dev: gpu: {quota: 1, products: ["NVIDIA-A10G"]}
notebooks: explore: {
	image:     "kubeflownotebookswg/jupyter-pytorch-cuda-full:v1.9.0"
	workspace: "10Gi"
}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "system.cue"), []byte(spec), 0o644))
	sys, diags := compiler.Compile(context.Background(), dir, compiler.Options{})
	require.False(t, diags.HasErrors(), "%v", diags)
	res, diags := render.Render(context.Background(), sys, render.Options{Renderers: []render.Renderer{Renderer{}}})
	require.False(t, diags.HasErrors(), "%v", diags)
	files, err := render.Files(res)
	require.NoError(t, err)
	b := files["dev/lab/notebook-explore.yaml"]
	require.NotEmpty(t, b)

	var nb Notebook
	require.NoError(t, yaml.UnmarshalStrict(b, &nb))
	psc := nb.Spec.Template.Spec.SecurityContext
	require.NotNil(t, psc)
	require.NotNil(t, psc.RunAsUser)
	require.NotNil(t, psc.RunAsGroup)
	require.NotNil(t, psc.FSGroup)
	assert.Equal(t, int64(1000), *psc.RunAsUser, "jovyan")
	assert.Equal(t, int64(0), *psc.RunAsGroup, "s6-overlay needs group 0 to start without privileges")
	assert.Equal(t, int64(100), *psc.FSGroup, "the workspace belongs to users, jovyan's group")
	assert.Empty(t, validate.RestrictedViolations(b), "group 0 is allowed by restricted")
	for _, e := range nb.Spec.Template.Spec.Containers[0].Env {
		assert.NotEqual(t, "HOME", e.Name, "the image's HOME is where the workspace is mounted")
	}
}

// A notebook's pod is held to the same pod checks as training jobs:
// datasets whose credentials would overwrite each other, MIG profiles the
// GPU lacks.
func TestNotebookPodChecks(t *testing.T) {
	env := environment(8, map[string]*ir.Notebook{
		"explore": {Image: "jupyter:1", Security: restricted, Datasets: []string{"a", "b"},
			Resources: ir.Resources{GPUs: 1, MIG: "1g.5gb", GPUProduct: "NVIDIA-A100-SXM4-80GB"}},
	})
	env.Spec.Datasets["a"] = &ir.Dataset{URI: "gs://a/", Credentials: &ir.SecretRef{Secret: "gcs-a"}}
	env.Spec.Datasets["b"] = &ir.Dataset{URI: "gs://b/", Credentials: &ir.SecretRef{Secret: "gcs-b"}}
	_, diags := renderEnv(env)
	var paths []string
	for _, d := range diags {
		assert.Equal(t, diag.Error, d.Severity)
		paths = append(paths, d.Path)
	}
	assert.ElementsMatch(t, []string{"notebooks.explore.datasets.1", "notebooks.explore.resources.gpuProduct"}, paths)
}
