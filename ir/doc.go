// Package ir is kiln's intermediate representation: the spec after CUE has
// checked it and environments have been applied, as plain Go values.
//
// The compiler is the only producer of the IR and renderers are its only
// consumers; CUE ends here. ir depends on the standard library and diag only.
// The field names follow the schema's JSON names one to one, so a test can
// decode every example into the IR and catch any drift between Go and CUE.
package ir
