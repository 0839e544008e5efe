package sweep

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render/sweep/sample"
	"github.com/kiln-ml/kiln/suggest"
)

// MaxTrials is the most trials a sweep runs; the schema holds maxTrials
// to it too.
const MaxTrials = 1000

// Plan is a sweep's search worked out at compile time: the trials of
// grid, random and Sobol searches, the first rungs of Hyperband's
// brackets. It is what the Argo workflow's plan step reads (as JSON), and
// what the selection script and the Go tests share.
type Plan struct {
	Sweep     string         `json:"sweep"`
	Objective Objective      `json:"objective"`
	Algorithm string         `json:"algorithm"`
	Seed      int            `json:"seed"`
	Space     []PlanParam    `json:"parameters"`
	MaxTrials int            `json:"maxTrials"`
	Parallel  int            `json:"parallel"`
	MaxFailed int            `json:"maxFailedTrials"`
	Trials    []sample.Trial `json:"trials,omitempty"`
	// Hyperband: the budget arg and the brackets, each with the trials
	// of its first rung.
	Resource string    `json:"resource,omitempty"`
	Brackets []Bracket `json:"brackets,omitempty"`
}

// Objective is the metric a sweep optimises.
type Objective struct {
	Metric     string   `json:"metric"`
	Goal       string   `json:"goal"`
	Target     *float64 `json:"target"`
	Additional []string `json:"additionalMetrics"`
}

// PlanParam is a parameter as the suggestion step sees it: the request's
// parameter, one type for both sides of the suggestion contract.
type PlanParam = suggest.Param

// Bracket is a Hyperband bracket with the trials of its first rung.
type Bracket struct {
	Rungs  []sample.Rung  `json:"rungs"`
	Trials []sample.Trial `json:"trials"`
}

// NewPlan expands sw. Problems the checks report (an inverted range, a
// grid too large) make it return an error instead; the renderer reports
// the checks' diagnostics, not this error.
func NewPlan(name string, sw *ir.Sweep) (*Plan, error) {
	space := sample.FromIR(sw.Parameters)
	p := &Plan{
		Sweep: name,
		Objective: Objective{
			Metric: sw.Objective.Metric, Goal: sw.Objective.Goal, Target: sw.Objective.Target,
			Additional: sw.Objective.AdditionalMetrics,
		},
		Algorithm: sw.Algorithm, Seed: sw.Seed, MaxTrials: sw.MaxTrials, Parallel: sw.Parallel,
		MaxFailed: sw.MaxFailedTrials,
	}
	if p.Objective.Additional == nil {
		p.Objective.Additional = []string{}
	}
	for _, sp := range space {
		pp := PlanParam{Name: sp.Name, Type: sp.Type, Values: sp.Values}
		if sp.Numeric() {
			lo, hi := sp.Min, sp.Max
			pp.Min, pp.Max = &lo, &hi
			pp.Scale = "linear"
			if sp.Log {
				pp.Scale = "log"
			}
			if sp.Step > 0 {
				st := sp.Step
				pp.Step = &st
			}
		}
		p.Space = append(p.Space, pp)
	}
	var err error
	switch sw.Algorithm {
	case "grid":
		p.Trials, err = sample.Grid(space, min(sw.MaxTrials, MaxTrials))
	case "random":
		p.Trials = sample.Random(space, sw.MaxTrials, int64(sw.Seed))
	case "sobol":
		p.Trials, err = sample.Sobol(space, sw.MaxTrials, int64(sw.Seed))
	case "hyperband":
		hb := sw.Hyperband
		if hb == nil {
			return nil, fmt.Errorf("hyperband needs the hyperband settings")
		}
		p.Resource = hb.Resource
		// One random draw for all brackets, split in order, so each
		// bracket starts different configurations.
		brackets := sample.Hyperband(hb.Min, hb.Max, hb.Eta)
		total := sample.HyperbandTrials(brackets)
		if total > sw.MaxTrials {
			return nil, fmt.Errorf("hyperband starts %d trials, more than maxTrials", total)
		}
		drawn := sample.Random(space, total, int64(sw.Seed))
		for _, b := range brackets {
			n := min(b.Configurations(), len(drawn))
			br := Bracket{Rungs: b.Rungs}
			for _, t := range drawn[:n] {
				br.Trials = append(br.Trials, withResource(t, hb.Resource, b.Rungs[0].Resource))
			}
			drawn = drawn[n:]
			p.Brackets = append(p.Brackets, br)
		}
	}
	return p, err
}

// withResource adds the Hyperband budget to a trial's assignment and
// renames it: the same configuration with another budget is another
// trial.
func withResource(t sample.Trial, resource string, r int) sample.Trial {
	params := slices.Clone(t.Params)
	params = append(params, sample.Assignment{Name: resource, Value: fmt.Sprint(r)})
	slices.SortFunc(params, func(a, b sample.Assignment) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return sample.Named(params)
}

// paramNames lists a sweep's parameter names in order.
func paramNames(sw *ir.Sweep) []string { return slices.Sorted(maps.Keys(sw.Parameters)) }

// formatFloat prints a number for messages: whole numbers without a
// fraction, others in their shortest form.
func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprintf("%g", f)
}
