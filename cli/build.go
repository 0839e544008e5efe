package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/kiln-ml/kiln/compiler"
	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
)

// build compiles the spec in dir and renders it in memory: everything kiln
// checks, without writing anything.
func build(ctx context.Context, dir string, envs []string) (*render.Result, diag.List, error) {
	if fi, err := os.Stat(dir); err != nil {
		return nil, nil, fmt.Errorf("spec directory: %w", err)
	} else if !fi.IsDir() {
		return nil, nil, fmt.Errorf("spec directory: %s is not a directory", dir)
	}
	sys, diags := compiler.Compile(ctx, dir, compiler.Options{Environments: envs})
	if diags.HasErrors() {
		return nil, diags, nil
	}
	res, rdiags := render.Render(ctx, sys, render.Options{Renderers: plugins.Builtins(), Partial: len(envs) > 0})
	diags = append(diags, rdiags...).Sort()
	if diags.HasErrors() {
		return nil, diags, nil
	}
	return res, diags, nil
}

func specDir(args []string) string {
	if len(args) == 0 {
		return "."
	}
	return args[0]
}
