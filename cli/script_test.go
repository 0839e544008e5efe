package cli_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kiln-ml/kiln/cli"
)

// update rewrites the cmp files of failing scripts: go test ./cli -update.
var update = flag.Bool("update", false, "rewrite the expected output in testdata/script")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"kiln": func() { os.Exit(cli.Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScript runs the CLI end to end: testdata/script/<command>_<topic>.txtar.
// Each script starts with the repository's examples and broken-spec corpus
// copied into its work directory, so positions in diagnostics are short and
// the same on every machine.
func TestScript(t *testing.T) {
	root := repoRoot(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
		Setup: func(env *testscript.Env) error {
			for _, dir := range []string{"examples", filepath.Join("testdata", "broken")} {
				if err := os.CopyFS(filepath.Join(env.WorkDir, filepath.Base(dir)), os.DirFS(filepath.Join(root, dir))); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

// repoRoot is the directory holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}
