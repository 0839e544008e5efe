package policy

import (
	"maps"
	"slices"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/platform"
	"github.com/kiln-ml/kiln/render/training"
)

// Check holds each environment of res to the policy rules the compiler
// left to it (ir.Environment.Policy).
func Check(res *render.Result) diag.List {
	var diags diag.List
	for _, e := range res.Environments {
		i := slices.IndexFunc(res.System.Environments, func(ie *ir.Environment) bool { return ie.Name == e.Name })
		if i < 0 {
			continue
		}
		env := res.System.Environments[i]
		for _, r := range env.Policy {
			var d diag.List
			switch r.Name {
			case "gpusPerJob":
				d = perJob(env, r)
			case "gpusPerEnvironment":
				d = perEnvironment(env, e.GPUDemands, r)
			}
			for _, x := range d {
				x.Envs = []string{env.Name}
				if r.Pos.IsValid() {
					x.Related = []diag.Pos{r.Pos}
				}
				diags.Add(x)
			}
		}
	}
	return diags.MergeEnvs(res.System.EnvironmentNames())
}

// perJob checks the GPUs of each training entry's job, wherever it runs.
func perJob(env *ir.Environment, r ir.PolicyRule) diag.List {
	var diags diag.List
	for _, name := range slices.Sorted(maps.Keys(env.Spec.Training)) {
		t := env.Spec.Training[name]
		if t.Resources.GPUs == 0 {
			continue
		}
		total, breakdown := training.GPUs(t)
		if r.Allows(total) {
			continue
		}
		path := ir.Path("training", name, "resources", "gpus")
		diags.Add(diag.Errorf(env.Sources.Pos(path), path, "the job asks for %d GPUs in all (%s), which breaks policy rule %s: it must satisfy %s", total, breakdown, r.Name, r.Text))
	}
	return diags
}

// perEnvironment checks what the environment may need at once at worst,
// per GPU resource: what is held for good plus the largest run.
func perEnvironment(env *ir.Environment, demands []render.GPUDemand, r ir.PolicyRule) diag.List {
	var diags diag.List
	for _, b := range platform.Budgets(demands) {
		worst := b.Held + b.Largest
		if r.Allows(worst) {
			continue
		}
		path := ir.Path("environments", env.Name, "gpu")
		largest := ""
		if b.LargestPath != "" {
			largest = " (" + b.LargestPath + ")"
		}
		diags.Add(diag.Errorf(env.Sources.Pos(path), path, "%s may need %d of %s at once at worst (held for good %d + largest run %d%s), which breaks policy rule %s: it must satisfy %s", env.Name, worst, b.Resource, b.Held, b.Largest, largest, r.Name, r.Text))
	}
	return diags
}
