package yamlwrite

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
)

// AppendObject appends the YAML document of the JSON object js, a
// Kubernetes object as encoding/json writes it, cleaned as kiln cleans
// its objects: without a top-level "status", without "creationTimestamp":
// null in any "metadata" object, and without "metadata" objects left
// empty by that. The bytes are those Append writes for the cleaned map
// that encoding/json decodes from js (numbers as json.Number); it
// declines (returns dst and false) what Append declines, and JSON it does
// not read with certainty: duplicate keys, escapes of runes outside
// ASCII, text that is not one JSON object.
//
// It saves decoding js into maps, which costs about as much as writing
// the YAML: members are sorted and written straight from the text.
func AppendObject(dst []byte, js []byte) ([]byte, bool) {
	p := parserPool.Get().(*parser)
	defer func() {
		clear(p.nodes)
		p.nodes = p.nodes[:0]
		p.order = p.order[:0]
		p.text = ""
		parserPool.Put(p)
	}()
	// One copy of the text: every string without escapes is a slice of it.
	p.text = string(js)
	p.pos, p.depth, p.bad = 0, 0, false
	p.skipSpace()
	root, ok := p.value()
	if p.skipSpace(); !ok || p.pos != len(p.text) || p.nodes[root].kind != '{' {
		return dst, false
	}
	if p.clean(root, true); p.bad {
		return dst, false
	}
	if p.nodes[root].n == 0 {
		return append(dst, "{}\n"...), true
	}
	w := writer{buf: dst}
	if !w.object(p, root, 0, false) {
		return dst, false
	}
	return w.buf, true
}

var parserPool = sync.Pool{New: func() any { return new(parser) }}

// node is a JSON value: kind is '{', '[', '"' (a string), '0' (a
// number), 't', 'f' or 'n' (null). An object's or array's children are
// the nodes first, next, ... (-1 ends the list); an object's children
// carry their member keys.
type node struct {
	kind        byte
	key, text   string
	first, next int32
	n           int32
}

type parser struct {
	text  string
	pos   int
	nodes []node
	// order is a stack: each object being written sorts its members on
	// top.
	order []int32
	depth int
	// bad is set when cleaning dropped a member whose key another member
	// repeats: encoding/json keeps the last of them, and which one that
	// was is lost.
	bad bool
}

// maxDepth bounds nesting (encoding/json's own limit is 10000).
const maxDepth = 1000

func (p *parser) skipSpace() {
	for p.pos < len(p.text) {
		switch p.text[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses the value at p.pos into a new node.
func (p *parser) value() (int32, bool) {
	if p.pos >= len(p.text) {
		return 0, false
	}
	i := int32(len(p.nodes))
	p.nodes = append(p.nodes, node{first: -1, next: -1})
	switch c := p.text[p.pos]; c {
	case '{', '[':
		if p.depth++; p.depth > maxDepth {
			return 0, false
		}
		defer func() { p.depth-- }()
		p.nodes[i].kind = c
		p.pos++
		last := int32(-1)
		for n := 0; ; n++ {
			p.skipSpace()
			if p.pos < len(p.text) && p.text[p.pos] == c+2 { // '}' or ']'
				if n > 0 {
					return 0, false // a trailing comma
				}
				p.pos++
				return i, true
			}
			var key string
			if c == '{' {
				var ok bool
				if key, ok = p.str(); !ok {
					return 0, false
				}
				if p.skipSpace(); p.pos >= len(p.text) || p.text[p.pos] != ':' {
					return 0, false
				}
				p.pos++
				p.skipSpace()
			}
			e, ok := p.value()
			if !ok {
				return 0, false
			}
			p.nodes[e].key = key
			if last < 0 {
				p.nodes[i].first = e
			} else {
				p.nodes[last].next = e
			}
			last = e
			p.nodes[i].n++
			p.skipSpace()
			if p.pos >= len(p.text) {
				return 0, false
			}
			switch p.text[p.pos] {
			case ',':
				p.pos++
				p.skipSpace()
				if p.pos < len(p.text) && p.text[p.pos] == c+2 {
					return 0, false
				}
				continue
			case c + 2:
				p.pos++
				return i, true
			}
			return 0, false
		}
	case '"':
		s, ok := p.str()
		p.nodes[i].kind, p.nodes[i].text = '"', s
		return i, ok
	case 't', 'f', 'n':
		word := "null"
		if c == 't' {
			word = "true"
		} else if c == 'f' {
			word = "false"
		}
		if !strings.HasPrefix(p.text[p.pos:], word) {
			return 0, false
		}
		p.pos += len(word)
		p.nodes[i].kind = c
		return i, true
	}
	start := p.pos
	if !p.number() {
		return 0, false
	}
	p.nodes[i].kind, p.nodes[i].text = '0', p.text[start:p.pos]
	return i, true
}

// number skips a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() bool {
	t := p.text
	digits := func() int {
		n := 0
		for p.pos < len(t) && '0' <= t[p.pos] && t[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.pos < len(t) && t[p.pos] == '-' {
		p.pos++
	}
	start := p.pos
	if n := digits(); n == 0 || n > 1 && t[start] == '0' {
		return false
	}
	if p.pos < len(t) && t[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return false
		}
	}
	if p.pos < len(t) && (t[p.pos] == 'e' || t[p.pos] == 'E') {
		p.pos++
		if p.pos < len(t) && (t[p.pos] == '+' || t[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// str reads the string at p.pos. Escapes of runes outside ASCII, and
// bytes outside ASCII, are declined: the writer declines them anyway.
func (p *parser) str() (string, bool) {
	t := p.text
	if p.pos >= len(t) || t[p.pos] != '"' {
		return "", false
	}
	p.pos++
	start := p.pos
	for p.pos < len(t) {
		switch c := t[p.pos]; {
		case c == '"':
			s := t[start:p.pos]
			p.pos++
			return s, true
		case c == '\\':
			return p.escaped(start)
		case c < 0x20 || c >= 0x80:
			return "", false
		}
		p.pos++
	}
	return "", false
}

// escaped reads the rest of a string that holds an escape.
func (p *parser) escaped(start int) (string, bool) {
	t := p.text
	b := []byte(t[start:p.pos])
	for p.pos < len(t) {
		c := t[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(b), true
		case c < 0x20 || c >= 0x80:
			return "", false
		case c != '\\':
			b = append(b, c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(t) {
			return "", false
		}
		e := t[p.pos+1]
		p.pos += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			if p.pos+4 > len(t) {
				return "", false
			}
			r := 0
			for _, h := range []byte(t[p.pos : p.pos+4]) {
				switch {
				case '0' <= h && h <= '9':
					r = r<<4 | int(h-'0')
				case 'a' <= h && h <= 'f':
					r = r<<4 | int(h-'a'+10)
				case 'A' <= h && h <= 'F':
					r = r<<4 | int(h-'A'+10)
				default:
					return "", false
				}
			}
			if r >= 0x80 {
				return "", false
			}
			b = append(b, byte(r))
			p.pos += 4
		default:
			return "", false
		}
	}
	return "", false
}

// clean applies kiln's cleaning (see AppendObject) below node i, depth
// first, as render's clean does on maps.
func (p *parser) clean(i int32, top bool) {
	nd := &p.nodes[i]
	if nd.kind != '{' && nd.kind != '[' {
		return
	}
	prev := int32(-1)
	for e := nd.first; e >= 0; e = p.nodes[e].next {
		p.clean(e, false)
		drop := false
		en := &p.nodes[e]
		if nd.kind == '{' {
			if en.key == "metadata" && en.kind == '{' {
				p.unlink(e, "creationTimestamp", 'n')
				drop = p.nodes[e].n == 0
			}
			drop = drop || top && en.key == "status"
		}
		if drop {
			if prev < 0 {
				nd.first = p.nodes[e].next
			} else {
				p.nodes[prev].next = p.nodes[e].next
			}
			nd.n--
			p.bad = p.bad || p.has(i, p.nodes[e].key)
			continue
		}
		prev = e
	}
}

// has reports whether object i has a member named key.
func (p *parser) has(i int32, key string) bool {
	for e := p.nodes[i].first; e >= 0; e = p.nodes[e].next {
		if p.nodes[e].key == key {
			return true
		}
	}
	return false
}

// unlink removes object i's members named key of the given kind.
func (p *parser) unlink(i int32, key string, kind byte) {
	prev := int32(-1)
	for e := p.nodes[i].first; e >= 0; e = p.nodes[e].next {
		if p.nodes[e].key == key && p.nodes[e].kind == kind {
			if prev < 0 {
				p.nodes[i].first = p.nodes[e].next
			} else {
				p.nodes[prev].next = p.nodes[e].next
			}
			p.nodes[i].n--
			continue
		}
		prev = e
	}
	p.bad = p.bad || p.has(i, key)
}

// object writes object node i as mapping writes a map.
func (w *writer) object(p *parser, i int32, indent int, inline bool) bool {
	base := len(p.order)
	for e := p.nodes[i].first; e >= 0; e = p.nodes[e].next {
		p.order = append(p.order, e)
	}
	members := p.order[base:]
	slices.SortFunc(members, func(a, b int32) int { return strings.Compare(p.nodes[a].key, p.nodes[b].key) })
	n := len(members)
	for j := range n {
		e := p.order[base+j]
		k := p.nodes[e].key
		if j > 0 && k == p.nodes[p.order[base+j-1]].key {
			return false // a duplicate key: which one counts is not ours to say
		}
		if j > 0 || !inline {
			w.indent(indent)
		}
		start := len(w.buf)
		if !w.str(k, indent, 0, true) || len(w.buf)-start > maxKey {
			return false
		}
		col := indent + len(w.buf) - start + 2
		w.buf = append(w.buf, ':')
		switch nd := &p.nodes[e]; nd.kind {
		case '{':
			if nd.n == 0 {
				w.buf = append(w.buf, " {}\n"...)
				continue
			}
			w.buf = append(w.buf, '\n')
			if !w.object(p, e, indent+2, false) {
				return false
			}
		case '[':
			if nd.n == 0 {
				w.buf = append(w.buf, " []\n"...)
				continue
			}
			w.buf = append(w.buf, '\n')
			if !w.array(p, e, indent, false) {
				return false
			}
		default:
			w.buf = append(w.buf, ' ')
			if !w.leaf(nd, col, indent+2) {
				return false
			}
			w.buf = append(w.buf, '\n')
		}
	}
	p.order = p.order[:base]
	return true
}

// array writes array node i as sequence writes a list.
func (w *writer) array(p *parser, i int32, indent int, inline bool) bool {
	j := 0
	for e := p.nodes[i].first; e >= 0; e = p.nodes[e].next {
		if j > 0 || !inline {
			w.indent(indent)
		}
		j++
		w.buf = append(w.buf, "- "...)
		switch nd := &p.nodes[e]; nd.kind {
		case '{':
			if nd.n == 0 {
				w.buf = append(w.buf, "{}\n"...)
				continue
			}
			if !w.object(p, e, indent+2, true) {
				return false
			}
		case '[':
			if nd.n == 0 {
				w.buf = append(w.buf, "[]\n"...)
				continue
			}
			if !w.array(p, e, indent+2, true) {
				return false
			}
		default:
			if !w.leaf(nd, indent+2, indent+2) {
				return false
			}
			w.buf = append(w.buf, '\n')
		}
	}
	return true
}

// leaf writes a string, number, boolean or null node as scalar does.
func (w *writer) leaf(nd *node, col, indent int) bool {
	switch nd.kind {
	case '"':
		return w.str(nd.text, col, indent, false)
	case '0':
		return w.scalar(json.Number(nd.text), col, indent)
	case 't':
		w.buf = append(w.buf, "true"...)
	case 'f':
		w.buf = append(w.buf, "false"...)
	default:
		w.buf = append(w.buf, "null"...)
	}
	return true
}
