package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/cli"
)

// TestPromoteStepMatchesCommand ties the two halves of the retraining loop
// together: the promote step a pipeline renders runs `kiln promote` with
// arguments this build's promote command accepts, naming a serving entry
// the spec has, limited to the environment the pipeline runs in.
func TestPromoteStepMatchesCommand(t *testing.T) {
	files := renderExample(t, "skin-lesion")
	var help bytes.Buffer
	if code := cli.Run(context.Background(), []string{"promote", "--help"}, &help, &help); code != 0 {
		t.Fatalf("kiln promote --help: exit %d: %s", code, help.String())
	}
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
			steps++
			args := append(c.Command[1:], c.Args...)
			if len(args) < 2 || args[0] != "promote" {
				t.Fatalf("%s: template %s runs kiln %v, want promote SYSTEM/SERVING …", env, tmpl.Name, args)
			}
			if args[1] != "skin-lesion/classifier" {
				t.Errorf("%s: promote target %q, want skin-lesion/classifier", env, args[1])
			}
			for _, a := range args[2:] {
				if name, ok := strings.CutPrefix(a, "--"); ok && !strings.Contains(help.String(), "--"+name+" ") {
					t.Errorf("%s: template %s passes --%s, which kiln promote does not have", env, tmpl.Name, name)
				}
			}
			// A run in env promotes in env alone: the flag is there
			// once, with the environment whose directory the file is in.
			var envs []string
			for i, a := range args {
				if a == "--env" && i+1 < len(args) {
					envs = append(envs, args[i+1])
				}
			}
			if len(envs) != 1 || envs[0] != env {
				t.Errorf("%s: template %s promotes in environments %q, want [%q]", env, tmpl.Name, envs, env)
			}
		}
	}
	if steps != 2 {
		t.Errorf("found %d promote steps in dev and prod, want one each", steps)
	}
}
