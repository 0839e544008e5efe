package sweep

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/training"
	"github.com/kiln-ml/kiln/suggest"
)

// These tests hold the sweep workflow to what happens at run time: what
// Argo keeps in the workflow object, what stops a sweep, which pods
// Kueue sees, how long a run and its trials may live.

// workflowTemplate returns the sweep's WorkflowTemplate among items.
func workflowTemplate(t *testing.T, items []render.Item) *wfv1.WorkflowTemplate {
	t.Helper()
	for _, it := range items {
		o := it.Object
		if u, ok := o.(interface{ Unwrap() render.Object }); ok {
			o = u.Unwrap()
		}
		if wt, ok := o.(*wfv1.WorkflowTemplate); ok {
			return wt
		}
	}
	t.Fatal("no WorkflowTemplate rendered")
	return nil
}

func template(t *testing.T, wt *wfv1.WorkflowTemplate, name string) *wfv1.Template {
	t.Helper()
	for i := range wt.Spec.Templates {
		if wt.Spec.Templates[i].Name == name {
			return &wt.Spec.Templates[i]
		}
	}
	t.Fatalf("no template %q", name)
	return nil
}

// B7: Argo keeps a step's captured stdout (up to 256 KiB) in the
// workflow object, which may hold 1 MiB: no sweep may capture a trial's
// stdout, and what a trial hands to collect is the output parameter of a
// step that wrote only the metric lines.
func TestTrialLogsNeverInParameters(t *testing.T) {
	for name, gc := range goldenCases() {
		if gc.sw.Backend == "katib" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			wt := workflowTemplate(t, renderCase(t, name, gc))
			b, err := json.Marshal(wt)
			require.NoError(t, err)
			assert.NotContains(t, string(b), "outputs.result", "no step's stdout is captured")
			trial := template(t, wt, "trial")
			var output string
			for _, ps := range trial.Steps {
				for _, st := range ps.Steps {
					if st.Template == "collect" {
						output = st.Arguments.GetParameterByName("output").Value.String()
					}
				}
			}
			assert.Regexp(t, `^\{\{=steps\.(logs|outputs|run)\.status == 'Succeeded' \? steps\.(logs|outputs|run)\.outputs\.parameters\.metrics : ''\}\}$`, output)
		})
	}
}

// fakeAPI serves the pods of a namespace and their logs over TLS, as the
// API server does, and writes the service account files selector.py
// reads. logs maps a pod name to its log; pods lists them.
type fakeAPI struct {
	mu     sync.Mutex
	pods   []map[string]any
	logs   map[string]string
	served int // log bytes served
	env    map[string]string
	// deleted are the collections deleted, as "<path>?<labelSelector>".
	deleted []string
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{logs: map[string]string{}}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		switch {
		case r.Method == http.MethodDelete:
			if r.URL.Query().Get("propagationPolicy") != "Background" {
				http.Error(w, "want propagationPolicy=Background", http.StatusBadRequest)
				return
			}
			f.deleted = append(f.deleted, r.URL.Path+"?"+r.URL.Query().Get("labelSelector"))
			_ = json.NewEncoder(w).Encode(map[string]any{"kind": "PyTorchJobList", "items": []any{map[string]any{}, map[string]any{}}})
		case r.Method != http.MethodGet:
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		case r.URL.Path == "/api/v1/namespaces/derm-ml/pods":
			sel := r.URL.Query().Get("labelSelector")
			var items []map[string]any
			for _, p := range f.pods {
				if matches(p, sel) {
					items = append(items, p)
				}
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"items": items})
		case strings.HasPrefix(r.URL.Path, "/api/v1/namespaces/derm-ml/pods/") && strings.HasSuffix(r.URL.Path, "/log"):
			name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/namespaces/derm-ml/pods/"), "/log")
			log, ok := f.logs[name+"/"+r.URL.Query().Get("container")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			f.served += len(log)
			_, _ = w.Write([]byte(log))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	_, err := x509.ParseCertificate(srv.Certificate().Raw)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.crt"), ca, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "token"), []byte("tok\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "namespace"), []byte("derm-ml"), 0o644))
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	f.env = map[string]string{"KILN_SERVICE_ACCOUNT": dir, "KUBERNETES_SERVICE_HOST": u.Hostname(), "KUBERNETES_SERVICE_PORT": u.Port()}
	return f
}

// matches evaluates a label selector of k=v terms, as the template's are.
func matches(pod map[string]any, sel string) bool {
	labels := pod["metadata"].(map[string]any)["labels"].(map[string]string)
	for _, term := range strings.Split(sel, ",") {
		k, v, _ := strings.Cut(term, "=")
		if labels[k] != v {
			return false
		}
	}
	return true
}

func (f *fakeAPI) addPod(name, created, phase string, labels map[string]string, container, log string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pods = append(f.pods, map[string]any{
		"metadata": map[string]any{"name": name, "creationTimestamp": created, "labels": labels},
		"status":   map[string]any{"phase": phase},
	})
	f.logs[name+"/"+container] = log
}

// env is the logs step's environment, from its template with the trial
// substituted as Argo does.
func (f *fakeAPI) stepEnv(t *testing.T, logs *wfv1.Template, repl map[string]string) map[string]string {
	env := map[string]string{}
	for k, v := range f.env {
		env[k] = v
	}
	for _, e := range logs.Container.Env {
		v := e.Value
		for from, to := range repl {
			v = strings.ReplaceAll(v, from, to)
		}
		env[e.Name] = v
	}
	return env
}

// noisyLog is a long, realistic trainer log: a progress line per batch
// (redrawn progress bars, warnings, unrelated name=value pairs) and the
// metrics after each epoch. It is about size bytes.
func noisyLog(size int, acc float64) string {
	var b strings.Builder
	b.WriteString("INFO loading s3://acme-derm/isic-2020/ (shards=64)\n")
	for e := 1; b.Len() < size; e++ {
		for i := 0; i < 400 && b.Len() < size; i++ {
			fmt.Fprintf(&b, "epoch %d [%4d/400] loss=%.4f lr=0.00%d throughput=812.3 img/s gpu_mem=71.2GiB\r", e, i, 1.2/float64(e+i), e)
			if i%50 == 0 {
				fmt.Fprintf(&b, "\nWARNING torch/utils/data/dataloader.py:557: worker %d is slow\n", i%8)
			}
		}
		fmt.Fprintf(&b, "\n[epoch %d] val_accuracy=%.4f val_loss = %.3e\n", e, acc*float64(e)/float64(e+1), 1-acc)
	}
	fmt.Fprintf(&b, "final val_accuracy=%.4f\nval_loss=%.3e\n", acc, 1-acc)
	return b.String()
}

// The logs step reads a trial's whole log (here 3 MiB per trial) and
// hands on only the metric lines: what reaches Argo parameters stays
// under a few hundred bytes per trial whatever the log's size (here
// 2 MiB each, 8 times Argo's 256 KiB capture), and the sweep still finds
// the best trial.
func TestLogsStepBoundsParameters(t *testing.T) {
	sw := newSweep("random")
	sw.Objective.Target = nil
	sw.MaxTrials = 4
	gc := goldenCase{t: resnet(1, 1), sw: sw}
	wt := workflowTemplate(t, renderCase(t, "random-single", gc))
	logs := template(t, wt, "logs")
	require.Equal(t, []string{"python3", "/kiln/selector.py", "logs"}, logs.Container.Command)
	run := template(t, wt, "run")

	p, err := NewPlan("resnet-tune", sw)
	require.NoError(t, err)
	s := newSelector(t, p)
	api := newFakeAPI(t)
	const logSize = 2 << 20
	accuracy := func(it map[string]string) float64 { return response(it, 30) }
	var biggest int
	var best string
	bestAcc := -1.0
	out, err, _ := simulateWith(t, s, p, func(round int, it map[string]string) (string, string) {
		// The run step's pod, labelled as its template says; a first try
		// was preempted (Error) and retried.
		labels := map[string]string{argoWorkflowLabel: "resnet-tune-x7k2p"}
		for k, v := range run.Metadata.Labels {
			labels[k] = strings.ReplaceAll(v, "{{inputs.parameters.trial}}", it["trial"])
		}
		pod := "resnet-tune-x7k2p-run-" + it["trial"]
		acc := accuracy(it)
		if acc > bestAcc {
			bestAcc, best = acc, it["trial"]
		}
		api.addPod(pod+"-1", "2026-12-01T10:00:00Z", "Failed", labels, "main", "val_accuracy=0.99\n")
		api.addPod(pod+"-2", "2026-12-01T10:05:00Z", "Succeeded", labels, "main", noisyLog(logSize, acc))
		env := api.stepEnv(t, logs, map[string]string{"{{workflow.name}}": "resnet-tune-x7k2p", "{{inputs.parameters.trial}}": it["trial"]})
		files := s.must("logs", env, nil)
		biggest = max(biggest, len(files["metrics"]))
		return files["metrics"], "Succeeded"
	})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, api.served, 4*logSize, "every trial's whole log was read")
	assert.LessOrEqual(t, biggest, 256, "the metrics parameter holds the metric lines only")
	assert.Equal(t, best, out["best-trial"], "the best trial is the one with the best final accuracy")
	v, _ := strconv.ParseFloat(out["best-value"], 64)
	assert.InDelta(t, bestAcc, v, 1e-4, "the last value of the metric counts, not an epoch's or a failed try's")
	assert.Less(t, len(out["history"])+len(out["history.json"]), 8<<10, "the whole history of 4 trials is a few KiB")
}

// simulateWith is simulate with trials that return the collect step's
// input (the reader's metrics) rather than a log.
func simulateWith(t *testing.T, s *selector, p *Plan, run func(round int, item map[string]string) (string, string)) (map[string]string, error, int) {
	return simulate(t, s, p, func(round int, it map[string]string) outcome {
		o, status := run(round, it)
		return outcome{log: o, status: status}
	}, nil)
}

// W7: without maxFailedTrials, the first failed trial ends the sweep,
// failed, as the schema says, in both backends.
func TestMaxFailedTrialsDefault(t *testing.T) {
	sw := newSweep("random")
	sw.Objective.Target = nil
	require.Zero(t, sw.MaxFailedTrials, "the schema's default")
	p, err := NewPlan("resnet-tune", sw)
	require.NoError(t, err)
	s := newSelector(t, p)
	n := 0
	out, err, rounds := simulate(t, s, p, func(_ int, it map[string]string) outcome {
		n++
		if n == 2 {
			return outcome{"RuntimeError: CUDA error: out of memory\n", "Failed"}
		}
		return outcome{trainerLog(3, func(e int) float64 { return response(it, e) }), "Succeeded"}
	}, nil)
	require.Error(t, err)
	assert.Equal(t, "sweep failed: 1 trials failed, more than maxFailedTrials (0)", err.Error())
	assert.Equal(t, 1, rounds, "stopped after the round with the failure")
	assert.Contains(t, out["summary.md"], "2 trials (1 succeeded, 1 failed)")

	// A trial that ran but never reported the objective counts too.
	s = newSelector(t, p)
	_, err, _ = simulate(t, s, p, func(_ int, it map[string]string) outcome { return outcome{"done\n", "Succeeded"} }, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "more than maxFailedTrials (0)")

	katib := newSweep("random")
	katib.Backend = "katib"
	exp, err := Katib(&ir.System{Name: "skin-lesion"}, environment(64, resnet(1, 1), nil), "resnet-tune", katib)
	require.NoError(t, err)
	require.NotNil(t, exp.Spec.MaxFailedTrialCount, "Katib never stops on failures without maxFailedTrialCount")
	assert.Zero(t, *exp.Spec.MaxFailedTrialCount)
}

// W8: a single-pod trial is the workload Kueue must admit: its pod has
// the job's queue label and priority class.
func TestSingleTrialsKeepQueueAndPriority(t *testing.T) {
	for _, alg := range []string{"random", "tpe", "hyperband"} {
		sw := newSweep(alg)
		if alg == "hyperband" {
			sw.MaxTrials = 30
			sw.Hyperband = &struct {
				Resource string `json:"resource"`
				Min      int    `json:"min"`
				Max      int    `json:"max"`
				Eta      int    `json:"eta"`
			}{"epochs", 3, 27, 3}
		}
		wt := workflowTemplate(t, renderCase(t, alg, goldenCase{t: queued(resnet(1, 1)), sw: sw}))
		var runs int
		for _, tmpl := range wt.Spec.Templates {
			if tmpl.Container == nil || tmpl.Container.Image != resnet(1, 1).Image {
				continue
			}
			runs++
			assert.Equal(t, "team-derm", tmpl.Metadata.Labels[training.KueueQueueLabel], "%s: %s", alg, tmpl.Name)
			assert.Equal(t, "training-high", tmpl.PriorityClassName, "%s: %s", alg, tmpl.Name)
		}
		assert.Equal(t, 1, runs, alg)
	}
}

// N7 and W2: a sweep run is bounded (deleted after its ttl, failed at
// its deadline, one at a time); a preempted trial pod is retried rather
// than counted as a failure; a distributed trial's job stops at the
// trial's timeout, in both backends.
func TestSweepRunsAreBounded(t *testing.T) {
	for name, gc := range goldenCases() {
		if gc.sw.Backend == "katib" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			wt := workflowTemplate(t, renderCase(t, name, gc))
			require.NotNil(t, wt.Spec.TTLStrategy)
			assert.Equal(t, int32(gc.sw.TTL), *wt.Spec.TTLStrategy.SecondsAfterCompletion)
			require.NotNil(t, wt.Spec.Synchronization)
			assert.Equal(t, RunMutexName("resnet-tune"), wt.Spec.Synchronization.Mutexes[0].Name)
			if gc.sw.TrialTimeout != "" {
				require.NotNil(t, wt.Spec.ActiveDeadlineSeconds, "a deadline derived from trialTimeout")
				p, err := NewPlan("resnet-tune", gc.sw)
				require.NoError(t, err)
				assert.GreaterOrEqual(t, *wt.Spec.ActiveDeadlineSeconds, int64(Waves(p))*int64(parseSeconds(t, gc.sw.TrialTimeout)))
			}
			for _, tmpl := range wt.Spec.Templates {
				if tmpl.Container != nil && tmpl.Container.Image == gc.t.Image {
					require.NotNil(t, tmpl.RetryStrategy, tmpl.Name)
					assert.Equal(t, wfv1.RetryPolicyOnError, tmpl.RetryStrategy.RetryPolicy, "only a lost pod is retried")
				}
			}
		})
	}

	// An explicit timeout wins.
	sw := newSweep("random")
	sw.TrialTimeout, sw.Timeout = "1h", "90m"
	wt := workflowTemplate(t, renderCase(t, "timeout", goldenCase{t: resnet(1, 1), sw: sw}))
	assert.Equal(t, int64(5400), *wt.Spec.ActiveDeadlineSeconds)

	// The distributed trial's job gets trialTimeout, in Argo and Katib.
	sw = newSweep("random")
	sw.TrialTimeout = "2h"
	wt = workflowTemplate(t, renderCase(t, "distributed", goldenCase{t: resnet(4, 2), sw: sw}))
	assert.Contains(t, template(t, wt, "run").Resource.Manifest, "activeDeadlineSeconds: 7200\n")
	sw.Backend = "katib"
	exp, err := Katib(&ir.System{Name: "skin-lesion"}, environment(64, resnet(4, 2), nil), "resnet-tune", sw)
	require.NoError(t, err)
	b, err := json.Marshal(exp.Spec.TrialTemplate.TrialSpec)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"activeDeadlineSeconds":7200`)
}

func parseSeconds(t *testing.T, d string) int {
	t.Helper()
	s, ok := map[string]int{"6h": 21600, "4h": 14400, "2h": 7200, "1h": 3600}[d]
	require.True(t, ok, d)
	return s
}

// B8: tpe and bayesian work with no suggestion image: the suggest step
// runs `kiln suggest` in the kiln image with the request and next files
// the suggester reads from its environment.
func TestSuggestDefaultsToKiln(t *testing.T) {
	for _, alg := range []string{"tpe", "bayesian"} {
		sw := newSweep(alg)
		wt := workflowTemplate(t, renderCase(t, alg, goldenCase{t: resnet(1, 1), sw: sw}))
		st := template(t, wt, "suggest")
		assert.Equal(t, sw.Tools.Kiln, st.Container.Image)
		assert.Equal(t, SuggestCommand, st.Container.Command)
		env := map[string]string{}
		for _, e := range st.Container.Env {
			env[e.Name] = e.Value
		}
		assert.Equal(t, SuggestionRequest, env[suggest.EnvRequest])
		assert.Equal(t, SuggestionNext, env[suggest.EnvNext])
		assert.Equal(t, SuggestionRequest, st.Inputs.Artifacts[0].Path, "the request file is where the suggester reads it")
		assert.Equal(t, SuggestionNext, st.Outputs.Parameters[0].ValueFrom.Path, "the next trials are read where the suggester writes them")
	}
	// A user's image replaces it; the contract stays.
	sw := newSweep("tpe")
	sw.Suggestion = &struct {
		Image   string   `json:"image"`
		Command []string `json:"command,omitempty"`
	}{"ghcr.io/acme/optuna-suggest:1.0", nil}
	wt := workflowTemplate(t, renderCase(t, "own", goldenCase{t: resnet(1, 1), sw: sw}))
	st := template(t, wt, "suggest")
	assert.Equal(t, "ghcr.io/acme/optuna-suggest:1.0", st.Container.Image)
	assert.Empty(t, st.Container.Command)
	assert.True(t, slices.ContainsFunc(st.Container.Env, func(e corev1.EnvVar) bool { return e.Name == suggest.EnvRequest }))
}

// B8: kiln's suggester speaks the selector's contract: it reads the
// request the plan step writes, and adopt accepts every trial it
// proposes, round after round, until maxTrials.
func TestBuiltinSuggesterWithSelector(t *testing.T) {
	sw := newSweep("tpe")
	sw.Objective.Target = nil
	sw.MaxTrials = 12
	sw.Parallel = 3
	sw.Parameters["layers"] = &ir.SweepParameter{Min: fp(2), Max: fp(6), Scale: "linear"}
	p, err := NewPlan("resnet-tune", sw)
	require.NoError(t, err)
	s := newSelector(t, p)
	calls := 0
	out, err, rounds := simulate(t, s, p, func(_ int, it map[string]string) outcome {
		return outcome{trainerLog(5, func(e int) float64 { return response(it, e) }), "Succeeded"}
	}, func(req map[string]any) string {
		b, err := json.Marshal(req)
		require.NoError(t, err)
		r, err := suggest.ParseRequest(b)
		require.NoError(t, err)
		calls++
		next, err := json.Marshal(suggest.Suggest(r, suggest.Options{}))
		require.NoError(t, err)
		return string(next)
	})
	require.NoError(t, err)
	assert.Equal(t, 4, rounds)
	assert.Equal(t, 4, calls)
	assert.Len(t, history(t, out)["trials"], 12)
	assert.NotEmpty(t, out["best-trial"])
}

// S9: a renamed Katib Experiment is pruned by Argo CD unless the sweep
// keeps its history; then Argo CD leaves it.
func TestKeepHistory(t *testing.T) {
	sw := newSweep("random")
	sw.Backend = "katib"
	env := environment(64, resnet(1, 1), nil)
	exp, err := Katib(&ir.System{Name: "skin-lesion"}, env, "resnet-tune", sw)
	require.NoError(t, err)
	assert.Empty(t, exp.Annotations)
	sw.KeepHistory = true
	kept, err := Katib(&ir.System{Name: "skin-lesion"}, env, "resnet-tune", sw)
	require.NoError(t, err)
	assert.Equal(t, "Prune=false", kept.Annotations["argocd.argoproj.io/sync-options"])
	assert.Equal(t, exp.Name, kept.Name, "keeping history does not rename the Experiment")

	// The Argo backend has nothing to keep: refused at the field.
	sw.Backend = "argo"
	_, diags := renderEnv(environment(64, resnet(1, 1), map[string]*ir.Sweep{"resnet-tune": sw}))
	require.Len(t, diags, 1)
	assert.Equal(t, ir.Join(ir.Path("sweeps", "resnet-tune"), "keepHistory"), diags[0].Path)
}

// Without trialTimeout, a distributed trial's job still ends at the
// sweep's timeout: a stopped run's jobs do not train on.
func TestTrialJobBoundedBySweepTimeout(t *testing.T) {
	sw := newSweep("random")
	sw.Timeout = "3h"
	wt := workflowTemplate(t, renderCase(t, "distributed", goldenCase{t: resnet(4, 2), sw: sw}))
	assert.Contains(t, template(t, wt, "run").Resource.Manifest, "activeDeadlineSeconds: 10800\n")
	assert.Equal(t, int64(10800), *wt.Spec.ActiveDeadlineSeconds)
}

// An adaptive sweep over a finite space smaller than maxTrials would run
// out of new trials: refused at maxTrials.
func TestAdaptiveSpaceTooSmall(t *testing.T) {
	sw := newSweep("tpe")
	sw.Parameters = map[string]*ir.SweepParameter{"batch": {Values: []ir.Value{val(`32`), val(`64`)}, Scale: "linear"}, "layers": {Min: fp(1), Max: fp(3), Scale: "linear"}}
	sw.MaxTrials = 8
	_, diags := renderEnv(environment(64, resnet(1, 1), map[string]*ir.Sweep{"resnet-tune": sw}))
	require.Len(t, diags, 1)
	assert.Equal(t, ir.Join(ir.Path("sweeps", "resnet-tune"), "maxTrials"), diags[0].Path)
	assert.Contains(t, diags[0].Msg, "the space has only 6 distinct trials, fewer than maxTrials (8)")
	sw.MaxTrials = 6
	_, diags = renderEnv(environment(64, resnet(1, 1), map[string]*ir.Sweep{"resnet-tune": sw}))
	assert.Empty(t, diags)
}

// W2 for sweeps: a run over distributed trials that does not succeed
// (stopped, failed, past its deadline) deletes its trials' jobs on exit,
// so no job trains on holding GPUs after its run; the workflow Role may
// do exactly that.
func TestFailedSweepRunDeletesTrialJobs(t *testing.T) {
	sw := newSweep("random")
	wt := workflowTemplate(t, renderCase(t, "distributed", goldenCase{t: resnet(4, 2), sw: sw}))
	require.Equal(t, ExitHandler, wt.Spec.OnExit)
	handler := template(t, wt, ExitHandler)
	require.Len(t, handler.DAG.Tasks, 1)
	task := handler.DAG.Tasks[0]
	assert.Equal(t, "'{{workflow.status}}' != 'Succeeded'", task.When, "a succeeded run keeps its jobs (and the trials' logs)")
	cleanup := template(t, wt, task.Template)

	// The run's trial jobs carry the label the cleanup selects.
	run := template(t, wt, "run")
	assert.Contains(t, run.Resource.Manifest, "kiln.dev/workflow: '{{workflow.name}}'")

	p, err := NewPlan("resnet-tune", sw)
	require.NoError(t, err)
	s := newSelector(t, p)
	api := newFakeAPI(t)
	env := api.stepEnv(t, cleanup, map[string]string{"{{workflow.name}}": "resnet-tune-x7k2p"})
	s.must("cleanup", env, nil)
	assert.Equal(t, []string{"/apis/kubeflow.org/v1/namespaces/derm-ml/pytorchjobs?kiln.dev/workflow=resnet-tune-x7k2p"}, api.deleted)

	// Single-pod trials are the run's own pods: nothing to delete.
	wt = workflowTemplate(t, renderCase(t, "single", goldenCase{t: resnet(1, 1), sw: newSweep("random")}))
	assert.Empty(t, wt.Spec.OnExit)
}

// Katib trials of a Trainer v2 entry are an error at the sweep's trial,
// and an Argo sweep's trials run as TrainJobs bounded by trialTimeout.
func TestTrainerV2Trials(t *testing.T) {
	v2 := resnet(4, 2)
	v2.API = ir.TrainingV2
	sw := newSweep("random")
	sw.Backend = "katib"
	_, diags := renderEnv(environment(64, v2, map[string]*ir.Sweep{"resnet-tune": sw}))
	require.True(t, diags.HasErrors())
	var paths []string
	for _, d := range diags {
		paths = append(paths, fmt.Sprintf("%s:%d %s", d.Path, d.Pos.Line, d.Msg))
	}
	assert.Contains(t, strings.Join(paths, "\n"), `sweeps."resnet-tune".trial:11 training.resnet runs on Kubeflow Trainer v2, and Katib runs a TrainJob as a trial only when katib-config lists TrainJob.v1alpha1.trainer.kubeflow.org in trialResources (Katib v0.19's standalone install does); say that it does with katib: trainJobs: true`)

	// Once the environment says its Katib runs TrainJobs, the trial is a
	// TrainJob Katib judges by its Complete and Failed conditions.
	items := renderCase(t, "katib-trainjob", goldenCase{t: v2, sw: sw, katib: &ir.Katib{TrainJobs: true}})
	require.Len(t, items, 1)
	exp := items[0].Object.(*Experiment)
	tt := exp.Spec.TrialTemplate
	assert.Equal(t, "TrainJob", tt.TrialSpec["kind"])
	assert.Equal(t, `status.conditions.#(type=="Complete")#|#(status=="True")#`, tt.SuccessCondition)
	assert.Equal(t, `status.conditions.#(type=="Failed")#|#(status=="True")#`, tt.FailureCondition)
	assert.Equal(t, "node", tt.PrimaryContainerName)
	assert.Equal(t, map[string]string{"jobset.sigs.k8s.io/replicatedjob-name": "node", "jobset.sigs.k8s.io/job-index": "0", "batch.kubernetes.io/job-completion-index": "0"}, tt.PrimaryPodLabels)

	sw = newSweep("random")
	sw.TrialTimeout = "2h"
	v2 = resnet(4, 2)
	v2.API = ir.TrainingV2
	wt := workflowTemplate(t, renderCase(t, "trainjob", goldenCase{t: v2, sw: sw}))
	m := template(t, wt, "run").Resource.Manifest
	assert.Contains(t, m, "kind: TrainJob\n")
	assert.Contains(t, m, "  activeDeadlineSeconds: 7200\n")
}
