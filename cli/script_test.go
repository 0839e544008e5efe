package cli_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kiln-ml/kiln/cli"
	"github.com/kiln-ml/kiln/lineage/store/storetest"
)

// update rewrites the cmp files of failing scripts: go test ./cli -update.
var update = flag.Bool("update", false, "rewrite the expected output in testdata/script")

func TestMain(m *testing.M) {
	testscript.Main(ownCache{m}, map[string]func(){
		"kiln": func() { os.Exit(cli.Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
		// kiln as cmd/kiln runs it, signal handling included.
		"kiln-main": func() { os.Exit(cli.Main()) },
	})
}

// ownCache runs the tests with a render cache of their own, which starts
// empty and goes with them, unless KILN_CACHE says otherwise: the tests
// then render through the cache as users do, without reading or filling
// the user's.
type ownCache struct{ m *testing.M }

func (o ownCache) Run() int {
	if os.Getenv("KILN_CACHE") != "" {
		return o.m.Run()
	}
	dir, err := os.MkdirTemp("", "kiln-test-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Setenv("KILN_CACHE", dir)
	return o.m.Run()
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
		Cmds:                map[string]func(ts *testscript.TestScript, neg bool, args []string){"jsondoc": jsonDoc},
		Setup: func(env *testscript.Env) error {
			// Each script has a render cache of its own, empty at first.
			env.Setenv("KILN_CACHE", filepath.Join(env.WorkDir, ".kiln-cache"))
			// Object storage for kiln lineage: S3 and Cloud Storage
			// served from $WORK/buckets/<bucket>/<key>, with credentials
			// that are only ever sent there.
			buckets := storetest.New(filepath.Join(env.WorkDir, "buckets"))
			env.Defer(buckets.Close)
			for k, v := range map[string]string{
				"AWS_ENDPOINT_URL_S3":         buckets.URL,
				"AWS_ACCESS_KEY_ID":           "AKIDKILNTEST",
				"AWS_SECRET_ACCESS_KEY":       "kiln-test",
				"AWS_EC2_METADATA_DISABLED":   "true",
				"AWS_CONFIG_FILE":             filepath.Join(env.WorkDir, ".aws-config"),
				"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(env.WorkDir, ".aws-credentials"),
				"STORAGE_EMULATOR_HOST":       strings.TrimPrefix(buckets.URL, "http://"),
			} {
				env.Setenv(k, v)
			}
			for _, dir := range []string{"examples", filepath.Join("testdata", "broken")} {
				if err := os.CopyFS(filepath.Join(env.WorkDir, filepath.Base(dir)), os.DirFS(filepath.Join(root, dir))); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

// jsonDoc is the script command `jsondoc FILE KEY...`: FILE (stdout, stderr
// or a file) holds exactly one JSON document, an object with each KEY (a
// dotted path of object keys) present; nothing precedes or follows it.
func jsonDoc(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: jsondoc FILE KEY...")
	}
	data := ts.ReadFile(args[0])
	dec := json.NewDecoder(strings.NewReader(data))
	var doc map[string]any
	err := dec.Decode(&doc)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = fmt.Errorf("more than one JSON document, or text after it")
		}
	}
	for _, key := range args[1:] {
		if err != nil {
			break
		}
		var v any = doc
		for _, k := range strings.Split(key, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				err = fmt.Errorf("%s: not an object at %q", key, k)
				break
			}
			if v, ok = m[k]; !ok {
				err = fmt.Errorf("no key %s", key)
				break
			}
		}
	}
	if neg {
		if err == nil {
			ts.Fatalf("%s is one JSON document with %v", args[0], args[1:])
		}
		return
	}
	if err != nil {
		ts.Fatalf("%s: %v\n%s", args[0], err, data)
	}
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
