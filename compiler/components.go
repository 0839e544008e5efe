package compiler

import (
	"encoding/json"
	"maps"

	"github.com/kiln-ml/kiln/ir"
)

// lowerComponents merges every pipeline step's component into the step,
// so that renderers see resolved steps and none of them needs to know
// components exist. A step's own fields win over its component's, field by
// field at the top level (a step that sets command replaces the
// component's command; one that sets only after keeps the component's
// image, command and outputs). Component stays set on the step as a
// record of where the other fields came from.
//
// It runs after the checks, which report on the spec as the user wrote it
// (a step's own fields, a component's own position); a dangling component
// reference was reported there and leaves the step as it is.
func lowerComponents(env *ir.Environment) {
	s := env.Spec
	for _, p := range s.Pipelines {
		for name, st := range p.Steps {
			if comp := s.Components[st.Component]; st.Component != "" && comp != nil {
				p.Steps[name] = lowerStep(comp, st)
			}
		}
	}
}

// lowerStep is st over comp. The merge goes through the steps' JSON form,
// whose omitempty fields are exactly the ones a step leaves to its
// component, and gives the step its own copy of every value it inherits.
func lowerStep(comp, st *ir.Step) *ir.Step {
	var base, over map[string]json.RawMessage
	if !roundTrip(comp, &base) || !roundTrip(st, &over) {
		return st
	}
	maps.Copy(base, over)
	out := new(ir.Step)
	if !roundTrip(base, out) {
		return st
	}
	return out
}

// roundTrip decodes the JSON form of from into to. The IR's types always
// encode, so failure means a bug, which leaves the step unmerged (and the
// renderers report what it lacks) rather than dropping it.
func roundTrip(from, to any) bool {
	b, err := json.Marshal(from)
	return err == nil && json.Unmarshal(b, to) == nil
}
