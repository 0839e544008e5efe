package platform

import (
	"fmt"
	"strings"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

// Budget is an environment's summed demand for one GPU resource.
type Budget struct {
	Resource string
	// Held is what long-running entries hold for as long as they are
	// deployed (notebooks, serving's minimum replicas, LLM replicas).
	Held int
	// Largest is the most one entry adds on top of what it holds (a
	// job's run, serving scaled to its maximum); LargestPath names it.
	Largest     int
	LargestPath string
	// All is every entry at its peak at once.
	All     int
	Entries []render.GPUDemand
}

// Budgets sums GPU demands per resource; ds is sorted by resource, then
// path, as Needs.GPUDemands returns them.
func Budgets(ds []render.GPUDemand) []Budget {
	var out []Budget
	for _, d := range ds {
		if len(out) == 0 || out[len(out)-1].Resource != d.Resource {
			out = append(out, Budget{Resource: d.Resource})
		}
		b := &out[len(out)-1]
		b.Held += d.Held
		b.All += d.Peak
		if extra := d.Peak - d.Held; extra > b.Largest {
			b.Largest, b.LargestPath = extra, d.Path
		}
		b.Entries = append(b.Entries, d)
	}
	return out
}

// checkBudget holds the environment's summed GPU demand to its quota,
// which the ResourceQuota applies to each GPU resource on its own. It is
// an error when the long-running entries plus the largest single run
// cannot fit (something would wait for good), a warning when everything
// at once exceeds the quota (it fits only if runs take turns). An entry
// that alone exceeds the quota or the environment without a quota is
// reported at the entry, not again here.
func checkBudget(env *ir.Environment, needs *render.Needs) diag.List {
	var out diag.List
	quota := env.GPU.Quota
	if quota == 0 {
		return out
	}
	path := ir.Path("environments", env.Name, "gpu", "quota")
	for _, b := range Budgets(needs.GPUDemands()) {
		alone := false
		for _, d := range b.Entries {
			alone = alone || d.Peak > quota
		}
		if alone {
			continue
		}
		unit := unitOf(b.Resource)
		switch {
		case b.Held+b.Largest > quota:
			out.Add(diag.Errorf(env.Sources.Pos(path), path, "%s needs at least %d %s at once, more than its quota of %d: long-running entries hold %d and the largest run or scale-up (%s) adds %d; lower them or raise the quota; by entry: %s",
				env.Name, b.Held+b.Largest, unit, quota, b.Held, b.LargestPath, b.Largest, breakdown(b.Entries)))
		case b.All > quota:
			out.Add(diag.Warnf(env.Sources.Pos(path), path, "%s's entries may ask for %d %s at once, more than its quota of %d: they fit only if runs take turns (the rest wait in the queue); by entry: %s",
				env.Name, b.All, unit, quota, breakdown(b.Entries)))
		}
	}
	return out
}

// unitOf names a GPU resource's unit: GPUs, or a MIG profile's slices.
func unitOf(resource string) string {
	if p, ok := strings.CutPrefix(resource, "nvidia.com/mig-"); ok {
		return "MIG " + p + " slices"
	}
	return "GPUs"
}

// breakdown lists the demands, sorted by path: "serving.m 2–4 (…)".
func breakdown(ds []render.GPUDemand) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		n := fmt.Sprint(d.Peak)
		if d.Held > 0 && d.Held < d.Peak {
			n = fmt.Sprintf("%d–%d", d.Held, d.Peak)
		}
		parts[i] = fmt.Sprintf("%s %s (%s)", d.Path, n, d.What)
	}
	return strings.Join(parts, ", ")
}
