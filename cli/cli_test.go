package cli_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-ml/kiln/cli"
)

// TestExitCodes checks the documented exit codes at the level users and CI
// see them.
func TestExitCodes(t *testing.T) {
	root := repoRoot(t)
	example := filepath.Join(root, "examples", "skin-lesion")
	broken, err := filepath.Glob(filepath.Join(root, "testdata", "broken", "*"))
	if err != nil || len(broken) == 0 {
		t.Fatalf("no broken specs: %v", err)
	}
	// promote edits its spec in place when it succeeds: give it a copy.
	promoteSpec := filepath.Join(t.TempDir(), "spec")
	if err := os.CopyFS(promoteSpec, os.DirFS(example)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"valid spec", []string{"vet", example}, cli.ExitOK},
		{"render to stdout", []string{"render", "--stdout", "-e", "prod", example}, cli.ExitOK},
		{"render to stdout, several environments", []string{"render", "--stdout", example}, cli.ExitUsage},
		{"render to stdout, -o json", []string{"render", "--stdout", "-e", "prod", "-o", "json", example}, cli.ExitUsage},
		{"unknown command", []string{"frobnicate"}, cli.ExitUsage},
		{"--version", []string{"--version"}, cli.ExitOK},
		{"vet, unknown environment", []string{"vet", "-e", "staging", example}, cli.ExitUsage},
		{"render, unknown environment", []string{"render", "-e", "staging", "--out", t.TempDir(), example}, cli.ExitUsage},
		{"render --stdout, unknown environment", []string{"render", "--stdout", "-e", "staging", example}, cli.ExitUsage},
		{"explain, unknown environment", []string{"explain", "-e", "staging", example, "training.resnet.workers"}, cli.ExitUsage},
		{"diff, unknown environment", []string{"diff", "-e", "staging", "--out", t.TempDir(), example}, cli.ExitUsage},
		{"promote, unknown environment", []string{"promote", "skin-lesion/classifier", "--model-uri", "s3://models/x", "-e", "staging", "--spec", promoteSpec}, cli.ExitUsage},
		{"unknown flag", []string{"vet", "--nope"}, cli.ExitUsage},
		{"bad output format", []string{"vet", "-o", "xml", example}, cli.ExitUsage},
		{"missing directory", []string{"vet", filepath.Join(t.TempDir(), "missing")}, cli.ExitInternal},
		{"unwritable output", []string{"render", "--out", "/dev/null/out", example}, cli.ExitInternal},
	}
	for _, dir := range broken {
		tests = append(tests, struct {
			name string
			args []string
			want int
		}{"broken " + filepath.Base(dir), []string{"vet", dir}, cli.ExitFindings})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := cli.Run(context.Background(), tt.args, &stdout, &stderr); got != tt.want {
				t.Errorf("kiln %v: exit %d, want %d\nstderr:\n%s", tt.args, got, tt.want, stderr.String())
			}
		})
	}
}

// TestBrokenSpecsLeaveOutputUntouched renders the example, then tries to
// render every broken spec into the same directory: each must fail and
// leave every byte, file and mtime as it was.
func TestBrokenSpecsLeaveOutputUntouched(t *testing.T) {
	root := repoRoot(t)
	out := t.TempDir()
	var stderr bytes.Buffer
	if code := cli.Run(context.Background(), []string{"render", "--out", out, filepath.Join(root, "examples", "skin-lesion")}, &stderr, &stderr); code != 0 {
		t.Fatalf("render example: exit %d: %s", code, stderr.String())
	}
	before := snapshot(t, out)
	broken, _ := filepath.Glob(filepath.Join(root, "testdata", "broken", "*"))
	for _, dir := range broken {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := cli.Run(context.Background(), []string{"render", "--out", out, dir}, &stdout, &stderr); code != cli.ExitFindings {
				t.Fatalf("exit %d, want %d", code, cli.ExitFindings)
			}
			if diff := cmp.Diff(before, snapshot(t, out)); diff != "" {
				t.Errorf("output changed (-before +after):\n%s", diff)
			}
		})
	}
}

// TestBrokenCorpusScripts: every spec of the broken corpus has its exact
// expected diagnostics in a script of its own, and the corpus holds at
// least 40 specs.
func TestBrokenCorpusScripts(t *testing.T) {
	root := repoRoot(t)
	broken, _ := filepath.Glob(filepath.Join(root, "testdata", "broken", "*"))
	if len(broken) < 40 {
		t.Errorf("the broken corpus has %d specs, want at least 40", len(broken))
	}
	for _, dir := range broken {
		script := filepath.Join("testdata", "script", "vet_broken_"+filepath.Base(dir)+".txtar")
		b, err := os.ReadFile(script)
		if err != nil {
			t.Errorf("%s has no script: %v", filepath.Base(dir), err)
			continue
		}
		if !bytes.Contains(b, []byte("cmp stderr want")) {
			t.Errorf("%s does not compare the diagnostics", script)
		}
	}
}

type fileState struct {
	Content string
	ModTime int64
	Mode    fs.FileMode
}

func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	m := map[string]fileState{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		st := fileState{ModTime: info.ModTime().UnixNano(), Mode: info.Mode()}
		if !d.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			st.Content = string(b)
		}
		rel, _ := filepath.Rel(dir, p)
		m[rel] = st
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
