package diag

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity says whether a diagnostic stops compilation.
type Severity int

const (
	// Error diagnostics make kiln exit 1 and write nothing.
	Error Severity = iota
	// Warning diagnostics are printed but do not fail the run.
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// MarshalText makes severities read as words in JSON output.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Pos is a position in a source file. File is relative to the directory the
// user named (or the working directory) and always slash-separated, so output
// is the same on every machine. Line and Col start at 1; zero means unknown.
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// IsValid reports whether the position names a file.
func (p Pos) IsValid() bool { return p.File != "" }

func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Compare orders positions by file, line and column.
func (p Pos) Compare(q Pos) int {
	return cmp.Or(strings.Compare(p.File, q.File), cmp.Compare(p.Line, q.Line), cmp.Compare(p.Col, q.Col))
}

// Diagnostic is one problem found in a spec or in its output.
type Diagnostic struct {
	Severity Severity `json:"severity"`
	// Path is the CUE path of the value at fault, such as
	// training.resnet.workers. It is printed even when Pos is known, because
	// positions can be missing or point into the schema.
	Path string `json:"path,omitempty"`
	// Envs are the environments the problem occurs in, sorted; empty when
	// it occurs in all of them (or the spec has one). Text output appends
	// them to the message; JSON keeps them apart, so a program need not
	// parse them out of the message.
	Envs []string `json:"envs,omitempty"`
	Pos  Pos      `json:"pos"`
	// Related holds secondary positions, such as the schema constraint that
	// a value violates.
	Related []Pos  `json:"related,omitempty"`
	Msg     string `json:"msg"`
}

// Errorf returns an error diagnostic.
func Errorf(pos Pos, path, format string, args ...any) Diagnostic {
	return Diagnostic{Severity: Error, Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Warnf returns a warning diagnostic.
func Warnf(pos Pos, path, format string, args ...any) Diagnostic {
	return Diagnostic{Severity: Warning, Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// String formats d like go vet: `file:line:col: path: message`.
func (d Diagnostic) String() string {
	var b strings.Builder
	if s := d.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if d.Severity == Warning {
		b.WriteString("warning: ")
	}
	if d.Path != "" {
		b.WriteString(d.Path)
		b.WriteString(": ")
	}
	b.WriteString(d.Message())
	return b.String()
}

// Message is Msg followed by the environments the problem occurs in, as
// text output shows it: "… (in environment prod)". A message that already
// names its environments (a kustomize patch that "matches no object in
// environment dev") gets no suffix.
func (d Diagnostic) Message() string {
	if len(d.Envs) == 0 || namesAll(d.Msg, d.Envs) {
		return d.Msg
	}
	s := "environment"
	if len(d.Envs) > 1 {
		s += "s"
	}
	return fmt.Sprintf("%s (in %s %s)", d.Msg, s, strings.Join(d.Envs, ", "))
}

// Compare orders diagnostics by position, then path, then message, so the
// same spec always prints the same list. Diagnostics without a file sort last.
func (d Diagnostic) Compare(e Diagnostic) int {
	if d.Pos.IsValid() != e.Pos.IsValid() {
		if d.Pos.IsValid() {
			return -1
		}
		return 1
	}
	return cmp.Or(d.Pos.Compare(e.Pos), strings.Compare(d.Path, e.Path), strings.Compare(d.Msg, e.Msg), cmp.Compare(d.Severity, e.Severity), slices.Compare(d.Envs, e.Envs))
}

// namesAll reports whether msg has every one of names as a word.
func namesAll(msg string, names []string) bool {
	return covers(strings.FieldsFunc(msg, func(r rune) bool {
		return r == ' ' || r == ';' || r == ',' || r == '(' || r == ')' || r == ':'
	}), names)
}

// List is a set of diagnostics. A List holding at least one error is an
// error value; use [List.Err] to turn a List into an error only when it has
// errors.
type List []Diagnostic

// Add appends diagnostics.
func (l *List) Add(ds ...Diagnostic) { *l = append(*l, ds...) }

// Errorf appends an error diagnostic.
func (l *List) Errorf(pos Pos, path, format string, args ...any) {
	l.Add(Errorf(pos, path, format, args...))
}

// HasErrors reports whether l holds a diagnostic of severity Error.
func (l List) HasErrors() bool {
	return slices.ContainsFunc(l, func(d Diagnostic) bool { return d.Severity == Error })
}

// Sort orders l and drops exact duplicates (CUE reports some conflicts once
// per side of a unification).
func (l List) Sort() List {
	s := slices.Clone(l)
	slices.SortFunc(s, Diagnostic.Compare)
	return slices.CompactFunc(s, func(a, b Diagnostic) bool {
		return a.Compare(b) == 0 && slices.Equal(a.Related, b.Related)
	})
}

// Err returns l as an error when it holds errors, and nil otherwise.
func (l List) Err() error {
	if !l.HasErrors() {
		return nil
	}
	return l
}

// Error joins the diagnostics, one per line.
func (l List) Error() string {
	lines := make([]string, len(l))
	for i, d := range l {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// MergeEnvs merges diagnostics that differ only in their environments
// into one that lists them all, and drops the list from one that occurs
// in every environment of all: a problem in the base spec is reported
// once, not once per environment. The result is sorted.
func (l List) MergeEnvs(all []string) List {
	type key struct {
		sev            Severity
		pos            Pos
		path, msg, rel string
	}
	var out List
	at := map[key]int{}
	for _, d := range l {
		k := key{d.Severity, d.Pos, d.Path, d.Msg, fmt.Sprint(d.Related)}
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			d.Envs = slices.Clone(d.Envs)
			out = append(out, d)
			continue
		}
		prev := &out[i]
		if len(prev.Envs) == 0 || len(d.Envs) == 0 {
			prev.Envs = nil // one of them occurs everywhere
			continue
		}
		prev.Envs = append(prev.Envs, d.Envs...)
		slices.Sort(prev.Envs)
		prev.Envs = slices.Compact(prev.Envs)
	}
	for i := range out {
		if len(out[i].Envs) > 0 && covers(out[i].Envs, all) {
			out[i].Envs = nil
		}
	}
	return out.Sort()
}

// covers reports whether envs holds every one of all.
func covers(envs, all []string) bool {
	for _, e := range all {
		if !slices.Contains(envs, e) {
			return false
		}
	}
	return true
}
