// Package promote rolls a new model version into a spec by editing its CUE
// source: serving.<name>.model.storageUri, or the canary.
//
// It edits syntax, not values: the spec is compiled first, and the
// positions the compiler records for each environment's effective value
// (which may be the base entry or an environment's override) say which
// literal in which file to change. The files are parsed with
// cuelang.org/go/cue/parser, changed as ASTs and printed with cue/format, so
// comments and layout survive; a file that was not `cue fmt`-formatted comes
// out formatted. When the value at that position is a reference (to a let,
// or a field such as models.v7), the literal it refers to in the same file
// is edited; anything else (an interpolation, a default, a reference into
// another file or package) is refused with the position, so a human edits
// it.
//
// Semantics, applied to every environment that has the serving entry:
//
//   - Without a canary percent, the model is replaced: every place that
//     defines an environment's model.storageUri gets the new URI, and every
//     canary (in the base entry or in an override) is removed.
//   - With a canary percent N, the new model becomes the canary: where an
//     environment has a canary, its storageUri and percent are set; where it
//     has none, a canary {storageUri, percent} is added to the base entry.
//     A stated stablePercent is set to 100 - N, since the two must add up.
//     The stable model is left alone; promoting without a percent later
//     makes the canary the model.
//
// The edited spec is compiled again, in memory, before anything is
// written: it must still vet, and every environment must end up with the
// requested values, or nothing changes on disk.
package promote
