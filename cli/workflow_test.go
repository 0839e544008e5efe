package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/cli"
)

// TestGitHubActionsExample checks the example workflow: it parses, runs
// kiln check on pull requests and kiln publish on main, and every command
// and flag it passes exists in this build of kiln.
func TestGitHubActionsExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "github-actions", "kiln.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type trigger struct {
		PullRequest map[string]any `json:"pull_request"`
		Push        struct {
			Branches []string `json:"branches"`
		} `json:"push"`
	}
	var wf struct {
		// YAML 1.1 (sigs.k8s.io/yaml) reads the key on as true; GitHub
		// reads it as "on".
		OnTrue *trigger `json:"true"`
		On     struct {
			PullRequest map[string]any `json:"pull_request"`
			Push        struct {
				Branches []string `json:"branches"`
			} `json:"push"`
		} `json:"on"`
		Jobs map[string]struct {
			If    string `json:"if"`
			Steps []struct {
				Run string `json:"run"`
			} `json:"steps"`
		} `json:"jobs"`
	}
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatal(err)
	}
	if wf.OnTrue != nil {
		wf.On = *wf.OnTrue
	}
	if wf.On.PullRequest == nil || len(wf.On.Push.Branches) != 1 || wf.On.Push.Branches[0] != "main" {
		t.Fatalf("the workflow must run on pull requests and on pushes to main: %+v", wf.On)
	}
	want := map[string]string{"check": "pull_request", "publish": "push"}
	for job, event := range want {
		j, ok := wf.Jobs[job]
		if !ok || !strings.Contains(j.If, event) {
			t.Errorf("job %s must exist and run on %s (if: %q)", job, event, j.If)
			continue
		}
		found := false
		for _, s := range j.Steps {
			// Each line of a step's script that runs kiln.
			for _, line := range strings.Split(s.Run, "\n") {
				fields := strings.Fields(line)
				i := slices.Index(fields, "kiln")
				if i < 0 || i+1 >= len(fields) {
					continue
				}
				fields = fields[i:]
				if fields[1] == job {
					found = true
				}
				var help bytes.Buffer
				if code := cli.Run(context.Background(), []string{fields[1], "--help"}, &help, &help); code != 0 || !strings.Contains(help.String(), "Usage:") {
					t.Errorf("kiln %s is not a command of this build", fields[1])
					continue
				}
				for _, f := range fields[2:] {
					if name, ok := strings.CutPrefix(f, "--"); ok && !strings.Contains(help.String(), "--"+name+" ") {
						t.Errorf("job %s: kiln %s has no flag --%s", job, fields[1], name)
					}
				}
			}
		}
		if !found {
			t.Errorf("job %s runs no kiln command", job)
		}
	}
}
