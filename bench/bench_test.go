package bench

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
)

// BenchmarkCompileRender compiles the skin-lesion example and renders
// every environment with the built-in renderers, as `kiln vet` does.
func BenchmarkCompileRender(b *testing.B) {
	dir := filepath.Join("..", "examples", "skin-lesion")
	ctx := context.Background()
	for b.Loop() {
		sys, diags := compiler.Compile(ctx, dir, compiler.Options{})
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		res, diags := render.Render(ctx, sys, render.Options{Renderers: plugins.Builtins()})
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		files, err := render.Files(res)
		if err != nil {
			b.Fatal(err)
		}
		if len(files) == 0 {
			b.Fatal("no files")
		}
	}
}
