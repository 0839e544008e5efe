package suggest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// The environment variables naming the files of the contract.
const (
	EnvRequest = "KILN_SWEEP_REQUEST"
	EnvNext    = "KILN_SWEEP_NEXT"
)

// Request is what the sweep's plan step writes for the suggester.
type Request struct {
	Algorithm  string    `json:"algorithm"`
	Seed       int64     `json:"seed"`
	Objective  Objective `json:"objective"`
	Parameters []Param   `json:"parameters"`
	Trials     []Trial   `json:"trials"`
	// Count is how many trials to propose, at most.
	Count int `json:"count"`
}

// Objective is the metric the sweep optimises.
type Objective struct {
	Metric string `json:"metric"`
	Goal   string `json:"goal"`
}

// Param is one dimension of the search space.
type Param struct {
	Name string `json:"name"`
	// Type is int, double, categorical or discrete.
	Type  string   `json:"type"`
	Min   *float64 `json:"min,omitempty"`
	Max   *float64 `json:"max,omitempty"`
	Scale string   `json:"scale,omitempty"`
	Step  *float64 `json:"step,omitempty"`
	// Values of a categorical or discrete parameter, as passed to trials.
	Values []string `json:"values,omitempty"`
}

// Trial is a trial of the history.
type Trial struct {
	Name       string             `json:"name"`
	Parameters map[string]string  `json:"parameters"`
	Metrics    map[string]float64 `json:"metrics"`
	Status     string             `json:"status"`
}

// Assignment is a proposed trial: a value per parameter (float64 for a
// double, int64 for an int, the value's string for a list).
type Assignment map[string]any

// Options tune the estimator; zero values take the defaults.
type Options struct {
	// Startup is how many trials must have reported the objective before
	// TPE models them; until then trials are random. Default 5.
	Startup int
	// Candidates drawn from the good density per proposal. Default 24.
	Candidates int
	// Gamma is the share of trials counted as good. Default 0.25.
	Gamma float64
}

func (o Options) withDefaults() Options {
	if o.Startup <= 0 {
		o.Startup = 5
	}
	if o.Candidates <= 0 {
		o.Candidates = 24
	}
	if o.Gamma <= 0 || o.Gamma >= 1 {
		o.Gamma = 0.25
	}
	return o
}

// ParseRequest decodes and checks a request.
func ParseRequest(b []byte) (*Request, error) {
	var r Request
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("the request is not JSON of the suggestion contract: %w", err)
	}
	if r.Objective.Goal != "maximize" && r.Objective.Goal != "minimize" {
		return nil, fmt.Errorf("objective.goal is %q; want maximize or minimize", r.Objective.Goal)
	}
	if len(r.Parameters) == 0 {
		return nil, fmt.Errorf("the request has no parameters")
	}
	for _, p := range r.Parameters {
		switch p.Type {
		case "int", "double":
			if p.Min == nil || p.Max == nil || *p.Min > *p.Max {
				return nil, fmt.Errorf("parameter %s: a %s range needs min <= max", p.Name, p.Type)
			}
			if p.Scale == "log" && *p.Min <= 0 {
				return nil, fmt.Errorf("parameter %s: a log scale needs min > 0", p.Name)
			}
		case "categorical", "discrete":
			if len(p.Values) == 0 {
				return nil, fmt.Errorf("parameter %s has no values", p.Name)
			}
		default:
			return nil, fmt.Errorf("parameter %s has unknown type %q", p.Name, p.Type)
		}
	}
	return &r, nil
}

// Suggest proposes up to r.Count new trials: never one the history holds,
// nor the same one twice. It proposes fewer when a discrete space runs
// out.
func Suggest(r *Request, o Options) []Assignment {
	o = o.withDefaults()
	rng := rand.New(rand.NewPCG(uint64(r.Seed), uint64(len(r.Trials))))
	dims := make([]dim, len(r.Parameters))
	for i, p := range r.Parameters {
		dims[i] = newDim(p)
	}
	seen := map[string]bool{}
	var good, bad [][]float64
	type scored struct {
		x    []float64
		loss float64
		name string
	}
	var obs []scored
	for _, t := range r.Trials {
		x, ok := coords(dims, t.Parameters)
		if !ok {
			continue
		}
		seen[key(dims, x)] = true
		v, has := t.Metrics[r.Objective.Metric]
		if t.Status != "Succeeded" || !has || math.IsNaN(v) || math.IsInf(v, 0) {
			// Failed (or silent) trials are bad places to look.
			bad = append(bad, x)
			continue
		}
		if r.Objective.Goal == "maximize" {
			v = -v
		}
		obs = append(obs, scored{x, v, t.Name})
	}
	slices.SortStableFunc(obs, func(a, b scored) int {
		if a.loss != b.loss {
			if a.loss < b.loss {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	nGood := min(max(1, int(math.Ceil(o.Gamma*float64(len(obs))))), 25)
	for i, s := range obs {
		if i < nGood {
			good = append(good, s.x)
		} else {
			bad = append(bad, s.x)
		}
	}
	var out []Assignment
	for len(out) < r.Count {
		var x []float64
		if len(obs) < o.Startup {
			x = fresh(rng, dims, seen, func() []float64 { return random(rng, dims) })
		} else {
			x = tpe(rng, dims, good, bad, seen, o.Candidates)
		}
		if x == nil {
			break // the space is exhausted
		}
		seen[key(dims, x)] = true
		// Constant liar: a pending trial counts as bad, so the next
		// proposal of the batch looks elsewhere.
		bad = append(bad, x)
		out = append(out, assignment(dims, x))
	}
	return out
}

// fresh draws with draw until it finds an unseen point, or gives up.
func fresh(rng *rand.Rand, dims []dim, seen map[string]bool, draw func() []float64) []float64 {
	for range 200 {
		x := draw()
		if !seen[key(dims, x)] {
			return x
		}
	}
	return exhaustive(dims, seen)
}

// exhaustive returns the first unseen point of a space of lists and
// stepped ranges, or nil (a continuous space never gets here in
// practice).
func exhaustive(dims []dim, seen map[string]bool) []float64 {
	const limit = 100000
	n := 1
	for _, d := range dims {
		pts := d.points()
		if pts == nil || n*len(pts) > limit {
			return nil
		}
		n *= len(pts)
	}
	for i := range n {
		x := make([]float64, len(dims))
		j := i
		for k, d := range dims {
			pts := d.points()
			x[k] = pts[j%len(pts)]
			j /= len(pts)
		}
		if !seen[key(dims, x)] {
			return x
		}
	}
	return nil
}

func random(rng *rand.Rand, dims []dim) []float64 {
	x := make([]float64, len(dims))
	for i, d := range dims {
		x[i] = d.random(rng)
	}
	return x
}

// tpe draws candidates from the good density and returns the unseen one
// with the best ratio of good to bad density.
func tpe(rng *rand.Rand, dims []dim, good, bad [][]float64, seen map[string]bool, candidates int) []float64 {
	l := make([]estimator, len(dims))
	g := make([]estimator, len(dims))
	for i, d := range dims {
		l[i] = d.estimator(column(good, i))
		g[i] = d.estimator(column(bad, i))
	}
	var best []float64
	bestScore := math.Inf(-1)
	for range candidates {
		x := make([]float64, len(dims))
		score := 0.0
		for i, d := range dims {
			x[i] = d.snap(l[i].sample(rng))
			score += math.Log(l[i].pdf(x[i])) - math.Log(g[i].pdf(x[i]))
		}
		if seen[key(dims, x)] {
			continue
		}
		if score > bestScore {
			best, bestScore = x, score
		}
	}
	if best != nil {
		return best
	}
	return fresh(rng, dims, seen, func() []float64 {
		x := make([]float64, len(dims))
		for i, d := range dims {
			x[i] = d.snap(l[i].sample(rng))
		}
		return x
	})
}

func column(xs [][]float64, i int) []float64 {
	c := make([]float64, len(xs))
	for j, x := range xs {
		c[j] = x[i]
	}
	return c
}

// coords maps a trial's parameter strings to the model's coordinates.
func coords(dims []dim, params map[string]string) ([]float64, bool) {
	x := make([]float64, len(dims))
	for i, d := range dims {
		s, ok := params[d.p.Name]
		if !ok {
			return nil, false
		}
		if x[i], ok = d.coord(s); !ok {
			return nil, false
		}
	}
	return x, true
}

// key identifies a point as the trial's parameters do.
func key(dims []dim, x []float64) string {
	var b strings.Builder
	for i, d := range dims {
		b.WriteString(d.p.Name)
		b.WriteByte('=')
		b.WriteString(d.format(x[i]))
		b.WriteByte('\n')
	}
	return b.String()
}

func assignment(dims []dim, x []float64) Assignment {
	a := Assignment{}
	for i, d := range dims {
		s := d.format(x[i])
		switch d.p.Type {
		case "int":
			n, _ := strconv.ParseInt(s, 10, 64)
			a[d.p.Name] = n
		case "double":
			f, _ := strconv.ParseFloat(s, 64)
			a[d.p.Name] = f
		default:
			a[d.p.Name] = s
		}
	}
	return a
}
