package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
)

// BenchmarkRender measures the render phase alone: building the objects
// of a compiled synthetic system (render.Render), without compiling,
// encoding or writing. The system is compiled once, outside the loop;
// Render does not change it, so every iteration renders the same input.
// ns/object is the time per object rendered (the synthetic system has
// about seven a model); cpu-ns/op the process's CPU time per render,
// garbage collection included, steadier than ns/op on a busy machine.
func BenchmarkRender(b *testing.B) {
	for _, n := range []int{300} {
		b.Run(fmt.Sprintf("models=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			if err := WriteSystem(dir, n, 1); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			sys, diags := compiler.Compile(ctx, dir, compiler.Options{})
			if diags.HasErrors() {
				b.Fatalf("compile: %v", diags.Err())
			}
			opts := render.Options{Renderers: plugins.Builtins()}
			objects := 0
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				res, diags := render.Render(ctx, sys, opts)
				if diags.HasErrors() {
					b.Fatalf("render: %v", diags.Err())
				}
				objects = 0
				for _, e := range res.Environments {
					objects += len(e.Items)
				}
				for _, d := range res.Dirs {
					objects += len(d.Items)
				}
			}
			cpu = cpuTime() - cpu
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(objects), "ns/object")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkEncode measures the encode phase alone: the files of a
// rendered synthetic system (render.Files), rendered once outside the
// loop.
func BenchmarkEncode(b *testing.B) {
	dir := b.TempDir()
	if err := WriteSystem(dir, 300, 1); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	sys, diags := compiler.Compile(ctx, dir, compiler.Options{})
	if diags.HasErrors() {
		b.Fatalf("compile: %v", diags.Err())
	}
	res, diags := render.Render(ctx, sys, render.Options{Renderers: plugins.Builtins()})
	if diags.HasErrors() {
		b.Fatalf("render: %v", diags.Err())
	}
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if _, err := render.Files(res); err != nil {
			b.Fatal(err)
		}
	}
	cpu = cpuTime() - cpu
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}
