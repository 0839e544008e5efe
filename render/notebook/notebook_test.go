package notebook

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/validate"
	"github.com/kiln-ml/kiln/validate/validatetest"
)

var restricted = ir.Security{Profile: "restricted", RunAsUser: 1000, RunAsGroup: 100, FSGroup: 100}

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
