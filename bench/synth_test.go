package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/write"
)

// kilnRender is what `kiln render` costs: kilnBuild, then writing the
// tree into out (emptied first, so every file is created).
func kilnRender(tb testing.TB, dir, out string) int {
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
	if err := os.RemoveAll(out); err != nil {
		tb.Fatal(err)
	}
	if _, err := write.Tree(out, files, write.Options{}); err != nil {
		tb.Fatal(err)
	}
	return len(files)
}

// benchNs are the sizes BenchmarkSynth renders; BENCH_N picks one.
func benchNs(tb testing.TB) []int {
	if s := os.Getenv("BENCH_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			tb.Fatalf("BENCH_N=%q: %v", s, err)
		}
		return []int{n}
	}
	return []int{10, 100}
}

// BenchmarkSynth renders and writes synthetic systems (SystemSpec) with
// one and three environments: run it with -cpuprofile to see where a
// large render spends its time (BENCH_N=1000).
func BenchmarkSynth(b *testing.B) {
	for _, n := range benchNs(b) {
		for _, envs := range []int{1, 3} {
			b.Run(fmt.Sprintf("models=%d/envs=%d", n, envs), func(b *testing.B) {
				dir := b.TempDir()
				if err := WriteSystem(dir, n, envs); err != nil {
					b.Fatal(err)
				}
				out := filepath.Join(b.TempDir(), "out")
				b.ReportAllocs()
				for b.Loop() {
					kilnRender(b, dir, out)
				}
			})
		}
	}
}

// renderFiles compiles and renders dir in memory.
func renderFiles(tb testing.TB, dir string) map[string][]byte {
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
	return files
}

// TestSynthDeterministic renders a synthetic system with several
// environments, which are rendered in parallel, at one and at four
// procs: the bytes must be the same. It warns about nothing, so the
// benchmark measures a clean render.
func TestSynthDeterministic(t *testing.T) {
	dir := t.TempDir()
	if err := WriteSystem(dir, 12, 4); err != nil {
		t.Fatal(err)
	}
	_, diags := compiler.Compile(context.Background(), dir, compiler.Options{})
	if len(diags) > 0 {
		t.Fatalf("the synthetic system has diagnostics:\n%v", diags)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var first map[string][]byte
	for _, procs := range []int{1, 4} {
		runtime.GOMAXPROCS(procs)
		files := renderFiles(t, dir)
		if first == nil {
			first = files
			continue
		}
		if len(files) != len(first) {
			t.Fatalf("GOMAXPROCS=%d: %d files, want %d", procs, len(files), len(first))
		}
		for p, b := range first {
			if !bytes.Equal(files[p], b) {
				t.Errorf("GOMAXPROCS=%d: %s differs", procs, p)
			}
		}
	}
}

// TestCUEPeer keeps the CUE package make bench compares kiln with valid:
// it evaluates, with the five objects per model the table counts.
func TestCUEPeer(t *testing.T) {
	v := cuecontext.New().CompileString(CUEPackage(3))
	objs := v.LookupPath(cue.ParsePath("objects"))
	if err := objs.Validate(cue.Concrete(true)); err != nil {
		t.Fatal(err)
	}
	it, err := objs.Fields()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.Next() {
		n++
	}
	if want := 3 * PeerObjectsPerModel; n != want {
		t.Errorf("%d objects, want %d", n, want)
	}
	if len(HelmChart(3)["values.yaml"]) == 0 {
		t.Error("the Helm chart has no values")
	}
}

// TestLargestSingleSystem: make bench's largest size, N=3000 of one
// environment, is one spec within compiler.MaxSpecBytes, so
// bench/cmd/compare renders it as one system; and its byte size grows
// with N as the limit's comment says (about 0.8 kB a model).
func TestLargestSingleSystem(t *testing.T) {
	n := len(SystemSpec(3000, 1))
	if n > compiler.MaxSpecBytes {
		t.Errorf("3,000 models are %d bytes, over the limit of %d: bench/cmd/compare splits them", n, compiler.MaxSpecBytes)
	}
	if per := float64(n-len(SystemSpec(1000, 1))) / 2000; per < 700 || per > 900 {
		t.Errorf("a model is %.0f bytes of CUE; compiler/limits.go says about 800", per)
	}
}
