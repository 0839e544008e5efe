//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
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
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// trialRun is one trial's training job as the sweep ran it.
type trialRun struct {
	name     string            // the trial's name (its job is <run>-<name>)
	params   map[string]string // the arguments the job got
	created  time.Time         // when the run step created the job
	finished time.Time         // when the job reached Succeeded or Failed
}

// sweepPlayer plays argoexec for the pods of one sweep run. Unlike the
// pipeline's steps, trials run at once, so each step pod is played in a
// goroutine of its own. The bookkeeping steps (plan, collect, record,
// summary) run kiln's own selector.py from the sweep's ConfigMap, here,
// with python3, on the inputs the controller gave the pod; the outputs it
// writes are what the step reports. The logs step, which would read the
// trial's log, reports the metrics metric gives for the trial's
// arguments: the simulated training result.
type sweepPlayer struct {
	*executor
	dir    string // plan.json and selector.py
	metric func(params map[string]string) map[string]float64

	mu     sync.Mutex
	trials map[string]*trialRun // by job name
	order  []string             // job names, in creation order
	wg     sync.WaitGroup
}

// newSweepPlayer writes the sweep's ConfigMap files to a directory.
func newSweepPlayer(t *testing.T, ex *executor, cm *unstructured.Unstructured, metric func(map[string]string) map[string]float64) *sweepPlayer {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatalf("the sweep scenario runs kiln's selector.py with python3, which is not on PATH")
	}
	dir := t.TempDir()
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	for k, v := range data {
		require.NoError(t, os.WriteFile(filepath.Join(dir, k), []byte(v), 0o644))
	}
	return &sweepPlayer{executor: ex, dir: dir, metric: metric, trials: map[string]*trialRun{}}
}

// play plays one step pod and reports it.
func (s *sweepPlayer) play(ctx context.Context, p *corev1.Pod) {
	defer s.wg.Done()
	tmpl, err := s.template(ctx, p)
	if err != nil {
		s.t.Errorf("pod %s: %v", p.Name, err)
		return
	}
	name, _ := tmpl["name"].(string)
	outputs := map[string]any{}
	ok, msg := true, ""
	switch {
	case tmpl["resource"] != nil:
		res := tmpl["resource"].(map[string]any)
		manifest, _ := res["manifest"].(string)
		// Not decode: t.Fatal must not be called off the test's goroutine.
		var obj unstructured.Unstructured
		if err := yaml.Unmarshal([]byte(manifest), &obj.Object); err != nil {
			ok, msg = false, err.Error()
			break
		}
		job := obj.GetName()
		// The controller substituted the trial's inputs into the
		// manifest: its name, and the arguments the job runs with.
		run := &trialRun{name: strings.TrimPrefix(job, s.wf+"-"), params: map[string]string{}, created: time.Now()}
		cs, _, _ := unstructured.NestedSlice(obj.Object, "spec", "pytorchReplicaSpecs", "Master", "template", "spec", "containers")
		if len(cs) > 0 {
			args, _, _ := unstructured.NestedStringSlice(cs[0].(map[string]any), "args")
			for _, a := range args {
				if k, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "="); ok {
					run.params[k] = v
				}
			}
		}
		s.mu.Lock()
		s.trials[job] = run
		s.order = append(s.order, job)
		s.mu.Unlock()
		ok, msg = s.resource(ctx, name, res)
		s.mu.Lock()
		run.finished = time.Now()
		s.mu.Unlock()
		// outputs.parameters.job: valueFrom jsonPath {.metadata.name}
		outputs["parameters"] = []any{map[string]any{"name": "job", "value": job}}
	case name == "logs":
		// KILN_POD_SELECTOR names the job whose master's log it reads.
		sel := containerEnv(tmpl)["KILN_POD_SELECTOR"]
		job, _, _ := strings.Cut(strings.TrimPrefix(sel, "training.kubeflow.org/job-name="), ",")
		s.mu.Lock()
		run := s.trials[job]
		s.mu.Unlock()
		if run == nil {
			ok, msg = false, fmt.Sprintf("no trial job %q (pod selector %s)", job, sel)
			break
		}
		var lines []string
		for k, v := range s.metric(run.params) {
			lines = append(lines, fmt.Sprintf("%s=%s", k, strconv.FormatFloat(v, 'g', -1, 64)))
		}
		sort.Strings(lines)
		outputs["parameters"] = []any{map[string]any{"name": "metrics", "value": strings.Join(lines, "\n") + "\n"}}
		msg = strings.Join(lines, " ")
	case isKilnStep(tmpl):
		outputs, ok, msg = s.kilnStep(ctx, tmpl)
		if outputs == nil {
			outputs = map[string]any{}
		}
	case name == "delete-trial-jobs":
		// selector.py cleanup: delete the run's jobs, as the workflow's
		// service account.
		env := containerEnv(tmpl)
		parts := strings.Split(strings.TrimPrefix(env["KILN_JOBS"], "apis/"), "/")
		if len(parts) != 3 {
			ok, msg = false, "KILN_JOBS "+env["KILN_JOBS"]
			break
		}
		gvr := schema.GroupVersionResource{Group: parts[0], Version: parts[1], Resource: parts[2]}
		err := s.sa.Resource(gvr).Namespace(s.ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: env["KILN_JOB_SELECTOR"]})
		ok, msg = err == nil, fmt.Sprint(err)
	default:
		outputs, ok, msg = s.selector(tmpl)
	}
	if err := s.report(ctx, p, name, outputs, ok, msg); err != nil {
		s.t.Errorf("step %s: %v", name, err)
	}
}

func containerEnv(tmpl map[string]any) map[string]string {
	out := map[string]string{}
	env, _, _ := unstructured.NestedSlice(tmpl, "container", "env")
	for _, e := range env {
		em := e.(map[string]any)
		n, _ := em["name"].(string)
		v, _ := em["value"].(string)
		out[n] = v
	}
	return out
}

// selector runs `python3 selector.py <command>` as the step's container
// would, and returns the outputs it wrote.
func (s *sweepPlayer) selector(tmpl map[string]any) (map[string]any, bool, string) {
	cmd, _, _ := unstructured.NestedStringSlice(tmpl, "container", "command")
	if len(cmd) != 3 || cmd[1] != "/kiln/selector.py" {
		return nil, false, fmt.Sprintf("not a selector step: %v", cmd)
	}
	work, err := os.MkdirTemp(s.dir, "step-")
	if err != nil {
		return nil, false, err.Error()
	}
	in, out := filepath.Join(work, "in"), filepath.Join(work, "out")
	_ = os.MkdirAll(in, 0o755)
	arts, _, _ := unstructured.NestedSlice(tmpl, "inputs", "artifacts")
	for _, a := range arts {
		am := a.(map[string]any)
		path, _ := am["path"].(string)
		data, _, _ := unstructured.NestedString(am, "raw", "data")
		if err := os.WriteFile(filepath.Join(in, filepath.Base(path)), []byte(data), 0o644); err != nil {
			return nil, false, err.Error()
		}
	}
	c := exec.Command("python3", filepath.Join(s.dir, "selector.py"), cmd[2])
	c.Env = append(os.Environ(), "KILN_PLAN="+filepath.Join(s.dir, "plan.json"), "KILN_IN="+in, "KILN_OUT="+out)
	for k, v := range containerEnv(tmpl) {
		c.Env = append(c.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		return nil, false, fmt.Sprintf("selector.py %s: %v: %s", cmd[2], err, strings.TrimSpace(stderr.String()))
	}
	outputs := map[string]any{}
	var params []any
	ps, _, _ := unstructured.NestedSlice(tmpl, "outputs", "parameters")
	for _, p := range ps {
		pm := p.(map[string]any)
		path, _, _ := unstructured.NestedString(pm, "valueFrom", "path")
		b, err := os.ReadFile(filepath.Join(out, filepath.Base(path)))
		if err != nil {
			return nil, false, fmt.Sprintf("selector.py %s wrote no %s", cmd[2], pm["name"])
		}
		params = append(params, reportedParam(pm, string(b)))
	}
	if params != nil {
		outputs["parameters"] = params
	}
	if arts, _, _ := unstructured.NestedSlice(tmpl, "outputs", "artifacts"); arts != nil {
		outputs["artifacts"] = uploaded(tmpl, arts)
	}
	return outputs, true, cmd[2]
}

// run plays the executor until the workflow ends and returns it.
func (s *sweepPlayer) run(ctx context.Context, timeout time.Duration) *unstructured.Unstructured {
	var wf *unstructured.Unstructured
	err := cl.waitFor(ctx, timeout, "sweep run "+s.wf+" to finish", func() (bool, error) {
		pods, err := cl.kube.CoreV1().Pods(s.ns).List(ctx, metav1.ListOptions{LabelSelector: "workflows.argoproj.io/workflow=" + s.wf})
		if err != nil {
			return false, err
		}
		for i := range pods.Items {
			p := pods.Items[i]
			if p.Status.Phase == corev1.PodRunning && !s.done[p.Name] {
				s.done[p.Name] = true
				s.wg.Add(1)
				go s.play(ctx, &p)
			}
		}
		wf, err = cl.dyn.Resource(workflowsGVR).Namespace(s.ns).Get(ctx, s.wf, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		phase, _, _ := unstructured.NestedString(wf.Object, "status", "phase")
		return phase == "Succeeded" || phase == "Failed" || phase == "Error", nil
	})
	s.wg.Wait()
	for _, l := range s.log {
		s.t.Logf("executor: %s", l)
	}
	require.NoError(s.t, err, "%s\n%s\nexecutor:\n  %s", nodesSummary(wf), eventsFor(s.ns, s.wf), strings.Join(s.log, "\n  "))
	return wf
}

// rounds groups the trial jobs into the rounds they ran in: a job
// created after every job so far had finished starts a new round.
func (s *sweepPlayer) rounds() [][]*trialRun {
	var out [][]*trialRun
	var last time.Time
	for _, job := range s.order {
		r := s.trials[job]
		if len(out) == 0 || r.created.After(last) {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], r)
		if r.finished.After(last) {
			last = r.finished
		}
	}
	return out
}

// maxConcurrent is the most trial jobs that were running at once.
func (s *sweepPlayer) maxConcurrent() int {
	most := 0
	for _, a := range s.trials {
		n := 0
		for _, b := range s.trials {
			if !b.created.After(a.created) && b.finished.After(a.created) {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

// startSweep applies skin-lesion's prod environment (from spec dir, the
// bundled example by default) and starts a run of the resnet-tune sweep
// from its WorkflowTemplate, as `argo submit --from` does.
func startSweep(t *testing.T, specDir, run string, metric func(map[string]string) map[string]float64) (*sweepPlayer, map[string]any) {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command(cl.kiln, "render", "--out", out, specDir)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kiln render %s: %v\n%s", specDir, err, b)
	}
	objs := envObjects(t, out, "prod", "skin-lesion")
	ns := applyEnv(t, objs, "CronWorkflow")
	cm := find(t, objs, "ConfigMap", "resnet-tune-sweep")
	var plan map[string]any
	require.NoError(t, json.Unmarshal([]byte(cm.Object["data"].(map[string]any)["plan.json"].(string)), &plan))
	wt := find(t, objs, "WorkflowTemplate", "resnet-tune")
	sa, _, _ := unstructured.NestedString(wt.Object, "spec", "serviceAccountName")
	wf := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
		"metadata": map[string]any{"name": run, "namespace": ns},
		"spec":     map[string]any{"workflowTemplateRef": map[string]any{"name": wt.GetName()}},
	}}
	submitWorkflow(t, wf)
	return newSweepPlayer(t, newExecutor(t, ns, run, sa), cm, metric), plan
}

// accuracy is the simulated result of a trial: best near lr=0.002,
// slightly worse with batch 128, better by perEpoch for each epoch.
func accuracy(base, perEpoch float64) func(map[string]string) map[string]float64 {
	return func(p map[string]string) map[string]float64 {
		lr, _ := strconv.ParseFloat(p["lr"], 64)
		acc := base - 0.1*math.Abs(math.Log10(lr)-math.Log10(0.002))
		if p["batch"] == "128" {
			acc -= 0.01
		}
		if e, err := strconv.Atoi(p["epochs"]); err == nil {
			acc += perEpoch * float64(e)
		}
		acc = math.Round(acc*1e4) / 1e4
		return map[string]float64{"val_accuracy": acc, "val_loss": math.Round((1-acc)*1e4) / 1e4}
	}
}

// workflowOutput is an output parameter of a workflow's entrypoint (its
// root node, whose ID is the workflow's name).
func workflowOutput(wf *unstructured.Unstructured, name string) string {
	ps, _, _ := unstructured.NestedSlice(wf.Object, "status", "nodes", wf.GetName(), "outputs", "parameters")
	for _, p := range ps {
		pm := p.(map[string]any)
		if pm["name"] == name {
			v, _ := pm["value"].(string)
			return v
		}
	}
	return ""
}

func logRounds(t *testing.T, s *sweepPlayer, metric func(map[string]string) map[string]float64) {
	for i, round := range s.rounds() {
		var trials []string
		for _, r := range round {
			trials = append(trials, fmt.Sprintf("%s %v → %v (%s)", r.name, r.params, metric(r.params)["val_accuracy"], r.finished.Sub(r.created).Round(time.Second)))
		}
		t.Logf("round %d: %d trials:\n  %s", i+1, len(round), strings.Join(trials, "\n  "))
	}
	t.Logf("at most %d trial jobs ran at once", s.maxConcurrent())
}

// The resnet-tune sweep (Argo backend, Sobol, 4 trials at a time, stop at
// val_accuracy 0.92) on the cluster: Argo's controller runs the plan's
// trials in rounds of 4, each a PyTorchJob the training operator runs;
// the test plays each trial's result; kiln's selector (run here as the
// step would run it) records each round and stops at the target; the
// summary names the best trial. Then the same sweep with Hyperband: the
// losers of a rung do not go on to the next.
func TestSweepArgo(t *testing.T) {
	ctx := context.Background()
	t.Run("sobol", func(t *testing.T) {
		start := time.Now()
		metric := accuracy(0.95, 0)
		s, plan := startSweep(t, filepath.Join(repoRoot(), "examples", "skin-lesion"), "resnet-tune-e2e", metric)
		wf := s.run(ctx, 10*time.Minute)
		t.Logf("%s\nafter %s", nodesSummary(wf), time.Since(start).Round(time.Second))
		logRounds(t, s, metric)
		phase, _, _ := unstructured.NestedString(wf.Object, "status", "phase")
		require.Equal(t, "Succeeded", phase, nodesSummary(wf))

		parallel := int(plan["parallel"].(float64))
		target := plan["objective"].(map[string]any)["target"].(float64)
		assert.LessOrEqual(t, s.maxConcurrent(), parallel, "no more than parallel trials at once")
		// Rounds of `parallel` trials, in the plan's order, until one
		// reached the target.
		planned := plan["trials"].([]any)
		rounds := s.rounds()
		var best *trialRun
		var bestAcc float64
		i := 0
		for ri, round := range rounds {
			require.Len(t, round, parallel, "round %d", ri+1)
			require.LessOrEqual(t, i+parallel, len(planned))
			var want, got []string
			for _, p := range planned[i : i+parallel] {
				want = append(want, p.(map[string]any)["name"].(string))
			}
			for _, r := range round {
				got = append(got, r.name)
			}
			assert.ElementsMatch(t, want, got, "round %d runs the plan's next %d trials", ri+1, parallel)
			i += parallel
			reached := false
			for _, r := range round {
				acc := metric(r.params)["val_accuracy"]
				if best == nil || acc > bestAcc {
					best, bestAcc = r, acc
				}
				reached = reached || acc >= target
			}
			assert.Equal(t, ri == len(rounds)-1, reached, "the sweep stops after the round that reached the target, and only then (round %d)", ri+1)
		}
		require.NotNil(t, best)
		t.Logf("best trial: %s (val_accuracy %v); the workflow says %s = %s", best.name, bestAcc, workflowOutput(wf, "best-trial"), workflowOutput(wf, "best-value"))
		assert.Equal(t, best.name, workflowOutput(wf, "best-trial"))
		assert.Equal(t, strconv.FormatFloat(bestAcc, 'g', 6, 64), workflowOutput(wf, "best-value"))
		t.Logf("summary:\n%s", workflowOutput(wf, "summary"))

		// The exit handler ran the real `kiln lineage record --sweep`:
		// the record at the key the run's kiln-lineage output names
		// lists every trial the rounds ran, with the metrics the trials
		// reported, and the best trial's as the record's own.
		uri := globalOutput(wf, "kiln-lineage")
		require.NotEmpty(t, uri, "the run's kiln-lineage output")
		rec := readRecord(t, s.records, uri)
		require.NotNil(t, rec.Sweep, "a sweep's record")
		assert.Equal(t, "resnet-tune", rec.Sweep.Name)
		assert.Equal(t, "Succeeded", rec.Run.Phase)
		assert.Equal(t, "resnet-tune-e2e", rec.Run.Name)
		assert.Equal(t, best.name, rec.Sweep.Best)
		var ran []string
		params := map[string]map[string]string{}
		for _, round := range rounds {
			for _, r := range round {
				ran = append(ran, r.name)
				params[r.name] = r.params
			}
		}
		var recorded []string
		for _, tr := range rec.Sweep.Trials {
			recorded = append(recorded, tr.Name)
			assert.Equal(t, "Succeeded", tr.Status, "trial %s", tr.Name)
			if p, ok := params[tr.Name]; ok {
				assert.InDelta(t, metric(p)["val_accuracy"], tr.Metrics["val_accuracy"], 1e-9, "trial %s's metric as it reported it", tr.Name)
			}
		}
		assert.ElementsMatch(t, ran, recorded, "the record lists every trial that ran")
		assert.InDelta(t, bestAcc, rec.Metrics[best.name+".val_accuracy"], 1e-9, "the record's metrics are the best trial's")
	})

	t.Run("hyperband", func(t *testing.T) {
		// The example with algorithm hyperband: epochs is the budget, 3
		// then 9 (eta 3): bracket 0 runs 3 trials for 3 epochs and the
		// best of them for 9; bracket 1 runs 2 trials for 9.
		spec := t.TempDir()
		b, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "skin-lesion", "system.cue"))
		require.NoError(t, err)
		src := strings.Replace(string(b), `algorithm: "sobol"`, `algorithm: "hyperband"
		hyperband: {resource: "epochs", min: 3, max: 9, eta: 3}`, 1)
		require.NotEqual(t, string(b), src)
		require.NoError(t, os.WriteFile(filepath.Join(spec, "system.cue"), []byte(src), 0o644))
		// Below the target: every bracket runs.
		metric := accuracy(0.80, 0.005)
		start := time.Now()
		s, plan := startSweep(t, spec, "resnet-tune-hb-e2e", metric)
		wf := s.run(ctx, 10*time.Minute)
		t.Logf("%s\nafter %s", nodesSummary(wf), time.Since(start).Round(time.Second))
		logRounds(t, s, metric)
		phase, _, _ := unstructured.NestedString(wf.Object, "status", "phase")
		require.Equal(t, "Succeeded", phase, nodesSummary(wf))

		brackets := plan["brackets"].([]any)
		rounds := s.rounds()
		require.Len(t, rounds, 3, "bracket 0's two rungs, then bracket 1")
		// Rung 0 of bracket 0: its planned trials, 3 epochs each.
		b0 := brackets[0].(map[string]any)
		rung0 := rounds[0]
		require.Len(t, rung0, len(b0["trials"].([]any)))
		var winner *trialRun
		for _, r := range rung0 {
			assert.Equal(t, "3", r.params["epochs"])
			if winner == nil || metric(r.params)["val_accuracy"] > metric(winner.params)["val_accuracy"] {
				winner = r
			}
		}
		// Rung 1: only the winner goes on, with 9 epochs; the losers stop.
		require.Len(t, rounds[1], 1, "only the best of rung 0 goes on")
		next := rounds[1][0]
		assert.Equal(t, "9", next.params["epochs"])
		assert.Equal(t, winner.params["lr"], next.params["lr"])
		assert.Equal(t, winner.params["batch"], next.params["batch"])
		for _, r := range rung0 {
			if r != winner {
				for _, later := range append(append([]*trialRun{}, rounds[1]...), rounds[2]...) {
					assert.False(t, later.params["lr"] == r.params["lr"] && later.params["batch"] == r.params["batch"], "loser %s runs no further", r.name)
				}
			}
		}
		// Bracket 1: its own trials, 9 epochs.
		assert.Len(t, rounds[2], len(brackets[1].(map[string]any)["trials"].([]any)))
		for _, r := range rounds[2] {
			assert.Equal(t, "9", r.params["epochs"])
		}
		var best *trialRun
		for _, round := range rounds {
			for _, r := range round {
				if best == nil || metric(r.params)["val_accuracy"] > metric(best.params)["val_accuracy"] {
					best = r
				}
			}
		}
		t.Logf("best trial: %s; the workflow says %s = %s", best.name, workflowOutput(wf, "best-trial"), workflowOutput(wf, "best-value"))
		assert.Equal(t, best.name, workflowOutput(wf, "best-trial"))
	})
}
