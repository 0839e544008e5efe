package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-ml/kiln/cli"
)

// TestSIGTERM runs kiln as cmd/kiln does (this test binary, invoked as
// kiln-main) and sends SIGTERM while CUE evaluates a large spec, then while
// its output is being written. Each time kiln must be gone within seconds,
// with exit code 143 and the previous output byte for byte as it was.
func TestSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluates and writes a large spec")
	}
	t.Run("evaluation", func(t *testing.T) {
		interrupt(t, func(out string, exited <-chan struct{}) bool {
			select {
			case <-time.After(1500 * time.Millisecond):
				return true
			case <-exited:
				return false
			}
		})
	})
	t.Run("write", func(t *testing.T) {
		// render stages every file, as it is encoded, in a hidden
		// directory of the output, before it renames any: signal when
		// it appears.
		interrupt(t, func(out string, exited <-chan struct{}) bool {
			for {
				select {
				case <-exited:
					return false
				case <-time.After(5 * time.Millisecond):
				}
				found := false
				filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
					if err == nil && strings.HasPrefix(d.Name(), ".kiln-tmp-") {
						found = true
						return filepath.SkipAll
					}
					return nil
				})
				if found {
					return true
				}
			}
		})
	})
}

// interrupt renders a small spec into an output directory, then starts
// kiln-main rendering a large one into it, calls when (which returns
// false if kiln exited first), sends SIGTERM and checks the outcome.
func interrupt(t *testing.T, when func(out string, exited <-chan struct{}) bool) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "kiln-main")
	if err := os.Symlink(self, bin); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "spec")
	out := filepath.Join(dir, "deploy")

	// The previous output, from a small spec.
	writeSpec(t, spec, 2)
	if code := cli.Run(context.Background(), []string{"render", "--out", out, spec}, new(bytes.Buffer), new(bytes.Buffer)); code != cli.ExitOK {
		t.Fatalf("first render: exit %d", code)
	}
	before := readTree(t, out)

	// A large spec keeps the evaluator busy for seconds, and its
	// thousands of files take a while to write.
	writeSpec(t, spec, 2500)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "render", "--out", out, spec)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	if !when(out, exited) {
		t.Fatalf("kiln finished (exit %d) before the moment to signal it: make the spec larger", cmd.ProcessState.ExitCode())
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("kiln still running 5s after SIGTERM")
	}
	t.Logf("exited %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
	if code := cmd.ProcessState.ExitCode(); code != 128+int(syscall.SIGTERM) {
		t.Errorf("exit code %d, want %d (stderr: %s)", code, 128+int(syscall.SIGTERM), stderr.String())
	}
	if want := "kiln: stopped by terminated; nothing was written\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
	if diff := cmp.Diff(before, readTree(t, out)); diff != "" {
		t.Errorf("the output changed (-before +after):\n%s", diff)
	}
}

// writeSpec writes a spec of n training entries to dir/spec.cue.
func writeSpec(t *testing.T, dir string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("package big\n\nname: \"big\"\nnamespace: \"big\"\nimages: trainer: \"ghcr.io/acme/t:1\"\nenvironments: {dev: {}, prod: {production: true, namespace: \"big-prod\"}}\n")
	for i := range n {
		fmt.Fprintf(&b, "training: \"m%d\": {framework: \"pytorch\", image: images.trainer, command: [\"python\", \"train.py\"], args: {lr: %d}, resources: {cpu: \"1\", memory: \"1Gi\"}}\n", i, i)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readTree reads every file under dir: path -> content.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("%s is empty", dir)
	}
	return files
}
