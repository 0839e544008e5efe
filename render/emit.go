package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// This file is kiln's own YAML emitter. It writes, for the values Marshal
// hands it (decoded JSON: maps with string keys, lists, strings, numbers,
// booleans, null), exactly the bytes go-yaml v2's Marshal writes for the
// same values with the maps in kiln's key order (see ordered). go-yaml's
// emitter is a port of libyaml: every value goes through events, a queue
// and a state machine, and that was the largest part of encoding a large
// system. Here the same decisions are taken while walking the values:
//
//   - the scalar style: go-yaml's encoder asks for a literal block when a
//     string holds "\n", plain when the string reads back as a string, and
//     double quotes otherwise; its emitter then downgrades plain to single
//     quotes and single to double quotes by what the text holds (analyze);
//   - the layout: block mappings and sequences indented by two, a sequence
//     in a mapping not indented, empty ones as {} and [], keys over 128
//     bytes or holding a line break written as complex keys ("? ");
//   - long plain and quoted scalars folded at a space past column 80.
//
// Each function below says which of go-yaml's it follows; the state it
// keeps (column, indent, whitespace, indention) has the same meaning. What
// it does not handle (a string that is not UTF-8, which go-yaml writes as
// !!binary; a Go type decoded JSON does not produce) makes encodeYAML
// return errFallback, and Marshal hands that document to go-yaml. The
// differential tests in emit_test.go hold the two equal.

// errFallback says the emitter met a value it does not write itself.
var errFallback = errors.New("render: value left to go-yaml")

const (
	yamlIndent = 2  // go-yaml's best_indent
	yamlWidth  = 80 // go-yaml's best_width: where it folds long scalars
	// yamlSimpleKey is the longest key go-yaml writes as "key:".
	yamlSimpleKey = 128
)

type scalarStyle int

const (
	plainStyle scalarStyle = iota
	singleQuotedStyle
	doubleQuotedStyle
	literalStyle
)

type emitter struct {
	buf        []byte
	column     int  // in characters, as go-yaml counts it
	indent     int  // of the current block; -1 before the document's root
	whitespace bool // the last thing written was whitespace (or nothing)
	indention  bool // only indentation written on this line so far
}

// emitPool holds emitters with their buffers, so that encoding thousands
// of objects does not grow a buffer for each.
var emitPool = sync.Pool{New: func() any { return &emitter{buf: make([]byte, 0, 16<<10)} }}

// appendYAML appends the YAML document of v (a map, as Marshal builds it)
// to dst, as go-yaml's Marshal would write it; errFallback when v holds
// something the emitter leaves to go-yaml.
func appendYAML(dst []byte, v map[string]any) ([]byte, error) {
	e := emitPool.Get().(*emitter)
	defer emitPool.Put(e)
	e.buf = e.buf[:0]
	// yaml_emitter_emit_stream_start; the document start is implicit.
	e.indent, e.column, e.whitespace, e.indention = -1, 0, true, true
	if err := e.node(v, false, false); err != nil {
		return dst, err
	}
	// yaml_emitter_emit_document_end, implicit: end the last line.
	e.writeIndent()
	return append(dst, e.buf...), nil
}

// node is yaml_emitter_emit_node with go-yaml's encoder (encoder.marshal)
// in front of it: it picks the event the value becomes and emits it.
func (e *emitter) node(v any, mappingCtx, simpleKey bool) error {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			e.emptyFlow("{", "}")
			return nil
		}
		return e.mapping(v)
	case []any:
		if len(v) == 0 {
			e.emptyFlow("[", "]")
			return nil
		}
		return e.sequence(v, mappingCtx)
	case string:
		return e.str(v, simpleKey)
	case bool:
		if v {
			e.plainToken("true")
		} else {
			e.plainToken("false")
		}
	case nil:
		e.plainToken("null")
	case json.Number:
		r, err := yamlNumber(v)
		if err != nil {
			return err
		}
		return e.node(r, mappingCtx, simpleKey)
	case int:
		e.plainToken(strconv.Itoa(v))
	case int64:
		e.plainToken(strconv.FormatInt(v, 10))
	case uint64:
		e.plainToken(strconv.FormatUint(v, 10))
	case float64:
		// encoder.floatv
		s := strconv.FormatFloat(v, 'g', -1, 64)
		switch s {
		case "+Inf":
			s = ".inf"
		case "-Inf":
			s = "-.inf"
		case "NaN":
			s = ".nan"
		}
		e.plainToken(s)
	default:
		return errFallback
	}
	return nil
}

// emptyFlow writes an empty mapping or sequence, which go-yaml writes in
// flow style: yaml_emitter_emit_flow_mapping_key (or _sequence_item) on
// the start event and then the end event.
func (e *emitter) emptyFlow(open, close string) {
	e.writeIndicator(open, true, true, false)
	e.writeIndicator(close, false, false, false)
}

// mapping is yaml_emitter_emit_block_mapping_key and _value over a map
// in kiln's key order.
func (e *emitter) mapping(m map[string]any) error {
	outer := e.increaseIndent(false, false)
	for _, k := range sortedYAMLKeys(m) {
		e.writeIndent()
		if !utf8.ValidString(k) {
			return errFallback
		}
		// yaml_emitter_check_simple_key: a scalar with no line break,
		// at most 128 bytes (no anchor or tag here).
		if len(k) <= yamlSimpleKey && !hasBreak(k) {
			if err := e.str(k, true); err != nil {
				return err
			}
			e.writeIndicator(":", false, false, false)
		} else {
			e.writeIndicator("?", true, false, true)
			if err := e.str(k, false); err != nil {
				return err
			}
			e.writeIndent()
			e.writeIndicator(":", true, false, true)
		}
		if err := e.node(m[k], true, false); err != nil {
			return err
		}
	}
	e.indent = outer
	return nil
}

// sequence is yaml_emitter_emit_block_sequence_item: a sequence that is a
// mapping's value starts at the key's column ("indentless").
func (e *emitter) sequence(l []any, mappingCtx bool) error {
	outer := e.increaseIndent(false, mappingCtx && !e.indention)
	for _, v := range l {
		e.writeIndent()
		e.writeIndicator("-", true, false, true)
		if err := e.node(v, false, false); err != nil {
			return err
		}
	}
	e.indent = outer
	return nil
}

// str is encoder.stringv: the style go-yaml's encoder asks for, then
// the scalar.
func (e *emitter) str(s string, simpleKey bool) error {
	if !utf8.ValidString(s) {
		return errFallback // go-yaml writes it as !!binary
	}
	style := doubleQuotedStyle
	switch {
	case strings.IndexByte(s, '\n') >= 0:
		style = literalStyle
	case resolvesToString(s) && !isBase60Float(s):
		style = plainStyle
	}
	e.scalar(s, style, simpleKey)
	return nil
}

// plainToken writes a number, a boolean or null: always plain, never
// folded (it holds no space), never a key.
func (e *emitter) plainToken(s string) {
	if !e.whitespace {
		e.put(' ')
	}
	e.buf = append(e.buf, s...)
	e.column += len(s)
	e.whitespace, e.indention = false, false
}

// scalar is yaml_emitter_emit_scalar: yaml_emitter_select_scalar_style
// (block context: kiln writes no scalar inside a flow collection), then
// the scalar one indentation step in.
func (e *emitter) scalar(s string, style scalarStyle, simpleKey bool) {
	a := analyzeScalar(s)
	if simpleKey && a.multiline {
		style = doubleQuotedStyle
	}
	if style == plainStyle {
		if !a.blockPlainAllowed || len(s) == 0 && simpleKey {
			style = singleQuotedStyle
		}
	}
	if style == singleQuotedStyle && !a.singleQuotedAllowed {
		style = doubleQuotedStyle
	}
	if style == literalStyle && (!a.blockAllowed || simpleKey) {
		style = doubleQuotedStyle
	}
	outer := e.increaseIndent(true, false)
	switch style {
	case plainStyle:
		e.writePlain(s, !simpleKey)
	case singleQuotedStyle:
		e.writeSingleQuoted(s, !simpleKey)
	case doubleQuotedStyle:
		e.writeDoubleQuoted(s, !simpleKey)
	case literalStyle:
		e.writeLiteral(s)
	}
	e.indent = outer
}

// increaseIndent is yaml_emitter_increase_indent; it returns the
// indentation to restore.
func (e *emitter) increaseIndent(flow, indentless bool) int {
	outer := e.indent
	if e.indent < 0 {
		if flow {
			e.indent = yamlIndent
		} else {
			e.indent = 0
		}
	} else if !indentless {
		e.indent += yamlIndent
	}
	return outer
}

func (e *emitter) put(c byte) {
	e.buf = append(e.buf, c)
	e.column++
}

func (e *emitter) putBreak() {
	e.buf = append(e.buf, '\n')
	e.column = 0
}

// write copies the character at s[*i]: go-yaml's write.
func (e *emitter) write(s string, i *int) {
	w := charWidth(s[*i])
	e.buf = append(e.buf, s[*i:*i+w]...)
	e.column++
	*i += w
}

// writeBreak is go-yaml's write_break: "\n" as a line break, any other
// break character copied as it is.
func (e *emitter) writeBreak(s string, i *int) {
	if s[*i] == '\n' {
		e.putBreak()
		*i++
		return
	}
	e.write(s, i)
	e.column = 0
}

// writeIndent is yaml_emitter_write_indent.
func (e *emitter) writeIndent() {
	indent := max(e.indent, 0)
	if !e.indention || e.column > indent || e.column == indent && !e.whitespace {
		e.putBreak()
	}
	for e.column < indent {
		e.put(' ')
	}
	e.whitespace, e.indention = true, true
}

// writeIndicator is yaml_emitter_write_indicator (indicators are ASCII).
func (e *emitter) writeIndicator(ind string, needWhitespace, isWhitespace, isIndention bool) {
	if needWhitespace && !e.whitespace {
		e.put(' ')
	}
	e.buf = append(e.buf, ind...)
	e.column += len(ind)
	e.whitespace = isWhitespace
	e.indention = e.indention && isIndention
}

// writePlain is yaml_emitter_write_plain_scalar.
func (e *emitter) writePlain(s string, allowBreaks bool) {
	if !e.whitespace {
		e.put(' ')
	}
	if !allowBreaks || e.column+len(s) <= yamlWidth || strings.IndexByte(s, ' ') < 0 {
		// Nothing to fold (no space, or none past the width: a
		// character is at least a byte); a plain scalar holds no line
		// break (analyzeScalar).
		e.buf = append(e.buf, s...)
		e.column += utf8.RuneCountInString(s)
	} else {
		spaces, breaks := false, false
		for i := 0; i < len(s); {
			switch {
			case s[i] == ' ':
				if allowBreaks && !spaces && e.column > yamlWidth && !isSpaceAt(s, i+1) {
					e.writeIndent()
					i++
				} else {
					e.write(s, &i)
				}
				spaces = true
			case isBreak(s, i):
				if !breaks && s[i] == '\n' {
					e.putBreak()
				}
				e.writeBreak(s, &i)
				e.indention = true
				breaks = true
			default:
				if breaks {
					e.writeIndent()
				}
				e.write(s, &i)
				e.indention = false
				spaces, breaks = false, false
			}
		}
	}
	e.whitespace, e.indention = false, false
}

// writeSingleQuoted is yaml_emitter_write_single_quoted_scalar.
func (e *emitter) writeSingleQuoted(s string, allowBreaks bool) {
	e.writeIndicator("'", true, false, false)
	spaces, breaks := false, false
	for i := 0; i < len(s); {
		switch {
		case s[i] == ' ':
			if allowBreaks && !spaces && e.column > yamlWidth && i > 0 && i < len(s)-1 && !isSpaceAt(s, i+1) {
				e.writeIndent()
				i++
			} else {
				e.write(s, &i)
			}
			spaces = true
		case isBreak(s, i):
			if !breaks && s[i] == '\n' {
				e.putBreak()
			}
			e.writeBreak(s, &i)
			e.indention = true
			breaks = true
		default:
			if breaks {
				e.writeIndent()
			}
			if s[i] == '\'' {
				e.put('\'')
			}
			e.write(s, &i)
			e.indention = false
			spaces, breaks = false, false
		}
	}
	e.writeIndicator("'", false, false, false)
	e.whitespace, e.indention = false, false
}

// writeDoubleQuoted is yaml_emitter_write_double_quoted_scalar.
func (e *emitter) writeDoubleQuoted(s string, allowBreaks bool) {
	spaces := false
	e.writeIndicator(`"`, true, false, false)
	bom := strings.HasPrefix(s, "\uFEFF") // go-yaml's is_bom looks at the start of the value, whatever the position
	for i := 0; i < len(s); {
		switch {
		case !isPrintable(s, i) || bom || isBreak(s, i) || s[i] == '"' || s[i] == '\\':
			r, w := utf8.DecodeRuneInString(s[i:])
			i += w
			e.put('\\')
			switch r {
			case 0x00:
				e.put('0')
			case 0x07:
				e.put('a')
			case 0x08:
				e.put('b')
			case 0x09:
				e.put('t')
			case 0x0A:
				e.put('n')
			case 0x0b:
				e.put('v')
			case 0x0c:
				e.put('f')
			case 0x0d:
				e.put('r')
			case 0x1b:
				e.put('e')
			case 0x22:
				e.put('"')
			case 0x5c:
				e.put('\\')
			case 0x85:
				e.put('N')
			case 0xA0:
				e.put('_')
			case 0x2028:
				e.put('L')
			case 0x2029:
				e.put('P')
			default:
				var digits int
				switch {
				case r <= 0xFF:
					e.put('x')
					digits = 2
				case r <= 0xFFFF:
					e.put('u')
					digits = 4
				default:
					e.put('U')
					digits = 8
				}
				for k := (digits - 1) * 4; k >= 0; k -= 4 {
					e.put("0123456789ABCDEF"[(r>>uint(k))&0x0F])
				}
			}
			spaces = false
		case s[i] == ' ':
			if allowBreaks && !spaces && e.column > yamlWidth && i > 0 && i < len(s)-1 {
				e.writeIndent()
				if isSpaceAt(s, i+1) {
					e.put('\\')
				}
				i++
			} else {
				e.write(s, &i)
			}
			spaces = true
		default:
			e.write(s, &i)
			spaces = false
		}
	}
	e.writeIndicator(`"`, false, false, false)
	e.whitespace, e.indention = false, false
}

// writeLiteral is yaml_emitter_write_literal_scalar with
// yaml_emitter_write_block_scalar_hints.
func (e *emitter) writeLiteral(s string) {
	e.writeIndicator("|", true, false, false)
	if s[0] == ' ' || isBreak(s, 0) {
		e.writeIndicator(string(rune('0'+yamlIndent)), false, false, false)
	}
	// The chomping indicator: "-" when the text does not end in a line
	// break, "+" when it ends in two (or is one), none for exactly one.
	var chomp string
	i := len(s) - 1
	for s[i]&0xC0 == 0x80 {
		i--
	}
	switch {
	case !isBreak(s, i):
		chomp = "-"
	case i == 0:
		chomp = "+"
	default:
		i--
		for s[i]&0xC0 == 0x80 {
			i--
		}
		if isBreak(s, i) {
			chomp = "+"
		}
	}
	if chomp != "" {
		e.writeIndicator(chomp, false, false, false)
	}
	e.putBreak()
	e.indention, e.whitespace = true, true
	if !hasOtherBreak(s) {
		// Line by line: the loop below, for "\n" as the only break.
		for line := range strings.SplitSeq(s, "\n") {
			if line != "" {
				e.writeIndent()
				e.buf = append(e.buf, line...)
				e.column += utf8.RuneCountInString(line)
				e.indention = false
			}
			e.putBreak()
			e.indention = true
		}
		// The text ends in a break or not: SplitSeq gave one line more
		// than there are breaks.
		e.buf = e.buf[:len(e.buf)-1]
		if s[len(s)-1] != '\n' {
			e.indention = false
			e.column = lastColumn(e.buf)
		} else {
			e.column = 0
		}
		return
	}
	breaks := true
	for i := 0; i < len(s); {
		if isBreak(s, i) {
			e.writeBreak(s, &i)
			e.indention = true
			breaks = true
			continue
		}
		if breaks {
			e.writeIndent()
		}
		e.write(s, &i)
		e.indention = false
		breaks = false
	}
}

// scalarAnalysis is what yaml_emitter_analyze_scalar finds out about a
// scalar: which styles can write it.
type scalarAnalysis struct {
	multiline           bool
	blockPlainAllowed   bool
	singleQuotedAllowed bool
	blockAllowed        bool
}

// analyzeScalar is yaml_emitter_analyze_scalar, for the block context
// (flow_plain_allowed, which only matters inside flow collections, is
// left out).
func analyzeScalar(s string) scalarAnalysis {
	if len(s) == 0 {
		return scalarAnalysis{blockPlainAllowed: true, singleQuotedAllowed: true}
	}
	if isPlainWord(s) {
		return scalarAnalysis{blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: true}
	}
	var (
		blockIndicators, lineBreaks, special       bool
		leadingSpace, leadingBreak                 bool
		trailingSpace, trailingBreak               bool
		breakSpace, spaceBreak                     bool
		precededByWhitespace, followedByWhitespace bool
		previousSpace, previousBreak               bool
	)
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		blockIndicators = true
	}
	precededByWhitespace = true
	for i, w := 0, 0; i < len(s); i += w {
		w = charWidth(s[i])
		followedByWhitespace = i+w >= len(s) || s[i+w] == ' ' || s[i+w] == '\t'
		if i == 0 {
			switch s[i] {
			case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
				blockIndicators = true
			case '?', ':':
				if followedByWhitespace {
					blockIndicators = true
				}
			case '-':
				if followedByWhitespace {
					blockIndicators = true
				}
			}
		} else {
			switch s[i] {
			case ':':
				if followedByWhitespace {
					blockIndicators = true
				}
			case '#':
				if precededByWhitespace {
					blockIndicators = true
				}
			}
		}
		if !isPrintable(s, i) {
			special = true
		}
		switch {
		case s[i] == ' ':
			if i == 0 {
				leadingSpace = true
			}
			if i+w == len(s) {
				trailingSpace = true
			}
			if previousBreak {
				breakSpace = true
			}
			previousSpace, previousBreak = true, false
		case isBreak(s, i):
			lineBreaks = true
			if i == 0 {
				leadingBreak = true
			}
			if i+w == len(s) {
				trailingBreak = true
			}
			if previousSpace {
				spaceBreak = true
			}
			previousSpace, previousBreak = false, true
		default:
			previousSpace, previousBreak = false, false
		}
		precededByWhitespace = isBlankZ(s, i)
	}
	a := scalarAnalysis{
		multiline:           lineBreaks,
		blockPlainAllowed:   true,
		singleQuotedAllowed: true,
		blockAllowed:        true,
	}
	if leadingSpace || leadingBreak || trailingSpace || trailingBreak {
		a.blockPlainAllowed = false
	}
	if trailingSpace {
		a.blockAllowed = false
	}
	if breakSpace {
		a.blockPlainAllowed = false
		a.singleQuotedAllowed = false
	}
	if spaceBreak || special {
		a.blockPlainAllowed = false
		a.singleQuotedAllowed = false
		a.blockAllowed = false
	}
	if lineBreaks || blockIndicators {
		a.blockPlainAllowed = false
	}
	return a
}

// isPlainWord is a shortcut through analyzeScalar for the commonest
// scalars (names, paths, images): printable ASCII with no space, whose
// first character is no indicator and whose last is not ":". In such a
// word no character is special, a break, blank, or an indicator where it
// stands (":" is one only before a blank or at the end, "#" only after a
// blank, "-", "?" and ":" are left to the full analysis at the start, and
// so are "---" and "...").
func isPlainWord(s string) bool {
	if wordStart[s[0]] || s[len(s)-1] == ':' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7F {
			return false
		}
	}
	return true
}

// wordStart marks the characters isPlainWord leaves to the full analysis
// when a scalar starts with them.
var wordStart = func() (t [256]bool) {
	for _, c := range "#,[]{}&*!|>'\"%@`?:-." {
		t[c] = true
	}
	return t
}()

// charWidth is go-yaml's width: the length of the UTF-8 sequence s[i]
// starts (the strings here are valid UTF-8).
func charWidth(b byte) int {
	switch {
	case b&0x80 == 0x00:
		return 1
	case b&0xE0 == 0xC0:
		return 2
	case b&0xF0 == 0xE0:
		return 3
	case b&0xF8 == 0xF0:
		return 4
	}
	return 1
}

func isSpaceAt(s string, i int) bool { return i < len(s) && s[i] == ' ' }

// isPrintable is go-yaml's is_printable (for valid UTF-8): it counts
// characters beyond U+FFFF, emoji among them, as not printable.
func isPrintable(s string, i int) bool {
	b := s[i]
	switch {
	case b == 0x0A, b >= 0x20 && b <= 0x7E:
		return true
	case b == 0xC2:
		return s[i+1] >= 0xA0
	case b > 0xC2 && b < 0xED:
		return true
	case b == 0xED:
		return s[i+1] < 0xA0
	case b == 0xEE:
		return true
	case b == 0xEF:
		return !(s[i+1] == 0xBB && s[i+2] == 0xBF) && !(s[i+1] == 0xBF && (s[i+2] == 0xBE || s[i+2] == 0xBF))
	}
	return false
}

// isBreak is go-yaml's is_break: CR, LF, NEL, LS, PS.
func isBreak(s string, i int) bool {
	switch s[i] {
	case '\r', '\n':
		return true
	case 0xC2:
		return s[i+1] == 0x85
	case 0xE2:
		return s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9)
	}
	return false
}

// isBlankZ is go-yaml's is_blankz: blank, break or NUL.
func isBlankZ(s string, i int) bool {
	return s[i] == ' ' || s[i] == '\t' || s[i] == 0 || isBreak(s, i)
}

// hasBreak says whether s holds a character go-yaml counts as a line
// break.
func hasBreak(s string) bool {
	for i := 0; i < len(s); i++ {
		if isBreak(s, i) {
			return true
		}
	}
	return false
}

// hasOtherBreak says whether s holds a line break other than "\n".
func hasOtherBreak(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == 0xC2 || c == 0xE2 {
			if isBreak(s, i) {
				return true
			}
		}
	}
	return false
}

// lastColumn is the column after the last line of buf, in characters.
func lastColumn(buf []byte) int {
	i := bytes.LastIndexByte(buf, '\n')
	return utf8.RuneCount(buf[i+1:])
}

// resolvesToString says whether go-yaml reads s, written plain, back as a
// string: its resolve("", s) returning !!str. Otherwise it would read a
// boolean, null, a number or a timestamp, and the encoder quotes s.
func resolvesToString(s string) bool {
	if s == "" {
		return false // null
	}
	switch c := s[0]; {
	case c == '+' || c == '-' || c >= '0' && c <= '9':
		// Int, float or timestamp (below).
	case c == '.':
		if _, ok := yamlSpecial[s]; ok {
			return false
		}
		_, err := strconv.ParseFloat(s, 64)
		return err != nil
	case strings.IndexByte("yYnNtTfFoO~", c) >= 0:
		_, ok := yamlSpecial[s]
		return !ok
	default:
		return true
	}
	if _, ok := yamlSpecial[s]; ok {
		return false
	}
	if isTimestamp(s) {
		return false
	}
	plain := strings.ReplaceAll(s, "_", "")
	if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return false
	}
	if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return false
	}
	if yamlStyleFloat.MatchString(plain) {
		if _, err := strconv.ParseFloat(plain, 64); err == nil {
			return false
		}
	}
	if rest, ok := strings.CutPrefix(plain, "0b"); ok {
		if _, err := strconv.ParseInt(rest, 2, 64); err == nil {
			return false
		}
		if _, err := strconv.ParseUint(rest, 2, 64); err == nil {
			return false
		}
	} else if rest, ok := strings.CutPrefix(plain, "-0b"); ok {
		if _, err := strconv.ParseInt("-"+rest, 2, 64); err == nil {
			return false
		}
	}
	return true
}

// yamlSpecial holds the plain scalars go-yaml resolves by name (its
// resolveMap): booleans, null, infinities and NaN. ("<<", the merge key,
// is in it too, but go-yaml never looks it up: "<" is not a hint.)
var yamlSpecial = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, s := range []string{
		"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
		"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
		"", "~", "null", "Null", "NULL",
		".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
	} {
		m[s] = struct{}{}
	}
	return m
}()

// yamlStyleFloat is go-yaml's pattern for floats.
var yamlStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// isBase60Float is go-yaml's: YAML 1.1's sexagesimal numbers ("1:20"),
// which go-yaml quotes for other parsers' sake.
func isBase60Float(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	if !(c == '+' || c == '-' || c >= '0' && c <= '9') || strings.IndexByte(s, ':') < 0 {
		return false
	}
	return base60Float.MatchString(s)
}

var base60Float = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`)

// yamlTimestampFormats are the layouts go-yaml reads timestamps in.
var yamlTimestampFormats = []string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

// isTimestamp is go-yaml's parseTimestamp, yes or no.
func isTimestamp(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			break
		}
	}
	if i != 4 || i == len(s) || s[i] != '-' {
		return false
	}
	for _, format := range yamlTimestampFormats {
		if _, err := time.Parse(format, s); err == nil {
			return true
		}
	}
	return false
}
