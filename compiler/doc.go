// Package compiler turns a spec directory into kiln's IR.
//
// It loads one CUE package with the embedded schema overlaid at its import
// path, unifies the package with #System, requires every value to be
// concrete, applies each environment's overrides, decodes the result into
// ir.System and runs the semantic checks CUE cannot express: references
// between sections, dependency cycles, names that collide once normalised.
// A spec's #Policy (policy.go) is checked there too: CUE evaluates each
// rule against the values it governs. FindSpecs finds the specs below a
// directory, for DIR/... on the command line.
//
// The compiler is the only package that imports cuelang.org/go besides the
// schema reference printer; CUE errors are turned into diagnostics here, once,
// with the user's file:line:col as the primary position and the schema's as
// related.
package compiler
