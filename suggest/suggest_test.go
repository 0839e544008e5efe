package suggest

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fp(f float64) *float64 { return &f }

// space is a mixed search space: a log-scale learning rate, an int, a
// categorical and a linear double.
func space() []Param {
	return []Param{
		{Name: "lr", Type: "double", Min: fp(1e-5), Max: fp(1), Scale: "log"},
		{Name: "layers", Type: "int", Min: fp(1), Max: fp(8), Scale: "linear"},
		{Name: "optimizer", Type: "categorical", Values: []string{"sgd", "adam", "rmsprop"}},
		{Name: "dropout", Type: "double", Min: fp(0), Max: fp(0.5), Scale: "linear"},
	}
}

// score is the known function: best (1) at lr = 10^-2.5, 5 layers, adam,
// dropout 0.1.
func score(a map[string]string) float64 {
	lr, _ := strconv.ParseFloat(a["lr"], 64)
	layers, _ := strconv.ParseFloat(a["layers"], 64)
	dropout, _ := strconv.ParseFloat(a["dropout"], 64)
	s := 1 - 0.1*math.Pow(math.Log10(lr)+2.5, 2) - 0.02*math.Pow(layers-5, 2) - 2*math.Pow(dropout-0.1, 2)
	if a["optimizer"] != "adam" {
		s -= 0.15
	}
	return s
}

// asStrings is an assignment as the trial gets it (what adopt keeps).
func asStrings(t *testing.T, ps []Param, a Assignment) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, p := range ps {
		switch v := a[p.Name].(type) {
		case int64:
			m[p.Name] = strconv.FormatInt(v, 10)
		case float64:
			m[p.Name] = strconv.FormatFloat(v, 'g', 6, 64)
		case string:
			m[p.Name] = v
		default:
			t.Fatalf("%s: %T", p.Name, v)
		}
	}
	return m
}

// run is a sequential sweep of n trials in batches of batch, and returns
// the best score found.
func run(t *testing.T, seed int64, n, batch int, o Options) float64 {
	r := &Request{Algorithm: "tpe", Seed: seed, Objective: Objective{Metric: "acc", Goal: "maximize"}, Parameters: space()}
	best := math.Inf(-1)
	for len(r.Trials) < n {
		r.Count = min(batch, n-len(r.Trials))
		next := Suggest(r, o)
		require.Len(t, next, r.Count)
		for _, a := range next {
			params := asStrings(t, r.Parameters, a)
			s := score(params)
			best = max(best, s)
			r.Trials = append(r.Trials, Trial{Name: fmt.Sprint(len(r.Trials)), Parameters: params, Metrics: map[string]float64{"acc": s}, Status: "Succeeded"})
		}
	}
	return best
}

// TPE finds a better region of a known function than random search with
// the same budget, over many seeds.
func TestTPEBeatsRandom(t *testing.T) {
	const seeds, trials = 20, 40
	var tpe, rnd float64
	wins := 0
	for seed := int64(1); seed <= seeds; seed++ {
		a := run(t, seed, trials, 2, Options{})
		b := run(t, seed, trials, 2, Options{Startup: trials + 1}) // random throughout
		tpe += a / seeds
		rnd += b / seeds
		if a > b {
			wins++
		}
	}
	t.Logf("mean best: tpe %.4f, random %.4f; tpe better on %d of %d seeds", tpe, rnd, wins, seeds)
	assert.Greater(t, tpe, rnd+0.02, "TPE's best is clearly better on average")
	assert.GreaterOrEqual(t, wins, seeds*2/3, "and better on most seeds")
}

// The same request gives the same trials; another seed or another
// history gives others.
func TestDeterministic(t *testing.T) {
	r := &Request{Seed: 7, Objective: Objective{Metric: "acc", Goal: "maximize"}, Parameters: space(), Count: 3}
	for i := range 8 {
		a := map[string]string{"lr": "0.001", "layers": strconv.Itoa(i%8 + 1), "optimizer": "adam", "dropout": fmt.Sprint(0.05 * float64(i))}
		r.Trials = append(r.Trials, Trial{Name: fmt.Sprint(i), Parameters: a, Metrics: map[string]float64{"acc": score(a)}, Status: "Succeeded"})
	}
	js := func(r *Request) string { b, _ := json.Marshal(Suggest(r, Options{})); return string(b) }
	first := js(r)
	assert.Equal(t, first, js(r))
	other := *r
	other.Seed = 8
	assert.NotEqual(t, first, js(&other))
}

// Every proposal is a value a trial can get: ints whole, within the
// range, log ranges in range, steps on the grid, list values from the
// list; never a trial already run or proposed twice.
func TestRespectsTheSpace(t *testing.T) {
	ps := append(space(),
		Param{Name: "batch", Type: "discrete", Values: []string{"32", "64", "128"}},
		Param{Name: "wd", Type: "double", Min: fp(1e-6), Max: fp(1e-2), Scale: "log", Step: fp(10)},
		Param{Name: "warmup", Type: "int", Min: fp(0), Max: fp(1000), Scale: "linear", Step: fp(250)},
		Param{Name: "heads", Type: "int", Min: fp(1), Max: fp(64), Scale: "log"},
	)
	for _, startup := range []int{1000, 1} { // random, then TPE
		r := &Request{Seed: 3, Objective: Objective{Metric: "loss", Goal: "minimize"}, Parameters: ps, Count: 4}
		seen := map[string]bool{}
		for round := range 10 {
			next := Suggest(r, Options{Startup: startup})
			require.Len(t, next, 4)
			for _, a := range next {
				s := asStrings(t, ps, a)
				lr := a["lr"].(float64)
				assert.True(t, lr >= 1e-5 && lr <= 1, "lr %v", lr)
				layers := a["layers"].(int64)
				assert.True(t, layers >= 1 && layers <= 8, "layers %v", layers)
				assert.Contains(t, []string{"sgd", "adam", "rmsprop"}, a["optimizer"])
				d := a["dropout"].(float64)
				assert.True(t, d >= 0 && d <= 0.5, "dropout %v", d)
				assert.Contains(t, []string{"32", "64", "128"}, a["batch"])
				assert.Contains(t, []string{"1e-06", "1e-05", "0.0001", "0.001", "0.01"}, s["wd"])
				assert.Contains(t, []string{"0", "250", "500", "750", "1000"}, s["warmup"])
				h := a["heads"].(int64)
				assert.True(t, h >= 1 && h <= 64, "heads %v", h)
				k := fmt.Sprint(s)
				assert.False(t, seen[k], "proposed twice: %s", k)
				seen[k] = true
				status := "Succeeded"
				if round%3 == 2 {
					status = "Failed"
				}
				r.Trials = append(r.Trials, Trial{Name: k, Parameters: s, Metrics: map[string]float64{"loss": -score(s)}, Status: status})
			}
		}
	}
}

// A small discrete space runs out: the suggester proposes what is left,
// then nothing, rather than a trial again.
func TestSmallSpaceRunsOut(t *testing.T) {
	ps := []Param{
		{Name: "opt", Type: "categorical", Values: []string{"sgd", "adam"}},
		{Name: "layers", Type: "int", Min: fp(1), Max: fp(2)},
	}
	r := &Request{Objective: Objective{Metric: "acc", Goal: "maximize"}, Parameters: ps, Count: 3}
	for _, p := range [][2]string{{"sgd", "1"}, {"sgd", "2"}, {"adam", "1"}} {
		r.Trials = append(r.Trials, Trial{Name: p[0] + p[1], Parameters: map[string]string{"opt": p[0], "layers": p[1]}, Metrics: map[string]float64{"acc": 0.5}, Status: "Succeeded"})
	}
	next := Suggest(r, Options{})
	require.Len(t, next, 1)
	assert.Equal(t, Assignment{"opt": "adam", "layers": int64(2)}, next[0])
	r.Trials = append(r.Trials, Trial{Name: "adam2", Parameters: map[string]string{"opt": "adam", "layers": "2"}, Status: "Failed"})
	assert.Empty(t, Suggest(r, Options{}))
}

// A good region found early attracts the later trials; trials that
// failed push them away.
func TestModelsTheHistory(t *testing.T) {
	ps := []Param{{Name: "x", Type: "double", Min: fp(0), Max: fp(10)}}
	r := &Request{Seed: 1, Objective: Objective{Metric: "y", Goal: "minimize"}, Parameters: ps, Count: 10}
	for i := range 20 {
		x := float64(i) / 2
		r.Trials = append(r.Trials, Trial{Name: fmt.Sprint(i), Parameters: map[string]string{"x": fmt.Sprint(x)}, Metrics: map[string]float64{"y": math.Abs(x - 7.2)}, Status: "Succeeded"})
	}
	var xs []float64
	for _, a := range Suggest(r, Options{}) {
		xs = append(xs, a["x"].(float64))
	}
	slices.Sort(xs)
	assert.InDelta(t, 7.2, xs[len(xs)/2], 1.5, "the median proposal is near the minimum: %v", xs)
}

func TestParseRequest(t *testing.T) {
	_, err := ParseRequest([]byte(`{"objective":{"metric":"a","goal":"maximize"},"parameters":[{"name":"x","type":"double","min":1,"max":0}]}`))
	assert.ErrorContains(t, err, "parameter x: a double range needs min <= max")
	_, err = ParseRequest([]byte(`[]`))
	assert.ErrorContains(t, err, "not JSON of the suggestion contract")
	_, err = ParseRequest([]byte(`{"objective":{"metric":"a","goal":"up"},"parameters":[]}`))
	assert.ErrorContains(t, err, `objective.goal is "up"`)
}
