package pipeline

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/Knetic/govaluate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/ir"
)

// evalWhen evaluates a translated condition as Argo's controller does
// (shouldExecute): after substitution, with bare words taken as strings.
func evalWhen(t *testing.T, when string, vars map[string]string) bool {
	t.Helper()
	for k, v := range vars {
		when = strings.ReplaceAll(when, "{{"+k+"}}", v)
	}
	expr, err := govaluate.NewEvaluableExpression(when)
	require.NoError(t, err, when)
	toks := expr.Tokens()
	for i, tok := range toks {
		if tok.Kind == govaluate.VARIABLE {
			tok.Kind = govaluate.STRING
			toks[i] = tok
		}
	}
	expr, err = govaluate.NewEvaluableExpressionFromTokens(toks)
	require.NoError(t, err, when)
	res, err := expr.Evaluate(nil)
	require.NoError(t, err, when)
	b, ok := res.(bool)
	require.True(t, ok, "%s gave %v", when, res)
	return b
}

func testGraph() *graph {
	p := &ir.Pipeline{
		Parameters: map[string]*ir.Parameter{"min": {Default: &ir.Value{RawMessage: json.RawMessage(`0.8`)}}},
		Steps: map[string]*ir.Step{
			"evaluate": {Image: "t", Outputs: &ir.StepOutputs{Parameters: []string{"accuracy", "verdict"}}},
			"promote":  {After: []string{"evaluate"}},
		},
	}
	return newGraph("p", p)
}

func TestTranslateWhen(t *testing.T) {
	g := testGraph()
	acc := "tasks.evaluate.outputs.parameters.accuracy"
	verdict := "tasks.evaluate.outputs.parameters.verdict"
	cases := []struct {
		when  string
		want  string
		vars  map[string]string
		holds bool
	}{
		{"evaluate.accuracy > 0.9", "{{" + acc + "}} > 0.9", map[string]string{acc: "0.93"}, true},
		{"evaluate.accuracy > 0.9", "{{" + acc + "}} > 0.9", map[string]string{acc: "0.85"}, false},
		{"evaluate.accuracy >= parameters.min", "{{" + acc + "}} >= {{workflow.parameters.min}}", map[string]string{acc: "0.8", "workflow.parameters.min": "0.8"}, true},
		{"evaluate.verdict == 'ship it'", "'{{" + verdict + "}}' == 'ship it'", map[string]string{verdict: "ship it"}, true},
		{"evaluate.verdict != 'ship'", "'{{" + verdict + "}}' != 'ship'", map[string]string{verdict: "hold"}, true},
		{"evaluate.accuracy > 0.9 && evaluate.verdict == 'ship'", "{{" + acc + "}} > 0.9 && '{{" + verdict + "}}' == 'ship'", map[string]string{acc: "0.95", verdict: "hold"}, false},
		{"evaluate.accuracy > 0.9 || evaluate.verdict == 'ship'", "{{" + acc + "}} > 0.9 || '{{" + verdict + "}}' == 'ship'", map[string]string{acc: "0.5", verdict: "ship"}, true},
		// The default of an output a skipped step did not write is
		// empty; a string comparison with it is still well formed.
		{"evaluate.verdict == 'ship'", "'{{" + verdict + "}}' == 'ship'", map[string]string{verdict: ""}, false},
	}
	for _, c := range cases {
		got, err := g.translateWhen("promote", c.when)
		require.NoError(t, err, c.when)
		assert.Equal(t, c.want, got, c.when)
		assert.Equal(t, c.holds, evalWhen(t, got, c.vars), "%s with %v", c.when, c.vars)
	}
}

func TestTranslateWhenErrors(t *testing.T) {
	g := testGraph()
	for when, want := range map[string]string{
		"evaluate.acc > 0.9":         `step "evaluate" has no output parameter "acc" (have "accuracy", "verdict")`,
		"evalute.accuracy > 0.9":     `no step named "evalute"`,
		"parameters.max < 1":         `no pipeline parameter named "max" (have "min")`,
		"evaluate.accuracy":          `cannot read "evaluate.accuracy"`,
		"1 < 2":                      `compares two constants`,
		"evaluate.accuracy > 0.9 &&": `cannot read ""`,
		"evaluate.accuracy ~ 3":      `cannot read`,
	} {
		_, err := g.translateWhen("promote", when)
		if assert.Error(t, err, when) {
			assert.Contains(t, err.Error(), want, when)
		}
	}
	// A step that does not run first cannot be referred to.
	_, err := g.translateWhen("evaluate", "promote.x > 1")
	assert.ErrorContains(t, err, `step "promote" has no output parameter "x"`)
}

func TestResolve(t *testing.T) {
	g := testGraph()
	v, problem := g.resolve("promote", "evaluate.accuracy")
	assert.Empty(t, problem)
	assert.Equal(t, value{expr: "{{tasks.evaluate.outputs.parameters.accuracy}}", ref: true}, v)
	v, problem = g.resolve("promote", "parameters.min")
	assert.Empty(t, problem)
	assert.Equal(t, "{{workflow.parameters.min}}", v.expr)
	v, problem = g.resolve("promote", "'model.pt'")
	assert.Empty(t, problem)
	assert.Equal(t, value{expr: "model.pt"}, v)
	v, problem = g.resolve("promote", "s3://bucket/model")
	assert.Empty(t, problem)
	assert.Equal(t, value{expr: "s3://bucket/model"}, v)
	_, problem = g.resolve("evaluate", "promote.anything")
	assert.NotEmpty(t, problem)
}

func TestDepends(t *testing.T) {
	p := &ir.Pipeline{OnExit: "notify", Steps: map[string]*ir.Step{
		"ingest":    {Image: "t", Outputs: &ir.StepOutputs{Artifacts: []string{"raw"}}},
		"prep_data": {After: []string{"ingest"}, Image: "t", Inputs: &ir.StepInputs{Artifacts: []string{"raw"}}, Outputs: &ir.StepOutputs{Parameters: []string{"rows"}}},
		"train":     {After: []string{"prep_data"}, Image: "t"},
		"evaluate":  {After: []string{"train"}, Image: "t", When: "prep_data.rows > 1000", Outputs: &ir.StepOutputs{Parameters: []string{"score"}}},
		"promote":   {After: []string{"evaluate", "train"}, Inputs: &ir.StepInputs{Parameters: map[string]string{"s": "evaluate.score", "lit": "'x.y'"}}},
		"notify":    {Image: "t"},
		"late":      {After: []string{"notify", "train"}, Image: "t"},
	}}
	g := newGraph("p", p)
	for step, want := range map[string]string{
		"ingest":    "",
		"prep_data": "ingest.Succeeded",
		"train":     "prep-data",
		// Consumed from an indirect ancestor: added, and must succeed.
		"evaluate": "prep-data.Succeeded && train",
		"promote":  "evaluate.Succeeded && train",
		// The exit handler is not a task.
		"late": "train",
	} {
		assert.Equal(t, want, g.depends(step, g.steps[step]), step)
	}
}

// FuzzTranslateWhen: whatever a user writes in `when`, kiln either
// reports it or emits a condition Argo's evaluator parses once the
// references are substituted: never a workflow that fails at run time on
// a condition kiln accepted.
func FuzzTranslateWhen(f *testing.F) {
	for _, seed := range []string{
		"evaluate.accuracy > 0.9",
		"evaluate.accuracy >= parameters.min && evaluate.verdict == 'ship'",
		"evaluate.verdict != 'hold' || evaluate.accuracy > 0.99",
		"'ship' == evaluate.verdict",
		"evaluate.accuracy > 1e-3",
		"evaluate.accuracy == true",
		"evaluate.verdict == 'a && b'",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, when string) {
		g := testGraph()
		out, err := g.translateWhen("promote", when)
		if err != nil {
			return
		}
		// Substitute every reference with a number, as Argo does with
		// the step's output before evaluating.
		for strings.Contains(out, "{{") {
			i := strings.Index(out, "{{")
			j := strings.Index(out[i:], "}}")
			if j < 0 {
				t.Fatalf("%q: unterminated reference in %q", when, out)
			}
			out = out[:i] + "0.5" + out[i+j+2:]
		}
		expr, err := govaluate.NewEvaluableExpression(out)
		if err != nil {
			t.Fatalf("%q translates to %q, which Argo cannot parse: %v", when, out, err)
		}
		toks := expr.Tokens()
		for i, tok := range toks {
			if tok.Kind == govaluate.VARIABLE {
				tok.Kind = govaluate.STRING
				toks[i] = tok
			}
		}
		expr, err = govaluate.NewEvaluableExpressionFromTokens(toks)
		if err != nil {
			t.Fatalf("%q translates to %q, which Argo cannot parse: %v", when, out, err)
		}
		if _, err := expr.Evaluate(nil); err != nil {
			t.Fatalf("%q translates to %q, which Argo cannot evaluate: %v", when, out, err)
		}
	})
}

// Numbers reach Argo as plain decimals; strings Argo cannot carry and
// non-finite numbers are refused at compile time.
func TestTranslateWhenLiterals(t *testing.T) {
	g := testGraph()
	got, err := g.translateWhen("promote", "evaluate.accuracy > 1e-3")
	require.NoError(t, err)
	assert.Equal(t, "{{tasks.evaluate.outputs.parameters.accuracy}} > 0.001", got)
	for when, want := range map[string]string{
		`evaluate.verdict == 'say "hi"'`: `may not contain`,
		`evaluate.verdict == '{{x}}'`:    `may not contain`,
		"evaluate.accuracy > inf":        `not a finite number`,
		"evaluate.accuracy > NaN":        `not a finite number`,
	} {
		_, err := g.translateWhen("promote", when)
		if assert.Error(t, err, when) {
			assert.Contains(t, err.Error(), want, when)
		}
	}
}

// TestUntranslatableWhenIsAnError: rendering refuses a step whose
// condition it cannot translate, with the condition's path, even when
// Check was skipped: dropping it would run the step unconditionally (a
// conditional promote would always promote).
func TestUntranslatableWhenIsAnError(t *testing.T) {
	env := &ir.Environment{Name: "dev", Namespace: "demo", Spec: &ir.Spec{}}
	sys := &ir.System{Name: "demo", Namespace: "demo", Environments: []*ir.Environment{env}}
	for _, when := range []string{"evaluate.acc > 0.9", "evaluate.accuracy >", "1 > 0"} {
		p := &ir.Pipeline{PodGC: "OnPodSuccess", Steps: map[string]*ir.Step{
			"evaluate": {Image: "t", Outputs: &ir.StepOutputs{Parameters: []string{"accuracy"}}},
			"deploy":   {After: []string{"evaluate"}, Image: "t", When: when},
		}}
		wt, _, _, err := WorkflowTemplate(sys, env, newGraph("p", p))
		assert.Nil(t, wt, when)
		var pe *pathError
		if assert.ErrorAs(t, err, &pe, when) {
			assert.Equal(t, "pipelines.p.steps.deploy.when", pe.path, when)
		}
	}
	// A condition that translates is kept.
	p := &ir.Pipeline{PodGC: "OnPodSuccess", Steps: map[string]*ir.Step{
		"evaluate": {Image: "t", Outputs: &ir.StepOutputs{Parameters: []string{"accuracy"}}},
		"deploy":   {After: []string{"evaluate"}, Image: "t", When: "evaluate.accuracy > 0.9"},
	}}
	wt, _, _, err := WorkflowTemplate(sys, env, newGraph("p", p))
	require.NoError(t, err)
	for _, task := range wt.Spec.Templates[0].DAG.Tasks {
		if task.Name == "deploy" {
			assert.Equal(t, "{{tasks.evaluate.outputs.parameters.accuracy}} > 0.9", task.When)
		}
	}
}
