package compiler

import (
	"maps"
	"slices"

	"github.com/kiln-ml/kiln/ir"
)

// KilnImage is the key in images that names the kiln image: the image
// built from kiln's repository (`make image IMAGE=...`, the Dockerfile)
// that runs kiln inside the cluster, such as a pipeline's promote step.
// kiln publishes no image anyone could pull by default, so a step that
// runs kiln uses the image it names itself or this one; without either it
// is an error, never a default that ends in ImagePullBackOff.
const KilnImage = ir.KilnImage

// resolveKilnImage gives every promote step that names no image the
// system's images.kiln, and reports those that have neither; so does
// every adaptive sweep that runs kiln's own suggester.
func (k checker) resolveKilnImage() {
	s := k.env.Spec
	kiln := s.Images[KilnImage]
	resolve := func(path string, st *ir.Step) {
		if st == nil || st.Promote == nil {
			return
		}
		if st.Promote.Image != "" {
			return
		}
		if kiln != "" {
			st.Promote.Image = kiln
			return
		}
		k.errorf(ir.Join(path, "promote"), "a promote step runs kiln in the cluster, from an image you build and push: run 'make image IMAGE=<registry>/kiln:<tag>' in kiln's repository, then name it in images.%s (or in promote.image)", KilnImage)
	}
	// An adaptive Argo sweep without a suggestion image runs kiln's own
	// suggester (`kiln suggest`) in the kiln image.
	for _, name := range slices.Sorted(maps.Keys(s.Sweeps)) {
		sw := s.Sweeps[name]
		if sw.Backend != "argo" || sw.Suggestion != nil || (sw.Algorithm != "tpe" && sw.Algorithm != "bayesian") {
			continue
		}
		if sw.Tools.Kiln != "" {
			continue
		}
		if kiln != "" {
			sw.Tools.Kiln = kiln
			continue
		}
		k.errorf(ir.Path("sweeps", name, "algorithm"), "a %s sweep without a suggestion image runs kiln's suggester in the cluster, from an image you build and push: run 'make image IMAGE=<registry>/kiln:<tag>' in kiln's repository, then name it in images.%s (or in tools.kiln), or give the sweep a suggestion image", sw.Algorithm, KilnImage)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Components)) {
		resolve(ir.Path("components", name), s.Components[name])
	}
	for _, name := range slices.Sorted(maps.Keys(s.Pipelines)) {
		p := s.Pipelines[name]
		for _, st := range slices.Sorted(maps.Keys(p.Steps)) {
			step := p.Steps[st]
			if step.Promote == nil && step.Component != "" {
				continue // the component's promote, resolved above
			}
			resolve(ir.Path("pipelines", name, "steps", st), step)
		}
	}
}
