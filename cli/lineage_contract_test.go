package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/cli"
	"github.com/kiln-ml/kiln/lineage"
)

type stepTemplate struct {
	Name   string `json:"name"`
	Inputs struct {
		Artifacts []struct {
			Name string `json:"name"`
			Path string `json:"path"`
			Raw  *struct {
				Data string `json:"data"`
			} `json:"raw"`
		} `json:"artifacts"`
	} `json:"inputs"`
	Container *struct {
		Command []string `json:"command"`
		Args    []string `json:"args"`
	} `json:"container"`
	Outputs struct {
		Parameters []struct {
			Name       string `json:"name"`
			GlobalName string `json:"globalName"`
			ValueFrom  struct {
				Path string `json:"path"`
			} `json:"valueFrom"`
		} `json:"parameters"`
		Artifacts []struct {
			Name string `json:"name"`
			Path string `json:"path"`
			S3   *struct {
				Key string `json:"key"`
			} `json:"s3"`
		} `json:"artifacts"`
	} `json:"outputs"`
}

var argoExpr = regexp.MustCompile(`\{\{[^}]+\}\}`)

// runLineageStep runs the lineage step of a rendered WorkflowTemplate
// (its YAML) as Argo would when a run ends: each Argo expression in
// values replaced, any other left as written (the outputs of a step that
// did not run), raw input artifacts written where Argo's init container
// puts them, paths in the pod made paths in a temporary directory. The
// record must be where the step's output artifact and parameter say
// (s3://acme-ml-artifacts/<key>), and valid against the schema; it is
// returned decoded, with its URI.
func runLineageStep(t *testing.T, wtYAML string, values map[string]string) (*lineage.Record, string) {
	t.Helper()
	var wt struct {
		Spec struct {
			Templates []stepTemplate `json:"templates"`
		} `json:"spec"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(wtYAML), &wt))
	i := slices.IndexFunc(wt.Spec.Templates, func(s stepTemplate) bool { return s.Name == "lineage" })
	require.GreaterOrEqual(t, i, 0, "no lineage step")
	step := wt.Spec.Templates[i]
	require.Equal(t, []string{"kiln"}, step.Container.Command)

	tmp := t.TempDir()
	resolve := func(a string) string {
		return argoExpr.ReplaceAllStringFunc(a, func(e string) string {
			if v, ok := values[e]; ok {
				return v
			}
			return e
		})
	}
	for _, in := range step.Inputs.Artifacts {
		require.NotNil(t, in.Raw, "input artifact %s", in.Name)
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(tmp, in.Path)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(tmp, in.Path), []byte(resolve(in.Raw.Data)), 0o644))
	}
	var args []string
	for _, a := range step.Container.Args {
		a = resolve(a)
		if strings.HasPrefix(a, "/tmp/") {
			a = filepath.Join(tmp, a)
		}
		args = append(args, a)
	}
	var stderr bytes.Buffer
	code := cli.Run(context.Background(), args, &stderr, &stderr)
	require.Equal(t, 0, code, stderr.String())

	// The record is where the artifact and the output parameter say.
	require.Len(t, step.Outputs.Artifacts, 1)
	art := step.Outputs.Artifacts[0]
	b, err := os.ReadFile(filepath.Join(tmp, art.Path))
	require.NoError(t, err)
	uri, err := os.ReadFile(filepath.Join(tmp, step.Outputs.Parameters[0].ValueFrom.Path))
	require.NoError(t, err)
	assert.Equal(t, "s3://acme-ml-artifacts/"+resolve(art.S3.Key), string(uri))

	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	schema, err := jsonschema.UnmarshalJSON(bytes.NewReader(lineage.Schema))
	require.NoError(t, err)
	require.NoError(t, c.AddResource("record.schema.json", schema))
	sch, err := c.Compile("record.schema.json")
	require.NoError(t, err)
	require.NoError(t, sch.Validate(doc))

	r, err := lineage.Decode(b)
	require.NoError(t, err)
	return r, string(uri)
}

// TestLineageStepMatchesCommand runs the lineage step of skin-lesion's
// retrain pipeline as Argo would after a run that promoted: its
// expressions replaced with what the run produced (the promote step's
// --result, made by this build's kiln promote flags), the outputs of a
// step that did not run left as written. The record it writes is valid
// against the schema, at the key the artifact is stored under, and names
// what the run did.
func TestLineageStepMatchesCommand(t *testing.T) {
	files := renderExample(t, "skin-lesion")
	// What the run produced, by Argo expression.
	promotion, err := json.Marshal(lineage.Promotion{Serving: "classifier", Environment: "prod", ModelURI: "s3://acme-models/skin/v9", Canary: new(10), Commit: "9f2c1e7a5b3d", PullRequest: "https://github.com/acme/derm-ml-deploy/pull/42"})
	require.NoError(t, err)
	r, uri := runLineageStep(t, files["prod/skin-lesion/workflowtemplate-retrain.yaml"], map[string]string{
		"{{workflow.name}}":                                       "retrain-x7k2p",
		"{{workflow.uid}}":                                        "5b0c8a6e-3f1d-4c2a-9d7e-0a1b2c3d4e5f",
		"{{workflow.status}}":                                     "Succeeded",
		"{{workflow.creationTimestamp}}":                          "2026-12-07T02:00:04Z",
		"{{workflow.parameters.epochs}}":                          "30",
		"{{workflow.parameters.source}}":                          "s3://acme-derm/incoming/",
		"{{workflow.outputs.parameters.evaluate__accuracy}}":      "0.934",
		"{{workflow.outputs.parameters.promote__kiln-promotion}}": string(promotion),
		// evaluate__model_uri left unresolved: the record does without.
	})
	assert.Equal(t, uri, r.URI)
	assert.Equal(t, "prod", r.Environment)
	assert.Equal(t, "retrain-x7k2p", r.Run.Name)
	assert.Equal(t, map[string]float64{"evaluate.accuracy": 0.934}, r.Metrics)
	assert.Equal(t, []lineage.Dataset{{Name: "isic", URI: "s3://acme-derm/isic-2020/"}}, r.Datasets)
	assert.Equal(t, "9f2c1e7a5b3d", r.Spec.Revision)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, r.Spec.Digest)
	require.Len(t, r.Promotions, 1)
	assert.Equal(t, "https://github.com/acme/derm-ml-deploy/pull/42", r.Promotions[0].PullRequest)
}

// TestSweepLineageStepMatchesCommand runs the lineage step of
// skin-lesion's resnet-tune sweep as Argo would: the history its rounds
// recorded written where its raw input artifact goes, the best trial
// from the summary. The record is valid against the schema, at the key
// the artifact is stored under, and holds every trial.
func TestSweepLineageStepMatchesCommand(t *testing.T) {
	files := renderExample(t, "skin-lesion")
	wt := files["prod/skin-lesion/workflowtemplate-resnet-tune.yaml"]
	var spec struct {
		Spec struct {
			OnExit string `json:"onExit"`
		} `json:"spec"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(wt), &spec))
	require.Equal(t, "exit-handler", spec.Spec.OnExit)

	history := `{"reason":"target reached by trial 5e0c7d2a91","rounds":2,"trials":[` +
		`{"metrics":{"val_accuracy":0.884,"val_loss":0.41},"name":"a41f09c3b2","parameters":{"batch":"32","lr":"0.0001"},"round":0,"status":"Succeeded"},` +
		`{"metrics":{},"name":"c7d1e2f3a4","parameters":{"batch":"128","lr":"0.1"},"round":0,"status":"Failed"},` +
		`{"metrics":{"val_accuracy":0.931,"val_loss":0.22},"name":"5e0c7d2a91","parameters":{"batch":"64","lr":"0.00316"},"round":1,"status":"Succeeded"}]}`
	r, uri := runLineageStep(t, wt, map[string]string{
		"{{workflow.name}}":                               "resnet-tune-4wq9z",
		"{{workflow.uid}}":                                "0f6e2d1c-8b7a-4c3d-9e8f-1a2b3c4d5e6f",
		"{{workflow.status}}":                             "Succeeded",
		"{{workflow.creationTimestamp}}":                  "2026-12-07T03:00:00Z",
		"{{workflow.outputs.parameters.kiln-history}}":    history,
		"{{workflow.outputs.parameters.kiln-best-trial}}": "5e0c7d2a91",
	})
	assert.Equal(t, "s3://acme-ml-artifacts/skin-lesion/lineage/derm-ml/skin-lesion/resnet-tune/resnet-tune-4wq9z.json", uri)
	require.NotNil(t, r.Sweep)
	assert.Equal(t, "resnet-tune", r.Sweep.Name)
	assert.Equal(t, "sobol", r.Sweep.Algorithm)
	assert.Equal(t, lineage.Objective{Metric: "val_accuracy", Goal: "maximize", Target: new(0.92)}, r.Sweep.Objective)
	assert.Len(t, r.Sweep.Trials, 3)
	assert.Equal(t, "5e0c7d2a91", r.Sweep.Best)
	assert.Equal(t, map[string]string{"batch": "64", "lr": "0.00316"}, r.Parameters)
	assert.Equal(t, []lineage.Dataset{{Name: "isic", URI: "s3://acme-derm/isic-2020/"}}, r.Datasets)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, r.Spec.Digest)
}
