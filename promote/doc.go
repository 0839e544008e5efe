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
// Semantics, applied to every environment that has the serving entry
// (or every selected one, below):
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
// Request.Environments limits a promotion to some environments (kiln
// promote -e; a pipeline's promote step passes the environment it runs
// in, so a prod retraining run never changes dev). For each selected
// environment the value that counts there (Environment.Sources says where
// it is written) is edited in place only when it is written in that
// environment's own overrides and no environment left out reads the same
// position. Otherwise the value comes from the base entry, which the
// others share, and the selected environment gets an override instead,
// under environments.<env>.overrides.serving.<name>, added to the deepest
// struct of that path the file already writes (a short a: b: c chain
// gains braces when it gets a second field). Overrides are a JSON merge
// patch, so a canary the base defines is removed for one environment with
// canary: null (an override that already changes part of that canary
// becomes null); a later canary promotion for that environment turns the
// null back into a struct. When the selection covers every environment
// that has the entry, the base is edited as without it, and a canary: null
// an earlier limited promotion left in a selected environment goes.
//
// The edited spec is compiled again, in memory, before anything is
// written: it must still vet, every selected environment must end up with
// the requested values, and every other environment must serve exactly
// what it served before (a value shared through a reference would change
// it), or nothing changes on disk.
package promote
