package compiler

import "time"

// Stats is where a compilation spent its time, for `kiln render --stats`.
// The phases follow the data: loading the CUE files, evaluating them with
// the schema and exporting the result, applying each environment's
// overrides (and checking what they changed against the schema), decoding
// into the IR, and the semantic checks.
type Stats struct {
	Load, Evaluate, Environments, Decode, Checks time.Duration
	// Split counts the specs evaluated the split way and Chunks their
	// chunks; OneValue those evaluated as one value (split.go).
	Split, Chunks, OneValue int
}

// timer adds the time from its creation to its first stop call to a phase
// of the compilation's Stats, when the caller asked for them. Later calls
// do nothing, so a deferred stop may follow an explicit one.
func (c *compilation) timer(phase func(*Stats) *time.Duration) func() {
	if c.opts.Stats == nil {
		return func() {}
	}
	start := time.Now()
	done := false
	return func() {
		if !done {
			done = true
			*phase(c.opts.Stats) += time.Since(start)
		}
	}
}

func loadPhase(s *Stats) *time.Duration         { return &s.Load }
func evaluatePhase(s *Stats) *time.Duration     { return &s.Evaluate }
func environmentsPhase(s *Stats) *time.Duration { return &s.Environments }
func decodePhase(s *Stats) *time.Duration       { return &s.Decode }
func checksPhase(s *Stats) *time.Duration       { return &s.Checks }
