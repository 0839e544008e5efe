package yamlwrite

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
)

// width is the column past which go-yaml folds a scalar at a space; a
// line that ends by it is never folded.
const width = 80

// maxKey is the longest key written here: go-yaml writes keys past 128
// bytes in the complex form, and the margin keeps clear of that edge.
const maxKey = 120

// Append appends the YAML document of m to dst and reports true, or
// returns dst unchanged and false if it declines m (see the package
// documentation); the caller then encodes m another way. m is not changed.
func Append(dst []byte, m map[string]any) ([]byte, bool) {
	if len(m) == 0 {
		return append(dst, "{}\n"...), true
	}
	w := writer{buf: dst, keys: keyPool.Get().(*[]string)}
	ok := w.mapping(m, 0, false)
	clear(*w.keys)
	*w.keys = (*w.keys)[:0]
	keyPool.Put(w.keys)
	if !ok {
		return dst, false
	}
	return w.buf, true
}

// keyPool holds the scratch slices the maps' keys are sorted in.
var keyPool = sync.Pool{New: func() any { return new([]string) }}

type writer struct {
	buf []byte
	// keys is a stack: each map being written sorts its keys on top.
	keys *[]string
}

// mapping writes m's entries in bytewise key order, each at column
// indent; inline means the first entry's line is already started (after
// a list's "- ").
func (w *writer) mapping(m map[string]any, indent int, inline bool) bool {
	base := len(*w.keys)
	for k := range m {
		*w.keys = append(*w.keys, k)
	}
	slices.Sort((*w.keys)[base:])
	n := len(m)
	for i := range n {
		k := (*w.keys)[base+i]
		if i > 0 || !inline {
			w.indent(indent)
		}
		start := len(w.buf)
		if !w.str(k, indent, 0, true) || len(w.buf)-start > maxKey {
			return false
		}
		col := indent + len(w.buf) - start + 2
		w.buf = append(w.buf, ':')
		switch v := m[k].(type) {
		case map[string]any:
			if len(v) == 0 {
				w.buf = append(w.buf, " {}\n"...)
				continue
			}
			w.buf = append(w.buf, '\n')
			if !w.mapping(v, indent+2, false) {
				return false
			}
		case []any:
			if len(v) == 0 {
				w.buf = append(w.buf, " []\n"...)
				continue
			}
			// go-yaml writes a map's list at the key's column.
			w.buf = append(w.buf, '\n')
			if !w.sequence(v, indent, false) {
				return false
			}
		default:
			w.buf = append(w.buf, ' ')
			if !w.scalar(v, col, indent+2) {
				return false
			}
			w.buf = append(w.buf, '\n')
		}
	}
	*w.keys = (*w.keys)[:base]
	return true
}

// sequence writes l's items, each "- " at column indent; inline as for
// mapping.
func (w *writer) sequence(l []any, indent int, inline bool) bool {
	for i, e := range l {
		if i > 0 || !inline {
			w.indent(indent)
		}
		w.buf = append(w.buf, "- "...)
		switch v := e.(type) {
		case map[string]any:
			if len(v) == 0 {
				w.buf = append(w.buf, "{}\n"...)
				continue
			}
			if !w.mapping(v, indent+2, true) {
				return false
			}
		case []any:
			if len(v) == 0 {
				w.buf = append(w.buf, "[]\n"...)
				continue
			}
			if !w.sequence(v, indent+2, true) {
				return false
			}
		default:
			if !w.scalar(v, indent+2, indent+2) {
				return false
			}
			w.buf = append(w.buf, '\n')
		}
	}
	return true
}

func (w *writer) indent(n int) {
	for range n {
		w.buf = append(w.buf, ' ')
	}
}

// scalar writes v starting at column col; lines it continues on start at
// column indent.
func (w *writer) scalar(v any, col, indent int) bool {
	switch v := v.(type) {
	case string:
		return w.str(v, col, indent, false)
	case nil:
		w.buf = append(w.buf, "null"...)
		return true
	case bool:
		if v {
			w.buf = append(w.buf, "true"...)
		} else {
			w.buf = append(w.buf, "false"...)
		}
		return true
	case json.Number, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		r, ok := oracleValue(v)
		if !ok {
			return false
		}
		w.buf = append(w.buf, r...)
		return true
	}
	return false
}

// str writes s in go-yaml's style for it, starting at column col, any
// further lines at column indent. A key must fit on one line.
func (w *writer) str(s string, col, indent int, key bool) bool {
	st, space := classify(s)
	switch st {
	case plain, single:
		n := len(s)
		if st == single {
			n += 2 + strings.Count(s, "'")
		}
		if space && col+n > width {
			if key {
				return false
			}
			w.folded(s, st == single, col, indent)
			return true
		}
		if st == plain {
			w.buf = append(w.buf, s...)
			return true
		}
		w.buf = append(w.buf, '\'')
		w.quoted(s)
		w.buf = append(w.buf, '\'')
		return true
	case literal:
		if key {
			return false
		}
		w.literal(s, indent)
		return true
	case asked:
		r, ok := oracleString(s)
		if !ok || strings.IndexByte(r, ' ') >= 0 && col+len(r) > width {
			return false
		}
		w.buf = append(w.buf, r...)
		return true
	}
	return false
}

// quoted writes s's characters for single quotes: each quote doubled.
func (w *writer) quoted(s string) {
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			w.buf = append(w.buf, s...)
			return
		}
		w.buf = append(w.buf, s[:i+1]...)
		w.buf = append(w.buf, '\'')
		s = s[i+1:]
	}
}

// folded writes a plain or single-quoted s that runs past the width:
// go-yaml breaks the line at a single space (one between two other
// characters) found past the width, and goes on at column indent; the
// reader folds the break back into that space.
func (w *writer) folded(s string, quote bool, col, indent int) {
	if quote {
		w.buf = append(w.buf, '\'')
		col++
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' && col > width && i > 0 && s[i-1] != ' ' && i+1 < len(s) && s[i+1] != ' ' {
			w.buf = append(w.buf, '\n')
			w.indent(indent)
			col = indent
			continue
		}
		if c == '\'' && quote {
			w.buf = append(w.buf, '\'')
			col++
		}
		w.buf = append(w.buf, c)
		col++
	}
	if quote {
		w.buf = append(w.buf, '\'')
	}
}

// literal writes a multi-line s as a literal block: "|" when s ends in
// one line break, "|-" when it ends in none, each line at column indent
// and empty lines empty.
func (w *writer) literal(s string, indent int) {
	if s[len(s)-1] == '\n' {
		w.buf = append(w.buf, '|')
		s = s[:len(s)-1]
	} else {
		w.buf = append(w.buf, "|-"...)
	}
	for {
		w.buf = append(w.buf, '\n')
		i := strings.IndexByte(s, '\n')
		line := s
		if i >= 0 {
			line = s[:i]
		}
		if line != "" {
			w.indent(indent)
			w.buf = append(w.buf, line...)
		}
		if i < 0 {
			return
		}
		s = s[i+1:]
	}
}

// style is how a string is written.
type style uint8

const (
	decline style = iota
	plain         // as it is
	single        // in single quotes, each quote doubled
	asked         // as go-yaml writes it (oracleString)
	literal       // as a literal block
)

// forceQuote holds the characters that, first in a string, make go-yaml
// quote it (they start another YAML construct), with or without what
// follows.
const forceQuote = "[]{},#&*!|>'\"%@`"

// classify returns s's style and whether s holds a space (where go-yaml
// may fold it).
func classify(s string) (style, bool) {
	if s == "" {
		return asked, false
	}
	space := false
	letters := true
	lines := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' {
			// A space ending a line makes go-yaml write double quotes.
			if i > 0 && s[i-1] == ' ' {
				return decline, false
			}
			lines = true
			continue
		}
		if c < 0x20 || c > 0x7e {
			return decline, false
		}
		if c == ' ' {
			space = true
		}
		if letters && !isLetter(c) {
			letters = false
		}
	}
	c := s[0]
	if lines {
		// Blocks that start with a space or an empty line take an
		// indentation indicator, and blocks that end in empty lines or
		// a space other forms.
		if c == ' ' || c == '\n' || s[len(s)-1] == ' ' || strings.HasSuffix(s, "\n\n") {
			return decline, false
		}
		return literal, space
	}
	switch {
	case isLetter(c):
		// Short words may be booleans or nulls (y, On, NULL, …) or
		// spell a float (NaN, Infinity): go-yaml decides.
		if letters && len(s) <= 8 {
			return asked, space
		}
		// A colon before a space or at the end starts a map value, a
		// hash after a space a comment; a trailing space would be lost.
		if s[len(s)-1] == ':' || s[len(s)-1] == ' ' ||
			space && (strings.Contains(s, ": ") || strings.Contains(s, " #")) {
			return single, space
		}
		return plain, space
	case strings.IndexByte(forceQuote, c) >= 0:
		return single, space
	}
	// Digits, signs, dots and other punctuation: numbers, dates,
	// document markers, ... go-yaml decides.
	return asked, space
}

func isLetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
