package bench

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/load"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/schema"
)

// kilnBuild is what `kiln render --dry-run` costs: compile, render every
// environment, encode every file. Nothing is written.
func kilnBuild(tb testing.TB, dir string) int {
	ctx := context.Background()
	sys, diags := compiler.Compile(ctx, dir, compiler.Options{})
	if diags.HasErrors() {
		tb.Fatalf("compile %s: %v", dir, diags.Err())
	}
	res, diags := render.Render(ctx, sys, render.Options{Renderers: plugins.Builtins()})
	if diags.HasErrors() {
		tb.Fatalf("render %s: %v", dir, diags.Err())
	}
	files, err := render.Files(res)
	if err != nil {
		tb.Fatal(err)
	}
	return len(files)
}

// cueExport is what `cue export DIR` costs: load, evaluate, check that the
// value is concrete and encode it as JSON.
func cueExport(tb testing.TB, dir string) int {
	insts := load.Instances([]string{"."}, &load.Config{Dir: dir, Env: []string{}})
	if err := insts[0].Err; err != nil {
		tb.Fatal(err)
	}
	v := cuecontext.New().BuildInstance(insts[0])
	if err := v.Err(); err != nil {
		tb.Fatal(err)
	}
	b, err := v.MarshalJSON()
	if err != nil {
		tb.Fatal(err)
	}
	return len(b)
}

// measure runs f n times and returns the time and bytes allocated per run.
func measure(n int, f func()) (time.Duration, uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	for range n {
		f()
	}
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return d / time.Duration(n), (after.TotalAlloc - before.TotalAlloc) / uint64(n)
}

// benchAgainstCUE measures kiln on dir and reports, next to the usual
// ns/op and B/op, kiln's time and allocations as multiples of cue export's
// on the same directory, measured in the same run.
func benchAgainstCUE(b *testing.B, dir string) {
	kilnBuild(b, dir) // warm up, and fail early on a broken spec
	cueExport(b, dir)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		kilnBuild(b, dir)
	}
	b.StopTimer()
	n := max(3, min(b.N, 20))
	kt, km := measure(n, func() { kilnBuild(b, dir) })
	ct, cm := measure(n, func() { cueExport(b, dir) })
	b.ReportMetric(float64(kt)/float64(ct), "time-x-cue-export")
	b.ReportMetric(float64(km)/float64(cm), "alloc-x-cue-export")
}

// BenchmarkExample renders the bundled skin-lesion example.
func BenchmarkExample(b *testing.B) {
	benchAgainstCUE(b, filepath.Join("..", "examples", "skin-lesion"))
}

// BenchmarkLarge renders a generated system with many entries, to show how
// kiln scales with the size of a spec.
func BenchmarkLarge(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			benchAgainstCUE(b, largeSpec(b, n))
		})
	}
}

// largeSpec writes a CUE module with n training jobs and n served models
// over three environments, with the schema vendored under cue.mod/pkg so
// that plain cue export can load it exactly as kiln does.
func largeSpec(tb testing.TB, n int) string {
	dir := tb.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	write("cue.mod/module.cue", "module: \"bench.example/large@v0\"\nlanguage: version: \"v0.17.0\"\n")
	err := fs.WalkDir(schema.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(schema.FS, p)
		if err != nil {
			return err
		}
		write("cue.mod/pkg/"+schema.ImportPath+"/"+p, string(src))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	var s strings.Builder
	s.WriteString(`package large

import "github.com/kiln-ml/kiln/schema"

schema.#System & {
	name:      "large"
	namespace: "large-ml"
	environments: {
		dev: gpu: quota: 1000
		staging: gpu: quota: 1000
		prod: {production: true, gpu: quota: 1000}
	}
	images: trainer: "registry.example/trainer:1.0"
	training: {
`)
	for i := range n {
		fmt.Fprintf(&s, "\t\t\"job-%d\": {framework: \"pytorch\", image: images.trainer, workers: %d, resources: {gpus: 1, cpu: \"4\", memory: \"16Gi\"}, args: {lr: 0.001, epochs: %d}}\n", i, 1+i%4, 10+i)
	}
	s.WriteString("\t}\n\tserving: {\n")
	for i := range n {
		fmt.Fprintf(&s, "\t\t\"model-%d\": {model: {format: \"sklearn\", storageUri: \"s3://models/m%d\"}, replicas: {min: 1, max: 3}, resources: {cpu: \"1\", memory: \"2Gi\"}}\n", i, i)
	}
	s.WriteString("\t}\n}\n")
	write("system.cue", s.String())
	return dir
}

// TestBenchmarkInputs keeps the benchmark inputs valid: a benchmark that
// fails at its first iteration is only noticed when someone runs it.
func TestBenchmarkInputs(t *testing.T) {
	for _, dir := range []string{filepath.Join("..", "examples", "skin-lesion"), largeSpec(t, 3)} {
		if got := kilnBuild(t, dir); got == 0 {
			t.Errorf("%s: kiln rendered no files", dir)
		}
		if got := cueExport(t, dir); got == 0 {
			t.Errorf("%s: cue export produced nothing", dir)
		}
	}
}
