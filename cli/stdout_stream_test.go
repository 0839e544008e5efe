package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/cli"
	"github.com/kiln-ml/kiln/render/argocd"
)

// TestRenderStdoutIsOneEnvironment checks what `kiln render --stdout DIR |
// kubectl apply -f -` would apply, for every example: with several
// environments and no -e, nothing (a usage error); with -e, exactly the
// objects a file render writes for that environment, each once.
func TestRenderStdoutIsOneEnvironment(t *testing.T) {
	root := repoRoot(t)
	dirs, err := filepath.Glob(filepath.Join(root, "examples", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, dir := range dirs {
		if cue, _ := filepath.Glob(filepath.Join(dir, "*.cue")); len(cue) == 0 {
			continue // not a spec (a CI workflow)
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			out := t.TempDir()
			var stdout, stderr bytes.Buffer
			if code := cli.Run(context.Background(), []string{"render", "--out", out, dir}, &stdout, &stderr); code != cli.ExitOK {
				t.Fatalf("render: exit %d\n%s", code, stderr.String())
			}
			// Environments are the directories holding a system's files.
			// (argocd/ holds the Argo CD objects, which --stdout leaves out.)
			all, err := filepath.Glob(filepath.Join(out, "*", "*", "kustomization.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var envs []string
			for _, k := range all {
				if rel, _ := filepath.Rel(out, k); !strings.HasPrefix(rel, argocd.Dir+string(filepath.Separator)) {
					envs = append(envs, k)
				}
			}
			if len(envs) == 0 {
				t.Fatal("render wrote no environment")
			}
			stdout.Reset()
			code := cli.Run(context.Background(), []string{"render", "--stdout", dir}, &stdout, &stderr)
			if len(envs) > 1 && (code != cli.ExitUsage || stdout.Len() != 0) {
				t.Errorf("render --stdout with %d environments: exit %d, %d bytes on stdout; want a usage error and nothing", len(envs), code, stdout.Len())
			}
			for _, k := range envs {
				envDir := filepath.Dir(k)
				env := filepath.Base(filepath.Dir(envDir))
				files, err := filepath.Glob(filepath.Join(envDir, "*.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]bool{}
				for _, f := range files {
					if filepath.Base(f) == "kustomization.yaml" {
						continue
					}
					b, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					want[objectID(t, b)] = true
				}
				stdout.Reset()
				if code := cli.Run(context.Background(), []string{"render", "--stdout", "-e", env, dir}, &stdout, &stderr); code != cli.ExitOK {
					t.Fatalf("render --stdout -e %s: exit %d\n%s", env, code, stderr.String())
				}
				got := map[string]bool{}
				dec := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stdout.Bytes())))
				for {
					doc, err := dec.Read()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if strings.TrimSpace(strings.TrimPrefix(string(doc), "---")) == "" {
						continue
					}
					id := objectID(t, doc)
					if got[id] {
						t.Errorf("-e %s: %s twice in the stream", env, id)
					}
					got[id] = true
				}
				for id := range want {
					if !got[id] {
						t.Errorf("-e %s: %s missing from the stream", env, id)
					}
				}
				for id := range got {
					if !want[id] {
						t.Errorf("-e %s: %s in the stream is not an object of the environment", env, id)
					}
				}
			}
		})
	}
}

func objectID(t *testing.T, doc []byte) string {
	t.Helper()
	var o struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &o); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	return o.APIVersion + " " + o.Kind + " " + o.Metadata.Namespace + "/" + o.Metadata.Name
}
