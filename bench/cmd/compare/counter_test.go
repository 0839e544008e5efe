//go:build unix

package main

import (
	"bytes"
	"testing"
)

// TestCounter checks that counter finds every occurrence whatever the
// writes split, and counts all the bytes.
func TestCounter(t *testing.T) {
	text := []byte("---\n# Source: a\nkind: X\n---\n# Source: b\nkind: Y\n---\n# Source: c\n")
	needle := "\n# Source: "
	want := bytes.Count(text, []byte(needle))
	for size := 1; size <= len(text); size++ {
		c := &counter{needle: []byte(needle)}
		for p := text; len(p) > 0; {
			k := min(size, len(p))
			c.Write(p[:k])
			p = p[k:]
		}
		if c.n != want || c.size != int64(len(text)) {
			t.Errorf("writes of %d bytes: counted %d occurrences in %d bytes, want %d in %d", size, c.n, c.size, want, len(text))
		}
	}
	c := &counter{}
	c.Write(text)
	if c.n != 0 || c.size != int64(len(text)) {
		t.Errorf("no needle: counted %d in %d bytes, want 0 in %d", c.n, c.size, len(text))
	}
}
