package ir

import (
	"strconv"
	"strings"
)

// Path builds a CUE path from labels the way CUE prints paths in its error
// messages: labels that are not identifiers are quoted, list indices are
// plain numbers. Diagnostics and Sources use this one spelling.
func Path(labels ...string) string {
	var b strings.Builder
	for i, l := range labels {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(Label(l))
	}
	return b.String()
}

// Join appends labels to a path.
func Join(path string, labels ...string) string {
	if path == "" {
		return Path(labels...)
	}
	if len(labels) == 0 {
		return path
	}
	return path + "." + Path(labels...)
}

// Index appends a list index to a path.
func Index(path string, i int) string { return Join(path, strconv.Itoa(i)) }

// Label quotes l if it is not a plain identifier or index.
func Label(l string) string {
	if isIdent(l) || isIndex(l) {
		return l
	}
	return strconv.Quote(l)
}

// Parent returns path without its last label, or "" at the top.
func Parent(path string) string {
	inQuote := false
	last := -1
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case c == '\\' && inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case c == '.' && !inQuote:
			last = i
		}
	}
	if last < 0 {
		return ""
	}
	return path[:last]
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r == '$' || r == '#':
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
