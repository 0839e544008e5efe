// Package policy checks the rules of a spec's #Policy that only a rendered
// system can: the GPUs a training job asks for in all, and the GPUs an
// environment may need at once at worst, as the renderers declare them
// (render.GPUDemand, summed by platform.Budgets). The compiler checks every
// other rule while it compiles and hands these over as predicates
// (ir.PolicyRule), so nothing here needs CUE.
//
// policy depends on ir, diag, render, render/platform and render/training.
package policy
