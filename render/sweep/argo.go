package sweep

import (
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

// Argo renders a sweep as Argo objects.
func Argo(sys *ir.System, env *ir.Environment, name string, sw *ir.Sweep) ([]render.Object, error) {
	return nil, nil
}
