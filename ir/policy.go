package ir

import "github.com/kiln-ml/kiln/diag"

// PolicyRule is a rule of the spec's #Policy that only the rendered system
// can check (the GPUs a job or an environment needs, which the renderers
// count): the compiler checks the others itself.
type PolicyRule struct {
	// Name is the rule's field in #PolicyRules, such as gpusPerJob.
	Name string
	// Pos is where the rule is written (the environment's own rule when
	// it has one).
	Pos diag.Pos
	// Text is the constraint as CUE prints it, such as <=32.
	Text string
	// Allows reports whether n satisfies the rule; the compiler builds it
	// from the CUE constraint, so that nothing after it needs CUE.
	Allows func(n int) bool
}
