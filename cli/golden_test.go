package cli_test

import (
	"bytes"
	"context"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-ml/kiln/cli"
	"github.com/kiln-ml/kiln/render/rendertest"
	"github.com/kiln-ml/kiln/validate"
	"github.com/kiln-ml/kiln/validate/validatetest"
)

// renderExample renders an example with the CLI into a fresh directory
// and returns the generated files by path.
func renderExample(t *testing.T, name string) map[string]string {
	t.Helper()
	out := t.TempDir()
	var stderr bytes.Buffer
	if code := cli.Run(context.Background(), []string{"render", "--out", out, filepath.Join(repoRoot(t), "examples", name)}, &stderr, &stderr); code != 0 {
		t.Fatalf("render %s: exit %d: %s", name, code, stderr.String())
	}
	files := map[string]string{}
	for p, st := range snapshot(t, out) {
		if st.Mode.IsDir() {
			continue
		}
		files[filepath.ToSlash(p)] = st.Content
	}
	// The index records the spec's directory relative to the output,
	// here a temporary directory: the golden holds it as if the output
	// were examples/deploy (render_gone_systems.txtar tests the paths).
	src := filepath.ToSlash(filepath.Join(repoRoot(t), "examples", name))
	rel, err := filepath.Rel(out, src)
	if err != nil {
		t.Fatal(err)
	}
	files[".kiln-index"] = strings.Replace(files[".kiln-index"], " "+filepath.ToSlash(rel)+"\n", " ../"+name+"\n", 1)
	return files
}

// TestGoldenExample compares each bundled example, rendered, with
// testdata/golden/<example>; go test ./cli -update rewrites them.
func TestGoldenExample(t *testing.T) {
	specs, _ := filepath.Glob(filepath.Join(repoRoot(t), "examples", "*", "system.cue"))
	if len(specs) < 2 {
		t.Fatalf("found %d examples, want the bundled ones", len(specs))
	}
	var names []string
	for _, spec := range specs {
		name := filepath.Base(filepath.Dir(spec))
		names = append(names, name)
		t.Run(name, func(t *testing.T) {
			got := map[string][]byte{}
			for p, content := range renderExample(t, name) {
				got[p] = []byte(content)
			}
			rendertest.GoldenDir(t, filepath.Join("testdata", "golden", name), got, *update)
		})
	}
	rendertest.OnlyGoldens(t, filepath.Join("testdata", "golden"), names, *update)
}

// TestDeterministic renders the example repeatedly at different
// GOMAXPROCS: the bytes must not change.
func TestDeterministic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var first map[string]string
	for _, procs := range []int{1, 4, 2, 8} {
		runtime.GOMAXPROCS(procs)
		got := renderExample(t, "skin-lesion")
		if first == nil {
			first = got
			continue
		}
		if diff := cmp.Diff(first, got); diff != "" {
			t.Fatalf("GOMAXPROCS=%d rendered different output (-first +this):\n%s", procs, diff)
		}
	}
}

// crds is the validator with the upstream CRDs, loaded once per binary.
func crds(t *testing.T) *validate.Validator { return validatetest.CRDs(t) }

// TestExampleObjectsValidate checks every object rendered from every
// example against the real CRD schemas (custom resources) or by strict
// decoding into k8s.io/api types (core objects), and every pod against the
// restricted Pod Security Standard.
func TestExampleObjectsValidate(t *testing.T) {
	v := crds(t)
	examples, _ := filepath.Glob(filepath.Join(repoRoot(t), "examples", "*", "*.cue"))
	var names []string
	for _, e := range examples {
		names = append(names, filepath.Base(filepath.Dir(e)))
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		files := renderExample(t, name)
		// Validated together, so that CronWorkflows find the
		// WorkflowTemplates they refer to.
		docs := map[string][]byte{}
		for p, content := range files {
			if strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, "kustomization.yaml") {
				docs[p] = []byte(content)
			}
		}
		problems := map[string][]string{}
		byEnv := map[string]map[string][]byte{}
		for p, doc := range docs {
			env, _, _ := strings.Cut(p, "/")
			if byEnv[env] == nil {
				byEnv[env] = map[string][]byte{}
			}
			byEnv[env][p] = doc
		}
		for _, envDocs := range byEnv {
			maps.Copy(problems, v.ValidateAll(envDocs))
		}
		for _, p := range slices.Sorted(maps.Keys(docs)) {
			t.Run(name+"/"+p, func(t *testing.T) {
				doc := docs[p]
				for _, problem := range problems[p] {
					t.Error(problem)
				}
				for _, problem := range validate.RestrictedViolations(doc) {
					t.Error("restricted:", problem)
				}
			})
		}
	}
}
