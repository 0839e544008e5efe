package render_test

import (
	"context"
	"testing"

	"github.com/kiln-ml/kiln/bench"
	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
)

// BenchmarkMarshal encodes every object of a synthetic system of 100
// models (bench.SystemSpec), on one core, with kiln's emitter and with
// go-yaml as Marshal did before it: the encode phase, measured in one run.
func BenchmarkMarshal(b *testing.B) {
	dir := b.TempDir()
	if err := bench.WriteSystem(dir, 100, 1); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	sys, diags := compiler.Compile(ctx, dir, compiler.Options{})
	if diags.HasErrors() {
		b.Fatal(diags.Err())
	}
	res, diags := render.Render(ctx, sys, render.Options{Renderers: plugins.Builtins()})
	if diags.HasErrors() {
		b.Fatal(diags.Err())
	}
	var objs []any
	for _, env := range res.Environments {
		for _, it := range env.Items {
			objs = append(objs, it.Object)
		}
	}
	for _, c := range []struct {
		name    string
		marshal func(any) ([]byte, error)
	}{
		{"emitter", render.Marshal},
		{"go-yaml", render.MarshalGoYAML},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, o := range objs {
					if _, err := c.marshal(o); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
