package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/kiln-ml/kiln/compiler"
)

// stats is where `kiln render --stats` says the time went: the compiler's
// phases, then rendering the objects, encoding them as YAML and writing
// the files.
type stats struct {
	Compile               compiler.Stats
	Render, Encode, Write time.Duration
	begin                 time.Time
	// cache is the render cache's "N hits, M misses", or "off".
	cache string
	// outputs says how a render compared its files with those on disk:
	// how many the output's write record proved unchanged, how many it
	// read; "" when it wrote no files (--stdout).
	outputs string
}

// add adds the phases of one system's build (buildAll gives each its own
// stats) to s; either may be nil.
func (s *stats) add(o *stats) {
	if s == nil || o == nil {
		return
	}
	c, oc := &s.Compile, o.Compile
	c.Load += oc.Load
	c.Evaluate += oc.Evaluate
	c.Environments += oc.Environments
	c.Decode += oc.Decode
	c.Checks += oc.Checks
	c.Split += oc.Split
	c.Chunks += oc.Chunks
	c.OneValue += oc.OneValue
	s.Render += o.Render
	s.Encode += o.Encode
	s.Write += o.Write
}

// compared records how the files of a render were compared with those
// on disk (write.Stage.Compared).
func (s *stats) compared(known, read int) {
	if s != nil {
		s.outputs = fmt.Sprintf("%d known unchanged from the write record, %d read", known, read)
	}
}

// cached records how the render cache fared (sc nil: off).
func (s *stats) cached(sc *systemCache) {
	if s == nil {
		return
	}
	s.cache = "off"
	if sc != nil {
		s.cache = fmt.Sprintf("%d %s, %d %s", sc.hits, plural(sc.hits, "hit", "hits"), sc.misses, plural(sc.misses, "miss", "misses"))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// start returns a function that adds the time since the call to the
// phase pick chooses; on a nil *stats both do nothing.
func (s *stats) start(pick func(*stats) *time.Duration) func() {
	if s == nil {
		return func() {}
	}
	t := time.Now()
	return func() { *pick(s) += time.Since(t) }
}

func renderPhase(s *stats) *time.Duration { return &s.Render }
func encodePhase(s *stats) *time.Duration { return &s.Encode }
func writePhase(s *stats) *time.Duration  { return &s.Write }

// print writes one line per phase, the total, how the render cache fared
// and the peak resident memory.
func (s *stats) print(w io.Writer) error {
	c := s.Compile
	for _, p := range []struct {
		name string
		d    time.Duration
	}{
		{"load", c.Load},
		{"evaluate", c.Evaluate},
		{"environments", c.Environments},
		{"decode", c.Decode},
		{"checks", c.Checks},
		{"render", s.Render},
		{"encode", s.Encode},
		{"write", s.Write},
		{"total", time.Since(s.begin)},
	} {
		if _, err := fmt.Fprintf(w, "%-12s %8.3fs\n", p.name, p.d.Seconds()); err != nil {
			return err
		}
	}
	// How the specs built were evaluated: split into chunks, or as one
	// value (a spec that is not data, or has an error).
	if _, err := fmt.Fprintf(w, "%-12s %d split (%d %s), %d as one value\n", "evaluation",
		c.Split, c.Chunks, plural(c.Chunks, "chunk", "chunks"), c.OneValue); err != nil {
		return err
	}
	if s.cache != "" {
		if _, err := fmt.Fprintf(w, "%-12s %s\n", "cache", s.cache); err != nil {
			return err
		}
	}
	if s.outputs != "" {
		if _, err := fmt.Fprintf(w, "%-12s %s\n", "outputs", s.outputs); err != nil {
			return err
		}
	}
	rss := "unknown"
	if b := peakRSS(); b > 0 {
		rss = fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	}
	_, err := fmt.Fprintf(w, "%-12s %9s\n", "peak RSS", rss)
	return err
}
