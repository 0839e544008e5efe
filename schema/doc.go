// Package schema embeds kiln's CUE schema, the single source of truth for
// what a spec may say. The compiler unifies every spec with #System; kiln
// init vendors the same files into a spec's cue.mod so that editors and
// plain `cue vet` see them too.
package schema
