package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render/sweep/sample"
)

// The selector is tested the way the workflow runs it: each step is a
// separate run of selector.py with its inputs as files and its outputs
// read back from files, and the test plays the workflow's part (fan out
// the planned trials, hand each trial's output to collect, pass the
// collected records to record, recurse until done, summarise). The
// trials' output is recorded training logs: name=value lines among the
// noise a real trainer prints.

var (
	pythonOnce sync.Once
	python     string
)

type selector struct {
	t    *testing.T
	plan string
}

func newSelector(t *testing.T, p *Plan) *selector {
	t.Helper()
	pythonOnce.Do(func() {
		// Resolve the interpreter once: version-manager shims (pyenv)
		// cost more than the script itself on every run.
		if out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output(); err == nil {
			python = strings.TrimSpace(string(out))
		}
	})
	if python == "" {
		t.Skip("python3 not installed: the selector script is not exercised")
	}
	dir := t.TempDir()
	b, err := json.Marshal(p)
	require.NoError(t, err)
	plan := filepath.Join(dir, "plan.json")
	require.NoError(t, os.WriteFile(plan, b, 0o644))
	return &selector{t: t, plan: plan}
}

// run runs one step and returns its output files and its exit error.
func (s *selector) run(mode string, env map[string]string, inputs map[string]string) (map[string]string, string, error) {
	s.t.Helper()
	dir := s.t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	require.NoError(s.t, os.MkdirAll(in, 0o755))
	for k, v := range inputs {
		require.NoError(s.t, os.WriteFile(filepath.Join(in, k), []byte(v), 0o644))
	}
	script := filepath.Join(dir, "selector.py")
	require.NoError(s.t, os.WriteFile(script, []byte(Selector), 0o644))
	cmd := exec.Command(python, script, mode)
	cmd.Env = []string{"KILN_PLAN=" + s.plan, "KILN_IN=" + in, "KILN_OUT=" + out, "PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	files := map[string]string{"<stdout>": string(stdout)}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		b, rerr := os.ReadFile(filepath.Join(out, e.Name()))
		require.NoError(s.t, rerr)
		files[e.Name()] = string(b)
	}
	return files, stderr.String(), err
}

func (s *selector) must(mode string, env, inputs map[string]string) map[string]string {
	s.t.Helper()
	out, stderr, err := s.run(mode, env, inputs)
	require.NoError(s.t, err, "selector.py %s: %s", mode, stderr)
	return out
}

// trainerLog is what a trainer prints: progress, warnings, and a
// name=value line per epoch; the last epoch's values count.
func trainerLog(epochs int, acc func(epoch int) float64) string {
	var b strings.Builder
	b.WriteString("INFO loading s3://acme-derm/isic-2020/ (shards=64)\n")
	b.WriteString("WARNING torch.distributed: NCCL_DEBUG=INFO not set\n")
	for e := 1; e <= epochs; e++ {
		a := acc(e)
		fmt.Fprintf(&b, "epoch=%d step=%d train_loss=%.4f\n", e, e*100, 1-a/2)
		fmt.Fprintf(&b, "[epoch %d] val_accuracy=%.4f val_loss = %.3e lr-warmup=done\n", e, a, 1-a)
	}
	b.WriteString("saved checkpoint to /tmp/ckpt/model.pt\n")
	return b.String()
}

// response is the recorded accuracy surface: best around lr = 3e-3 and
// batch 64, rising with epochs.
func response(params map[string]string, epochs int) float64 {
	lr, _ := strconv.ParseFloat(params["lr"], 64)
	batch, _ := strconv.ParseFloat(params["batch"], 64)
	a := 0.93 - 0.08*math.Pow(math.Log10(lr)+2.5, 2) - 0.02*math.Abs(math.Log2(batch/64))
	return a - 0.3/float64(epochs)
}

type outcome struct {
	log    string
	status string
}

// simulate runs the workflow's loop over the selector until record says
// done, with trial outcomes from run, and returns the summary step's
// outputs, its error and the number of rounds.
func simulate(t *testing.T, s *selector, p *Plan, run func(round int, item map[string]string) outcome, suggest func(req map[string]any) string) (map[string]string, error, int) {
	t.Helper()
	history := emptyHistory
	rounds := 0
	for ; rounds < 100; rounds++ {
		planned := s.must("plan", nil, map[string]string{"history": history})
		next := planned["next"]
		if suggest != nil {
			var req map[string]any
			require.NoError(t, json.Unmarshal([]byte(planned["request"]), &req))
			adopted := s.must("adopt", nil, map[string]string{"history": history, "suggested": suggest(req)})
			next = adopted["next"]
		}
		var items []map[string]string
		require.NoError(t, json.Unmarshal([]byte(next), &items))
		require.NotEmpty(t, items, "round %d has no trials but the sweep is not done", rounds)
		require.LessOrEqual(t, len(items), max(p.Parallel, maxRung(p)), "a round runs at most parallel trials (or one rung)")
		var results []map[string]string
		for _, it := range items {
			o := run(rounds, it)
			itJSON, _ := json.Marshal(it)
			rec := s.must("collect", map[string]string{"KILN_TRIAL": string(itJSON), "KILN_STATUS": o.status}, map[string]string{"output": o.log})
			// Argo aggregates the fanned-out trials' output parameters
			// as a list of {name: value} maps.
			results = append(results, map[string]string{"record": rec["record"]})
		}
		resJSON, _ := json.Marshal(results)
		recorded := s.must("record", nil, map[string]string{"history": history, "state": planned["state"], "results": string(resJSON)})
		history = recorded["history"]
		if recorded["done"] == "true" {
			break
		}
		require.Equal(t, "false", recorded["done"])
	}
	out, stderr, err := s.run("summary", nil, map[string]string{"history": history})
	if err != nil {
		err = errors.New(strings.TrimSpace(stderr))
	}
	return out, err, rounds + 1
}

func maxRung(p *Plan) int {
	n := 0
	for _, b := range p.Brackets {
		for _, r := range b.Rungs {
			n = max(n, r.Trials)
		}
	}
	return n
}

func history(t *testing.T, out map[string]string) map[string]any {
	var h map[string]any
	require.NoError(t, json.Unmarshal([]byte(out["history.json"]), &h))
	return h
}

func TestSelectorCollect(t *testing.T) {
	p, err := NewPlan("resnet-tune", newSweep("random"))
	require.NoError(t, err)
	s := newSelector(t, p)
	item := `{"trial":"abc","lr":"0.001","batch":"64"}`
	rec := func(status, log string) map[string]any {
		out := s.must("collect", map[string]string{"KILN_TRIAL": item, "KILN_STATUS": status}, map[string]string{"output": log})
		var r map[string]any
		require.NoError(t, json.Unmarshal([]byte(out["record"]), &r))
		return r
	}
	r := rec("Succeeded", trainerLog(3, func(e int) float64 { return 0.7 + 0.05*float64(e) }))
	assert.Equal(t, map[string]any{
		"name": "abc", "status": "Succeeded",
		"parameters": map[string]any{"lr": "0.001", "batch": "64"},
		"metrics":    map[string]any{"val_accuracy": 0.85, "val_loss": 0.15},
	}, r, "the last epoch's values; lr-warmup=done and other names are ignored")

	r = rec("Succeeded", "training done\nval_loss=0.3\n")
	assert.Equal(t, "NoMetric", r["status"], "a trial that never reports the objective cannot be ranked")
	r = rec("Failed", "")
	assert.Equal(t, "Failed", r["status"])
	assert.Equal(t, map[string]any{}, r["metrics"])
	r = rec("Succeeded", "val_accuracy=nan\nval_accuracy=inf\nval_accuracy=1e-2\n")
	assert.Equal(t, 0.01, r["metrics"].(map[string]any)["val_accuracy"], "non-finite values are skipped")
}

// A random search over the recorded surface finds its best trial, names
// trials as Go does, runs parallel trials a round, and stops at the
// target.
func TestSelectorRandomSearch(t *testing.T) {
	sw := newSweep("random")
	sw.MaxTrials = 10
	sw.Parallel = 3
	sw.Objective.Target = nil
	p, err := NewPlan("resnet-tune", sw)
	require.NoError(t, err)
	s := newSelector(t, p)
	seen := map[string]bool{}
	out, err, rounds := simulate(t, s, p, func(_ int, it map[string]string) outcome {
		seen[it["trial"]] = true
		return outcome{trainerLog(30, func(e int) float64 { return response(it, e) }), "Succeeded"}
	}, nil)
	require.NoError(t, err)
	assert.Equal(t, 4, rounds, "10 trials, 3 at a time")
	assert.Len(t, seen, 10)
	// The best by the recorded surface.
	best, bestAcc := "", -1.0
	for _, tr := range p.Trials {
		params := map[string]string{}
		for _, a := range tr.Params {
			params[a.Name] = a.Value
		}
		if acc := response(params, 30); acc > bestAcc {
			best, bestAcc = tr.Name, acc
		}
	}
	assert.Equal(t, best, out["best-trial"])
	assert.Equal(t, strconv.FormatFloat(math.Round(bestAcc*1e4)/1e4, 'g', 6, 64), out["best-value"])
	var bp map[string]string
	require.NoError(t, json.Unmarshal([]byte(out["best-parameters"]), &bp))
	assert.Equal(t, best, sample.Named([]sample.Assignment{{Name: "batch", Value: bp["batch"]}, {Name: "lr", Value: bp["lr"]}}).Name)

	// The summary lists every trial, best first, with a person's table.
	sum := out["summary.md"]
	assert.Contains(t, sum, "# Sweep resnet-tune\n")
	assert.Contains(t, sum, "algorithm: random, 10 trials (10 succeeded, 0 failed)")
	assert.Contains(t, sum, "stopped: every planned trial has run")
	assert.Contains(t, sum, "| rank | trial | status | batch | lr | val_accuracy | val_loss |")
	assert.Contains(t, sum, "| 1 | "+best+" | Succeeded |")
	for name := range seen {
		assert.Contains(t, sum, "| "+name+" |")
	}
}

func TestSelectorTargetAndFailures(t *testing.T) {
	sw := newSweep("grid")
	sw.Parameters["lr"].Step = fp(10)
	sw.MaxTrials = 12
	sw.Parallel = 2
	sw.Objective.Target = fp(0.85)
	p, err := NewPlan("resnet-tune", sw)
	require.NoError(t, err)
	s := newSelector(t, p)
	var ran []string
	out, err, _ := simulate(t, s, p, func(_ int, it map[string]string) outcome {
		ran = append(ran, it["trial"])
		return outcome{trainerLog(30, func(e int) float64 { return response(it, e) }), "Succeeded"}
	}, nil)
	require.NoError(t, err)
	assert.Less(t, len(ran), 12, "the target stops the grid early")
	assert.Contains(t, out["summary.md"], "stopped: target reached by trial "+out["best-trial"])
	v, _ := strconv.ParseFloat(out["best-value"], 64)
	assert.GreaterOrEqual(t, v, 0.85)

	// More failures than maxFailedTrials end the sweep, failed, with a
	// summary of what ran.
	sw.Objective.Target = nil
	sw.MaxFailedTrials = 2
	p, err = NewPlan("resnet-tune", sw)
	require.NoError(t, err)
	s = newSelector(t, p)
	n := 0
	out, err, _ = simulate(t, s, p, func(_ int, it map[string]string) outcome {
		n++
		if n%2 == 0 {
			return outcome{"CUDA error: out of memory\n", "Failed"}
		}
		return outcome{trainerLog(2, func(e int) float64 { return response(it, e) }), "Succeeded"}
	}, nil)
	require.Error(t, err)
	assert.Equal(t, "sweep failed: 3 trials failed, more than maxFailedTrials (2)", err.Error())
	assert.Equal(t, 6, n, "stopped after the round with the third failure")
	assert.Contains(t, out["summary.md"], "6 trials (3 succeeded, 3 failed)")
	assert.NotEmpty(t, out["best-trial"], "the best trial so far is still reported")

	// A sweep in which nothing reports the metric fails.
	sw.MaxFailedTrials = sw.MaxTrials
	p, err = NewPlan("resnet-tune", sw)
	require.NoError(t, err)
	s = newSelector(t, p)
	_, err, _ = simulate(t, s, p, func(_ int, it map[string]string) outcome { return outcome{"accuracy: 0.9\n", "Succeeded"} }, nil)
	require.Error(t, err)
	assert.Equal(t, "sweep failed: no trial reported val_accuracy", err.Error())
}

// Hyperband runs each bracket's rungs in order, promotes the best 1/eta
// of a rung with eta times the epochs, and names promoted trials as Go
// names an assignment.
func TestSelectorHyperband(t *testing.T) {
	sw := newSweep("hyperband")
	sw.Objective.Target = nil
	sw.MaxTrials = 30
	sw.Hyperband = &struct {
		Resource string `json:"resource"`
		Min      int    `json:"min"`
		Max      int    `json:"max"`
		Eta      int    `json:"eta"`
	}{"epochs", 3, 27, 3}
	p, err := NewPlan("resnet-tune", sw)
	require.NoError(t, err)
	require.Len(t, p.Brackets, 3)
	s := newSelector(t, p)
	type run struct {
		round, epochs int
		params        map[string]string
	}
	var runs []run
	out, err, rounds := simulate(t, s, p, func(round int, it map[string]string) outcome {
		ep, err := strconv.Atoi(it["epochs"])
		require.NoError(t, err)
		params := map[string]string{"lr": it["lr"], "batch": it["batch"]}
		var as []sample.Assignment
		for _, k := range []string{"batch", "epochs", "lr"} {
			as = append(as, sample.Assignment{Name: k, Value: it[k]})
		}
		assert.Equal(t, sample.Named(as).Name, it["trial"], "Python names trials as Go does")
		runs = append(runs, run{round, ep, params})
		return outcome{trainerLog(ep, func(e int) float64 { return response(params, e) }), "Succeeded"}
	}, nil)
	require.NoError(t, err)
	assert.Equal(t, 6, rounds, "one round per rung: 3 + 2 + 1")
	// Rung sizes and budgets, in order: bracket 0 (9@3, 3@9, 1@27),
	// bracket 1 (5@9, 1@27), bracket 2 (3@27).
	var got []string
	for i := 0; i < len(runs); {
		j := i
		for j < len(runs) && runs[j].round == runs[i].round {
			j++
		}
		got = append(got, fmt.Sprintf("%d@%d", j-i, runs[i].epochs))
		i = j
	}
	assert.Equal(t, []string{"9@3", "3@9", "1@27", "5@9", "1@27", "3@27"}, got)
	// The survivors of bracket 0's first rung are its best three.
	first := runs[:9]
	sort.Slice(first, func(a, b int) bool { return response(first[a].params, 3) > response(first[b].params, 3) })
	for k := range 3 {
		assert.Equal(t, first[k].params, runs[9+k].params, "survivor %d", k)
	}
	h := history(t, out)
	assert.Len(t, h["trials"], 22)
	assert.Contains(t, out["summary.md"], "| epochs |")
}

// An adaptive sweep asks the suggestion for each batch; adopt checks and
// names what it proposes and refuses what is outside the space.
func TestSelectorSuggestion(t *testing.T) {
	sw := newSweep("tpe")
	sw.Objective.Target = nil
	sw.MaxTrials = 5
	sw.Parallel = 2
	p, err := NewPlan("resnet-tune", sw)
	require.NoError(t, err)
	s := newSelector(t, p)
	calls, proposed := 0, 0
	out, err, rounds := simulate(t, s, p, func(_ int, it map[string]string) outcome {
		return outcome{trainerLog(5, func(e int) float64 { return response(it, e) }), "Succeeded"}
	}, func(req map[string]any) string {
		// The request carries the contract: history, space and count.
		assert.Equal(t, "tpe", req["algorithm"])
		assert.Len(t, req["parameters"], 2)
		trials := req["trials"].([]any)
		assert.Len(t, trials, proposed)
		count := int(req["count"].(float64))
		assert.Equal(t, min(2, 5-len(trials)), count)
		calls++
		var next []map[string]any
		for range count {
			proposed++
			next = append(next, map[string]any{"lr": 0.001 * float64(proposed), "batch": 64})
		}
		b, _ := json.Marshal(next)
		return string(b)
	})
	require.NoError(t, err)
	assert.Equal(t, 3, rounds)
	assert.Equal(t, 3, calls)
	assert.Len(t, history(t, out)["trials"], 5)

	lr := sample.ParamFromIR("lr", sw.Parameters["lr"])
	adopted := s.must("adopt", nil, map[string]string{"history": emptyHistory, "suggested": `[{"lr": 0.00123456789, "batch": 128.0}]`})
	var items []map[string]string
	require.NoError(t, json.Unmarshal([]byte(adopted["next"]), &items))
	require.Len(t, items, 1)
	assert.Equal(t, lr.Format(0.00123456789), items[0]["lr"], "values are formatted as Go formats them")
	assert.Equal(t, "128", items[0]["batch"])
	assert.Equal(t, sample.Named([]sample.Assignment{{Name: "batch", Value: "128"}, {Name: "lr", Value: items[0]["lr"]}}).Name, items[0]["trial"])

	for _, bad := range []struct{ in, msg string }{
		{`[{"lr": 5, "batch": 64}]`, "suggestion: lr=5 is outside [0.0001, 0.1]"},
		{`[{"lr": 0.01, "batch": 48}]`, "suggestion: batch=48 is not one of ['32', '64', '128']"},
		{`[{"lr": 0.01}]`, `suggestion: trial {"lr":0.01} has no value for batch`},
		{`not json`, "suggestion: the output is not JSON"},
		{`[]`, "suggestion: proposed no new trial (0 proposed, all already run)"},
	} {
		_, stderr, err := s.run("adopt", nil, map[string]string{"history": emptyHistory, "suggested": bad.in})
		require.Error(t, err, bad.in)
		assert.Contains(t, stderr, bad.msg)
	}
}

// The plan the workflow carries is the Go plan: the selector's first
// round is the plan's first parallel trials.
func TestSelectorFollowsPlan(t *testing.T) {
	sw := newSweep("sobol")
	sw.Parallel = 4
	p, err := NewPlan("resnet-tune", sw)
	require.NoError(t, err)
	s := newSelector(t, p)
	out := s.must("plan", nil, map[string]string{"history": emptyHistory})
	var items []map[string]string
	require.NoError(t, json.Unmarshal([]byte(out["next"]), &items))
	require.Len(t, items, 4)
	for i, it := range items {
		assert.Equal(t, p.Trials[i].Name, it["trial"])
		for _, a := range p.Trials[i].Params {
			assert.Equal(t, a.Value, it[a.Name])
		}
	}
	_ = ir.Value{}
}

// A pipeline trial's metrics are its steps' output parameters, read from
// the run's Workflow object (recorded here as the API returns it): the
// step that finished last wins, values are trimmed, other outputs are
// not passed on.
func TestSelectorFetch(t *testing.T) {
	p, err := NewPlan("tune", newSweep("random"))
	require.NoError(t, err)
	s := newSelector(t, p)
	wf := `{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"name":"train-08ba8f8cab-x7k2p"},
	"status":{"phase":"Succeeded","nodes":{
	  "train-08ba8f8cab-x7k2p":{"id":"train-08ba8f8cab-x7k2p","type":"DAG","finishedAt":"2026-11-28T10:09:00Z"},
	  "train-08ba8f8cab-x7k2p-1":{"id":"train-08ba8f8cab-x7k2p-1","displayName":"evaluate(0)","type":"Pod","finishedAt":"2026-11-28T10:05:00Z",
	     "outputs":{"parameters":[{"name":"val_accuracy","value":"0.52"}]}},
	  "train-08ba8f8cab-x7k2p-2":{"id":"train-08ba8f8cab-x7k2p-2","displayName":"evaluate(1)","type":"Pod","finishedAt":"2026-11-28T10:08:00Z",
	     "outputs":{"parameters":[{"name":"val_accuracy","value":"0.91\n"},{"name":"val_loss","value":"0.3"},{"name":"model","value":"s3://m/1"}]}},
	  "train-08ba8f8cab-x7k2p-4":{"id":"train-08ba8f8cab-x7k2p-4","displayName":"lineage","type":"Pod","finishedAt":"2026-11-28T10:09:30Z",
	     "outputs":{"parameters":[{"name":"uri","globalName":"kiln-lineage","value":"s3://art/lineage/ns/sys/train/train-08ba8f8cab-x7k2p.json"}]}},
	  "train-08ba8f8cab-x7k2p-3":{"id":"train-08ba8f8cab-x7k2p-3","displayName":"fit","type":"Pod","finishedAt":"2026-11-28T10:01:00Z"}}}}`
	file := filepath.Join(t.TempDir(), "wf.json")
	require.NoError(t, os.WriteFile(file, []byte(wf), 0o644))
	out := s.must("fetch", map[string]string{"KILN_WORKFLOW": "train-08ba8f8cab-x7k2p", "KILN_WORKFLOW_FILE": file}, nil)
	assert.Equal(t, "val_accuracy=0.91\nval_loss=0.3\n", out["metrics"], "only the sweep's metrics, the last value of each")
	// The storage URIs among the outputs are the run's models, by step
	// (a retry's "(1)" dropped); the run's own lineage record is not one.
	assert.JSONEq(t, `{"evaluate.model":"s3://m/1"}`, out["models"])
	rec := s.must("collect", map[string]string{"KILN_TRIAL": `{"trial":"08ba8f8cab","lr":"0.01","batch":"64"}`, "KILN_STATUS": "Succeeded"}, map[string]string{"output": out["metrics"], "models": out["models"]})
	var r map[string]any
	require.NoError(t, json.Unmarshal([]byte(rec["record"]), &r))
	assert.Equal(t, map[string]any{"val_accuracy": 0.91, "val_loss": 0.3}, r["metrics"])
	assert.Equal(t, map[string]any{"evaluate.model": "s3://m/1"}, r["models"])
	// A failed trial's models are not kept.
	rec = s.must("collect", map[string]string{"KILN_TRIAL": `{"trial":"08ba8f8cab","lr":"0.01","batch":"64"}`, "KILN_STATUS": "Failed"}, map[string]string{"output": "", "models": out["models"]})
	r = nil
	require.NoError(t, json.Unmarshal([]byte(rec["record"]), &r))
	assert.NotContains(t, r, "models")
}
