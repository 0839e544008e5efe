package cli_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/cli"
)

// TestPromoteStepMatchesCommand ties the two halves of the retraining loop
// together: the promote step a pipeline renders runs `kiln promote` with
// an argument vector this build's promote command parses (flags it has,
// values of the right type, the arguments it wants), naming a serving
// entry the spec has and the model the step receives, limited to the
// environment the pipeline runs in.
func TestPromoteStepMatchesCommand(t *testing.T) {
	files := renderExample(t, "skin-lesion")
	steps := 0
	for _, env := range []string{"dev", "prod"} {
		var wt struct {
			Spec struct {
				Templates []struct {
					Name      string `json:"name"`
					Container *struct {
						Command []string `json:"command"`
						Args    []string `json:"args"`
					} `json:"container"`
				} `json:"templates"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(files[env+"/skin-lesion/workflowtemplate-retrain.yaml"]), &wt); err != nil {
			t.Fatal(err)
		}
		for _, tmpl := range wt.Spec.Templates {
			c := tmpl.Container
			if c == nil || len(c.Command) == 0 || c.Command[0] != "kiln" {
				continue
			}
			args := append(c.Command[1:], c.Args...)
			cmd, positional, flags, err := cli.ParseArgs(args)
			if err != nil {
				t.Errorf("%s: template %s runs kiln %q, which kiln does not parse: %v", env, tmpl.Name, args, err)
				continue
			}
			if cmd.Name() == "record" && cmd.Parent().Name() == "lineage" {
				continue // the run's lineage record: TestLineageStepMatchesCommand
			}
			steps++
			if cmd.Name() != "promote" {
				t.Errorf("%s: template %s runs kiln %s, want promote", env, tmpl.Name, cmd.Name())
				continue
			}
			assert.Equal(t, []string{"skin-lesion/classifier"}, positional, "%s: promote target", env)
			assert.Equal(t, []string{"{{inputs.parameters.model_uri}}"}, flags["model-uri"], "%s: the model the step receives", env)
			// A run in env promotes in env alone.
			assert.Equal(t, []string{env}, flags["env"], "%s: environments promoted", env)
			// The spec will name the record this run writes.
			assert.Equal(t, []string{"s3://acme-ml-artifacts/skin-lesion/lineage/derm-ml/skin-lesion/retrain/{{workflow.name}}.json"}, flags["lineage"], "%s: lineage record", env)
		}
	}
	if steps != 2 {
		t.Errorf("found %d promote steps in dev and prod, want one each", steps)
	}
}

// ParseArgs refuses what kiln would refuse before running the command,
// so the contract test above fails on a step kiln promote cannot parse.
func TestParseArgsRefuses(t *testing.T) {
	for _, args := range [][]string{
		{"promote", "a/b", "--canary", "ten"},
		{"promote", "a/b", "--no-such-flag"},
		{"promote"},
		{"promote", "dir", "a/b", "c/d"},
		{"no-such-command"},
	} {
		_, _, _, err := cli.ParseArgs(args)
		assert.Error(t, err, "%q", args)
	}
	_, pos, flags, err := cli.ParseArgs([]string{"promote", "a/b", "-e", "dev,prod", "--env", "test", "--canary", "5"})
	if assert.NoError(t, err) {
		assert.Equal(t, []string{"a/b"}, pos)
		assert.Equal(t, map[string][]string{"env": {"dev", "prod", "test"}, "canary": {"5"}}, flags)
	}
}
