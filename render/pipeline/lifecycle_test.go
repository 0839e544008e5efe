package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Knetic/govaluate"
	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/argo"
	"github.com/kiln-ml/kiln/render/pipeline"
	"github.com/kiln-ml/kiln/render/rendertest"
	"github.com/kiln-ml/kiln/render/training"
)

// renderFiles compiles and renders a spec given as its files, returning
// every rendered file and the diagnostics.
func renderFiles(t *testing.T, files map[string]string) (map[string][]byte, diag.List) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	sys, diags := compiler.Compile(context.Background(), dir, compiler.Options{})
	require.False(t, diags.HasErrors(), "%v", diags)
	res, diags := render.Render(context.Background(), sys, render.Options{Renderers: plugins.Builtins()})
	if diags.HasErrors() {
		return nil, diags
	}
	out, err := render.Files(res)
	require.NoError(t, err)
	return out, diags
}

// workflowTemplates decodes the WorkflowTemplates among rendered files.
func workflowTemplates(t *testing.T, files map[string][]byte) []*wfv1.WorkflowTemplate {
	var out []*wfv1.WorkflowTemplate
	for _, p := range slices.Sorted(func(yield func(string) bool) {
		for p := range files {
			if !yield(p) {
				return
			}
		}
	}) {
		if !strings.HasPrefix(filepath.Base(p), "workflowtemplate-") {
			continue
		}
		var wt wfv1.WorkflowTemplate
		require.NoError(t, yaml.Unmarshal(files[p], &wt))
		out = append(out, &wt)
	}
	return out
}

func template(wt *wfv1.WorkflowTemplate, name string) *wfv1.Template {
	for i := range wt.Spec.Templates {
		if wt.Spec.Templates[i].Name == name {
			return &wt.Spec.Templates[i]
		}
	}
	return nil
}

// manifestDocs splits a resource template's manifest into objects.
func manifestDocs(t *testing.T, m string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, doc := range strings.Split(m, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		u := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal([]byte(doc), &u.Object))
		out = append(out, u)
	}
	return out
}

// jobDeadline is a job's runPolicy.activeDeadlineSeconds.
func jobDeadline(t *testing.T, job *unstructured.Unstructured) (int64, bool) {
	t.Helper()
	v, found, err := unstructured.NestedFieldNoCopy(job.Object, "spec", "runPolicy", "activeDeadlineSeconds")
	require.NoError(t, err)
	switch v := v.(type) {
	case int64:
		return v, found
	case float64:
		require.Equal(t, float64(int64(v)), v, "whole seconds")
		return int64(v), found
	}
	return 0, false
}

// evalCondition evaluates an Argo `when` as the controller does, after
// substituting vars; it returns the evaluator's error, if any.
func evalCondition(when string, vars map[string]string) (bool, error) {
	for k, v := range vars {
		when = strings.ReplaceAll(when, "{{"+k+"}}", v)
	}
	expr, err := govaluate.NewEvaluableExpression(when)
	if err != nil {
		return false, err
	}
	toks := expr.Tokens()
	for i, tok := range toks {
		if tok.Kind == govaluate.VARIABLE {
			tok.Kind = govaluate.STRING
			toks[i] = tok
		}
	}
	if expr, err = govaluate.NewEvaluableExpressionFromTokens(toks); err != nil {
		return false, err
	}
	res, err := expr.Evaluate(nil)
	if err != nil {
		return false, err
	}
	b, _ := res.(bool)
	return b, nil
}

const lifecycleSpec = `package t

name:      "demo"
namespace: "demo"
environments: dev: gpu: {quota: 8, products: ["NVIDIA-L4"]}
artifacts: s3: {bucket: "runs", endpoint: "minio.minio.svc:9000", keyPrefix: "kiln", credentials: {secret: "minio", accessKey: "a", secretKey: "s"}}
training: {
	bert: {framework: "pytorch", image: "t:1", workers: 2, resources: gpus: 1}
	gbm: {framework: "xgboost", image: "t:1", workers: 2, runPolicy: activeDeadlineSeconds: 600}
}
pipelines: p: {
	timeout: "12h"
	onExit:  "notify"
	steps: {
		prep: {image: "t:1", outputs: artifacts: ["shards", "stats"]}
		fit: {after: ["prep"], training: "bert", timeout: "90m", inputs: artifacts: ["shards"]}
		boost: {after: ["prep"], training: "gbm"}
		tidy: {after: ["prep"], image: "t:1", inputs: artifacts: ["stats"]}
		notify: {image: "t:1"}
	}
}
`

// TestTrainingJobsEndWithTheRun: every job a pipeline's resource
// templates create has a deadline no later than the step's (else the
// pipeline's) timeout, is owned by the run, is applied (so a retried
// waiter re-attaches) by a waiter retried on errors, carries kiln's
// workflow label rather than Argo CD's tracking label, and is deleted by
// the exit handler whenever the run did not succeed; the user's own exit
// step still runs.
func TestTrainingJobsEndWithTheRun(t *testing.T) {
	files, diags := renderFiles(t, map[string]string{"spec.cue": lifecycleSpec})
	require.False(t, diags.HasErrors(), "%v", diags)
	wts := workflowTemplates(t, files)
	require.Len(t, wts, 1)
	wt := wts[0]

	steps := map[string]string{"fit": "90m", "boost": "12h"}
	created := map[string]string{} // job name -> kind
	for _, tmpl := range wt.Spec.Templates {
		r := tmpl.Resource
		if r == nil || r.Action == "delete" {
			continue
		}
		timeout, ok := steps[tmpl.Name]
		require.True(t, ok, "unexpected resource template %s", tmpl.Name)
		assert.Equal(t, "apply", r.Action, tmpl.Name)
		assert.True(t, r.SetOwnerReference, tmpl.Name)
		if assert.NotNil(t, tmpl.RetryStrategy, tmpl.Name) {
			assert.Equal(t, wfv1.RetryPolicyOnError, tmpl.RetryStrategy.RetryPolicy, tmpl.Name)
			assert.NotNil(t, tmpl.RetryStrategy.Limit, "an unbounded retry would never end: %s", tmpl.Name)
		}
		docs := manifestDocs(t, r.Manifest)
		require.Len(t, docs, 1)
		job := docs[0]
		d, err := time.ParseDuration(timeout)
		require.NoError(t, err)
		deadline, found := jobDeadline(t, job)
		if assert.True(t, found, "%s: the job has no deadline", tmpl.Name) {
			assert.LessOrEqual(t, deadline, int64(d.Seconds()), tmpl.Name)
			assert.Positive(t, deadline, tmpl.Name)
		}
		assert.Equal(t, "{{workflow.name}}", job.GetLabels()[argo.LabelWorkflow], tmpl.Name)
		assert.NotContains(t, job.GetLabels(), render.LabelInstance, "Argo CD tracks applications by this label: %s", tmpl.Name)
		created[job.GetName()] = job.GetKind()
	}
	assert.Len(t, created, 2)
	// The entry's own shorter deadline stays.
	boost := manifestDocs(t, template(wt, "boost").Resource.Manifest)[0]
	deadline, _ := jobDeadline(t, boost)
	assert.EqualValues(t, 600, deadline)

	// The exit handler: a DAG whose delete task runs unless the run
	// succeeded, and deletes exactly the jobs created.
	exit := template(wt, wt.Spec.OnExit)
	require.NotNil(t, exit, "onExit %q", wt.Spec.OnExit)
	require.NotNil(t, exit.DAG)
	var deleted map[string]string
	var userExit bool
	for _, task := range exit.DAG.Tasks {
		tmpl := template(wt, task.Template)
		require.NotNil(t, tmpl, task.Template)
		if tmpl.Resource == nil {
			userExit = userExit || task.Template == "notify"
			continue
		}
		assert.Equal(t, "delete", tmpl.Resource.Action)
		assert.Contains(t, tmpl.Resource.Flags, "--ignore-not-found")
		deleted = map[string]string{}
		for _, d := range manifestDocs(t, tmpl.Resource.Manifest) {
			deleted[d.GetName()] = d.GetKind()
			assert.Equal(t, "demo", d.GetNamespace())
		}
		for status, want := range map[string]bool{"Succeeded": false, "Failed": true, "Error": true} {
			got, err := evalCondition(task.When, map[string]string{"workflow.status": status})
			require.NoError(t, err, task.When)
			assert.Equal(t, want, got, "%s with the run %s", task.When, status)
		}
	}
	assert.Equal(t, created, deleted)
	assert.True(t, userExit, "the user's exit step still runs")

	// The workflow's Role allows what these templates do with the jobs.
	checkRole(t, files, wt)
}

// TestRunNamedWithADot: Argo accepts any DNS subdomain as a run's name,
// so a run submitted by hand may be named retrain.v2; the jobs its
// training steps create, and the exit handler deletes, must still be
// named with DNS-1035 labels (the operators refuse a dot). The
// templates are evaluated by Argo's own substitution code, for a name
// with dots and for one Argo generates (unchanged).
func TestRunNamedWithADot(t *testing.T) {
	files, diags := renderFiles(t, map[string]string{"spec.cue": lifecycleSpec})
	require.False(t, diags.HasErrors(), "%v", diags)
	wts := workflowTemplates(t, files)
	require.Len(t, wts, 1)
	wt := wts[0]
	for run, prefix := range map[string]string{"p.by.hand": "p-by-hand", "p-1765000000": "p-1765000000"} {
		vars := map[string]string{"workflow.name": run}
		names := map[string][]string{} // action -> job names
		for _, tmpl := range wt.Spec.Templates {
			if tmpl.Resource == nil {
				continue
			}
			for _, d := range manifestDocs(t, rendertest.Substitute(t, tmpl.Resource.Manifest, vars)) {
				assert.Empty(t, validation.IsDNS1035Label(d.GetName()), "%s: %s", run, d.GetName())
				names[tmpl.Resource.Action] = append(names[tmpl.Resource.Action], d.GetName())
				if tmpl.Resource.Action == "apply" {
					// The label keeps the run's own name: a label
					// value may hold dots.
					assert.Equal(t, run, d.GetLabels()[argo.LabelWorkflow])
				}
			}
		}
		slices.Sort(names["apply"])
		slices.Sort(names["delete"])
		assert.Equal(t, []string{prefix + "-boost", prefix + "-fit"}, names["apply"], run)
		assert.Equal(t, names["apply"], names["delete"], "%s: the exit handler deletes the jobs created", run)
	}
}

// checkRole asserts that the workflow Role grants every verb kubectl
// needs for the actions of wt's resource templates on their kinds.
func checkRole(t *testing.T, files map[string][]byte, wt *wfv1.WorkflowTemplate) {
	t.Helper()
	var role rbacv1.Role
	for p, b := range files {
		if filepath.Base(p) == "role-"+wt.Spec.ServiceAccountName+".yaml" {
			require.NoError(t, yaml.Unmarshal(b, &role))
		}
	}
	require.NotEmpty(t, role.Rules, "no Role for %s", wt.Spec.ServiceAccountName)
	plural := map[string]string{}
	for _, k := range (training.Renderer{}).Kinds() {
		plural[k.Kind] = k.Plural
	}
	// kubectl apply (client side) gets the object, then creates it or
	// patches it; delete deletes it by name.
	needs := map[string][]string{"apply": {"get", "create", "patch"}, "delete": {"delete"}, "create": {"create"}, "get": {"get"}}
	allowed := func(group, resource, verb string) bool {
		for _, r := range role.Rules {
			if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) {
				return true
			}
		}
		return false
	}
	for _, tmpl := range wt.Spec.Templates {
		if tmpl.Resource == nil {
			continue
		}
		for _, d := range manifestDocs(t, tmpl.Resource.Manifest) {
			res := plural[d.GetKind()]
			require.NotEmpty(t, res, d.GetKind())
			for _, verb := range needs[tmpl.Resource.Action] {
				assert.True(t, allowed(d.GroupVersionKind().Group, res, verb), "%s: %s %s needs %s", tmpl.Name, tmpl.Resource.Action, res, verb)
			}
		}
	}
}

// TestArtifactsReachTrainingJobs: a training step that takes an
// artifact gets, in every container of its job, the URI at which the
// producer stores it, stored unarchived so the job can read it; nothing
// is downloaded into the waiter pod, which no training code runs in.
func TestArtifactsReachTrainingJobs(t *testing.T) {
	files, diags := renderFiles(t, map[string]string{"spec.cue": lifecycleSpec})
	require.False(t, diags.HasErrors(), "%v", diags)
	wt := workflowTemplates(t, files)[0]

	prep := template(wt, "prep")
	require.NotNil(t, prep)
	var stored string
	for _, a := range prep.Outputs.Artifacts {
		if a.Name == "shards" {
			require.NotNil(t, a.S3, "shards has no fixed key")
			stored = "s3://runs/" + a.S3.Key
		}
		// N10: every output artifact is stored as it is, not as a tar.gz.
		if assert.NotNil(t, a.Archive, a.Name) {
			assert.NotNil(t, a.Archive.None, a.Name)
		}
	}
	require.NotEmpty(t, stored)
	assert.Contains(t, stored, "{{workflow.name}}", "the key is one run's")

	fit := template(wt, "fit")
	assert.Empty(t, fit.Inputs.Artifacts, "the waiter pod would download it for nobody")
	job := manifestDocs(t, fit.Resource.Manifest)[0]
	specs, _, err := unstructured.NestedMap(job.Object, "spec", "pytorchReplicaSpecs")
	require.NoError(t, err)
	n := 0
	for role := range specs {
		ctrs, _, err := unstructured.NestedSlice(specs, role, "template", "spec", "containers")
		require.NoError(t, err)
		for _, c := range ctrs {
			n++
			var got string
			envs, _, _ := unstructured.NestedSlice(c.(map[string]any), "env")
			for _, e := range envs {
				if e := e.(map[string]any); e["name"] == pipeline.ArtifactEnv("shards") {
					got, _ = e["value"].(string)
				}
			}
			assert.Equal(t, stored, got, "%s container", role)
		}
	}
	assert.Equal(t, 2, n)

	// A container step still downloads its artifact.
	tidy := template(wt, "tidy")
	require.Len(t, tidy.Inputs.Artifacts, 1)
	assert.Equal(t, pipeline.ArtifactDir+"/stats", tidy.Inputs.Artifacts[0].Path)
}

// TestNumericConditionsParse: an output parameter that a condition
// compares as a number never takes a default that Argo's evaluator cannot
// parse in that comparison (an empty default makes "{{…}} > 0.9" read
// " > 0.9", a parse error that ends the run in Error instead of skipping
// the step).
func TestNumericConditionsParse(t *testing.T) {
	files, diags := renderFiles(t, map[string]string{"spec.cue": `package t

name:      "demo"
namespace: "demo"
pipelines: p: steps: {
	evaluate: {image: "t:1", outputs: parameters: ["accuracy", "loss", "verdict", "note"]}
	promote: {after: ["evaluate"], image: "t:1", when: "evaluate.accuracy > 0.9 && 0.5 >= evaluate.loss && evaluate.verdict == 'ship'"}
	report: {after: ["evaluate"], image: "t:1", inputs: parameters: n: "evaluate.note"}
}
`})
	require.False(t, diags.HasErrors(), "%v", diags)
	wt := workflowTemplates(t, files)[0]
	defaults := map[string]*string{} // parameter reference -> default
	for _, tmpl := range wt.Spec.Templates {
		for _, p := range tmpl.Outputs.Parameters {
			ref := "tasks." + tmpl.Name + ".outputs.parameters." + p.Name
			defaults[ref] = nil
			if p.ValueFrom != nil && p.ValueFrom.Default != nil {
				s := p.ValueFrom.Default.String()
				defaults[ref] = &s
			}
		}
	}
	valid := map[string]string{
		"tasks.evaluate.outputs.parameters.accuracy": "0.95",
		"tasks.evaluate.outputs.parameters.loss":     "0.1",
		"tasks.evaluate.outputs.parameters.verdict":  "ship",
	}
	checked := 0
	for _, task := range template(wt, "main").DAG.Tasks {
		if task.When == "" {
			continue
		}
		holds, err := evalCondition(task.When, valid)
		require.NoError(t, err, task.When)
		assert.True(t, holds, task.When)
		for ref := range valid {
			if !strings.Contains(task.When, "{{"+ref+"}}") || defaults[ref] == nil {
				continue
			}
			// The producer succeeded without writing the file: Argo
			// substitutes the default.
			vars := map[string]string{}
			for k, v := range valid {
				vars[k] = v
			}
			vars[ref] = *defaults[ref]
			checked++
			_, err := evalCondition(task.When, vars)
			assert.NoError(t, err, "%s with %s defaulted to %q", task.When, ref, *defaults[ref])
		}
	}
	assert.Equal(t, 1, checked, "only the string comparison keeps its default")
	// Outputs no condition compares as numbers keep their default, so
	// that their consumers still resolve them.
	assert.NotNil(t, defaults["tasks.evaluate.outputs.parameters.note"])
	assert.Nil(t, defaults["tasks.evaluate.outputs.parameters.accuracy"])
	assert.Nil(t, defaults["tasks.evaluate.outputs.parameters.loss"])
}

// TestArtifactInputChecks: artifact inputs of a training step that
// cannot work are reported at their spec position, with the CUE path.
func TestArtifactInputChecks(t *testing.T) {
	for name, c := range map[string]struct {
		spec string
		want []string // path: message fragment
	}{
		"no repository": {`package t

name:      "demo"
namespace: "demo"
training: bert: {framework: "pytorch", image: "t:1", workers: 2}
pipelines: p: steps: {
	prep: {image: "t:1", outputs: artifacts: ["shards"]}
	fit: {after: ["prep"], training: "bert", inputs: artifacts: ["shards"]}
}
`, []string{
			"spec.cue:7:", "pipelines.p.steps.prep.outputs.artifacts: step prep passes artifacts, but environment default has no artifact repository",
			"spec.cue:8:", "pipelines.p.steps.fit.inputs.artifacts: training step fit takes artifact \"shards\", which its job reads from the artifact repository (its URI in ARTIFACT_SHARDS_URI), but environment default has none",
		}},
		"fan-out producer": {`package t

name:      "demo"
namespace: "demo"
artifacts: s3: {bucket: "runs", endpoint: "minio:9000"}
training: bert: {framework: "pytorch", image: "t:1", workers: 2}
pipelines: p: steps: {
	prep: {image: "t:1", withItems: ["a", "b"], outputs: artifacts: ["shards"]}
	fit: {after: ["prep"], training: "bert", inputs: artifacts: ["shards"]}
}
`, []string{
			"spec.cue:8:", "pipelines.p.steps.prep.withItems: step prep fans out, but its artifact \"shards\" is handed to a promote or training step by its URI, which every item would overwrite",
		}},
	} {
		t.Run(name, func(t *testing.T) {
			_, diags := renderFiles(t, map[string]string{"spec.cue": c.spec})
			require.True(t, diags.HasErrors())
			var got []string
			for _, d := range diags {
				got = append(got, fmt.Sprintf("%s:%d:%d: %s: %s", filepath.Base(d.Pos.File), d.Pos.Line, d.Pos.Col, d.Path, d.Msg))
			}
			for i := 0; i < len(c.want); i += 2 {
				found := false
				for _, g := range got {
					found = found || strings.HasPrefix(g, c.want[i]) && strings.Contains(g, c.want[i+1])
				}
				assert.True(t, found, "want %s … %s in\n%s", c.want[i], c.want[i+1], strings.Join(got, "\n"))
			}
		})
	}
}

// The deadline is whole seconds, rounded up: a job never gets less time
// than its step.
func TestJobDeadlineRoundsUp(t *testing.T) {
	spec := strings.Replace(lifecycleSpec, `timeout: "90m"`, `timeout: "1500ms"`, 1)
	files, diags := renderFiles(t, map[string]string{"spec.cue": spec})
	require.False(t, diags.HasErrors(), "%v", diags)
	wt := workflowTemplates(t, files)[0]
	job := manifestDocs(t, template(wt, "fit").Resource.Manifest)[0]
	d, found := jobDeadline(t, job)
	require.True(t, found)
	assert.Equal(t, "2", strconv.FormatInt(d, 10))
}

// TestRunObjectsAvoidArgoCDTrackingLabel: the objects a workflow run
// creates (a pipeline's jobs, a sweep's distributed trial jobs, a sweep's
// child pipeline runs) carry kiln's workflow label and not
// app.kubernetes.io/instance, which Argo CD's label tracking would read
// as membership of an application named after the run.
func TestRunObjectsAvoidArgoCDTrackingLabel(t *testing.T) {
	files, diags := renderFiles(t, map[string]string{"spec.cue": lifecycleSpec + `
pipelines: q: {
	parameters: lr: default: "0.1"
	steps: evaluate: {image: "t:1", outputs: parameters: ["acc"]}
}
sweeps: {
	bert_tune: {
		trial: "bert"
		objective: {metric: "acc", goal: "maximize"}
		algorithm: "random"
		parameters: lr: {min: 0.001, max: 0.1}
		maxTrials: 2
		parallel:  1
	}
	q_tune: {
		pipeline: "q"
		objective: {metric: "acc", goal: "maximize"}
		algorithm: "random"
		parameters: lr: {min: 0.001, max: 0.1}
		maxTrials: 2
		parallel:  1
	}
}
`})
	require.False(t, diags.HasErrors(), "%v", diags)
	n := 0
	for _, wt := range workflowTemplates(t, files) {
		for _, tmpl := range wt.Spec.Templates {
			if tmpl.Resource == nil || tmpl.Resource.Action == "delete" {
				continue
			}
			for _, obj := range manifestDocs(t, tmpl.Resource.Manifest) {
				n++
				assert.NotContains(t, obj.GetLabels(), render.LabelInstance, "%s/%s: %s", wt.Name, tmpl.Name, obj.GetKind())
				assert.Equal(t, "{{workflow.name}}", obj.GetLabels()[argo.LabelWorkflow], "%s/%s: %s", wt.Name, tmpl.Name, obj.GetKind())
			}
		}
	}
	assert.GreaterOrEqual(t, n, 4, "two pipeline jobs, a trial job and a child run")
}
