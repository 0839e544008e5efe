package platform_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/platform"
)

// gpuEnv is an environment with a GPU quota of 16 (8 per pod) and the
// entries of spec.
func gpuEnv(spec *ir.Spec) *ir.Environment {
	return &ir.Environment{Name: "prod", Namespace: "fraud", GPU: ir.GPUPolicy{Quota: 16, MaxPerPod: 8}, Spec: spec}
}

func demands(t *testing.T, spec *ir.Spec) map[string]render.GPUDemand {
	t.Helper()
	out := map[string]render.GPUDemand{}
	for _, d := range needsOf(gpuEnv(spec)).GPUDemands() {
		out[d.Path+" "+d.Resource] = d
	}
	return out
}

// Each kind of entry declares what it may hold at once: a job every
// worker, serving every replica of both versions at the maximum (the
// minimum always), a sweep its parallel trials, a pipeline the sum of its
// steps, a notebook its pod for as long as it exists.
func TestGPUDemandPerKind(t *testing.T) {
	gpus := func(n int) ir.Resources { return ir.Resources{GPUs: n} }
	t.Run("training", func(t *testing.T) {
		d := demands(t, &ir.Spec{Training: map[string]*ir.Training{
			"big": {Framework: "pytorch", Image: "r/t:1", Workers: 3, Resources: gpus(2)},
		}})
		assert.Equal(t, render.GPUDemand{Path: "training.big", Resource: "nvidia.com/gpu", Peak: 6, What: "3 workers × 2"}, d["training.big nvidia.com/gpu"])
	})
	t.Run("training run by a pipeline step counts once, in the pipeline", func(t *testing.T) {
		d := demands(t, &ir.Spec{
			Training: map[string]*ir.Training{"big": {Framework: "pytorch", Image: "r/t:1", Workers: 2, Resources: gpus(2)}},
			Pipelines: map[string]*ir.Pipeline{"p": {Steps: map[string]*ir.Step{
				"prep":  {Image: "r/p:1", Resources: &ir.Resources{GPUs: 1}, WithItems: []ir.Value{{RawMessage: []byte(`"a"`)}, {RawMessage: []byte(`"b"`)}}},
				"train": {Training: "big", After: []string{"prep"}},
			}}},
		})
		assert.NotContains(t, d, "training.big nvidia.com/gpu")
		p := d["pipelines.p nvidia.com/gpu"]
		assert.Equal(t, 6, p.Peak, "2 items × 1 + 2 workers × 2")
		assert.Zero(t, p.Held)
	})
	t.Run("sweep", func(t *testing.T) {
		d := demands(t, &ir.Spec{
			Training: map[string]*ir.Training{"big": {Framework: "pytorch", Image: "r/t:1", Workers: 1, Resources: gpus(2)}},
			Sweeps:   map[string]*ir.Sweep{"tune": {Trial: "big", Backend: "argo", Parallel: 3, MaxTrials: 6, Algorithm: "random"}},
		})
		assert.Equal(t, 6, d["sweeps.tune nvidia.com/gpu"].Peak)
	})
	t.Run("serving, both versions", func(t *testing.T) {
		d := demands(t, &ir.Spec{Serving: map[string]*ir.Serving{"m": {
			Runtime: "kserve", Model: ir.ServingModel{Format: "sklearn", StorageURI: "s3://b/m/1"},
			Canary:   &ir.Canary{StorageURI: "s3://b/m/2", Percent: 10},
			Replicas: ir.ReplicaRange{Min: 1, Max: 3}, Resources: gpus(2),
		}}})
		m := d["serving.m nvidia.com/gpu"]
		assert.Equal(t, 4, m.Held, "1 replica × 2 GPUs × 2 versions")
		assert.Equal(t, 12, m.Peak, "3 replicas × 2 GPUs × 2 versions")
	})
	t.Run("notebook", func(t *testing.T) {
		d := demands(t, &ir.Spec{Notebooks: map[string]*ir.Notebook{"nb": {Image: "r/n:1", Resources: gpus(1)}}})
		assert.Equal(t, render.GPUDemand{Path: "notebooks.nb", Resource: "nvidia.com/gpu", Held: 1, Peak: 1, What: "one pod"}, d["notebooks.nb nvidia.com/gpu"])
	})
	t.Run("MIG slices are a resource of their own", func(t *testing.T) {
		d := demands(t, &ir.Spec{Notebooks: map[string]*ir.Notebook{"nb": {Image: "r/n:1", Resources: ir.Resources{GPUs: 2, MIG: "1g.5gb"}}}})
		assert.Equal(t, 2, d["notebooks.nb nvidia.com/mig-1g.5gb"].Peak)
	})
}

// budgetDiags runs the platform renderer on declared demands alone.
func budgetDiags(quota int, ds ...render.GPUDemand) diag.List {
	env := gpuEnv(&ir.Spec{})
	env.GPU.Quota = quota
	c := &render.Context{System: &ir.System{Name: "fraud"}, Env: env, Set: render.NewSet()}
	for _, d := range ds {
		c.NeedGPUs(d)
	}
	return platform.Renderer{}.Render(c)
}

func TestGPUBudget(t *testing.T) {
	serving := render.GPUDemand{Path: "serving.m", Resource: "nvidia.com/gpu", Held: 2, Peak: 8, What: "4 replicas × 2"}
	nb := render.GPUDemand{Path: "notebooks.nb", Resource: "nvidia.com/gpu", Held: 2, Peak: 2, What: "one pod"}
	job := render.GPUDemand{Path: "training.big", Resource: "nvidia.com/gpu", Peak: 8, What: "4 workers × 2"}
	sweep := render.GPUDemand{Path: "sweeps.tune", Resource: "nvidia.com/gpu", Peak: 6, What: "3 trials at once × 2"}

	// Held 4, largest extra 8 (the job or serving's scale-up): 12 fits;
	// everything at once is 24.
	ds := budgetDiags(12, serving, nb, job, sweep)
	require.Len(t, ds, 1)
	assert.Equal(t, diag.Warning, ds[0].Severity)
	assert.Equal(t, "environments.prod.gpu.quota", ds[0].Path)
	assert.Equal(t, "prod's entries may ask for 24 GPUs at once, more than its quota of 12: they fit only if runs take turns (the rest wait in the queue); by entry: notebooks.nb 2 (one pod), serving.m 2–8 (4 replicas × 2), sweeps.tune 6 (3 trials at once × 2), training.big 8 (4 workers × 2)", ds[0].Msg)

	// 11 cannot hold 4 + 8.
	ds = budgetDiags(11, serving, nb, job, sweep)
	require.Len(t, ds, 1)
	assert.Equal(t, diag.Error, ds[0].Severity)
	assert.Contains(t, ds[0].Msg, "prod needs at least 12 GPUs at once, more than its quota of 11: long-running entries hold 4 and the largest run or scale-up (training.big) adds 8; lower them or raise the quota; by entry: ")

	// Everything at once fits: nothing to say.
	assert.Empty(t, budgetDiags(24, serving, nb, job, sweep))
	// An entry alone beyond the quota is its own error, at the entry.
	assert.Empty(t, budgetDiags(7, job, sweep))
	// No quota: the entries report it.
	assert.Empty(t, budgetDiags(0, job, sweep))
	// Each resource is capped on its own.
	mig := render.GPUDemand{Path: "notebooks.m", Resource: "nvidia.com/mig-1g.5gb", Held: 8, Peak: 8, What: "one pod"}
	assert.Empty(t, budgetDiags(8, job, mig))
}
