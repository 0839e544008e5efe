package sweep

import (
	"maps"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

// Component is the app.kubernetes.io/component of sweep objects.
const Component = "sweep"

// Renderer renders sweeps.
type Renderer struct{}

// Name implements render.Renderer.
func (Renderer) Name() string { return "sweeps" }

// Render implements render.Renderer.
func (Renderer) Render(c *render.Context) diag.List {
	for _, name := range slices.Sorted(maps.Keys(c.Env.Spec.Sweeps)) {
		sw := c.Env.Spec.Sweeps[name]
		path := ir.Path("sweeps", name)
		if c.Env.Spec.Training[sw.Trial] == nil && c.Env.Spec.Pipelines[sw.Pipeline] == nil {
			// The compiler reports the dangling reference.
			continue
		}
		if !Check(c, name, sw) {
			continue
		}
		origin := c.Origin(path, Component, ObjectName(name))
		switch sw.Backend {
		case "katib":
			exp, err := Katib(c.System, c.Env, name, sw)
			if err != nil {
				c.Errorf(path, "%v", err)
				continue
			}
			c.Add(exp, origin)
		default:
			objs, err := Argo(c.System, c.Env, name, sw)
			if err != nil {
				c.Errorf(path, "%v", err)
				continue
			}
			for _, o := range objs {
				c.Add(o, origin)
			}
		}
	}
	return nil
}

// ObjectName is the name of a sweep's objects.
func ObjectName(entry string) string { return strings.ReplaceAll(entry, "_", "-") }
