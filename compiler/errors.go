package compiler

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/schema"
)

// positioner turns CUE positions into diagnostic positions relative to the
// working directory, slash-separated, so output is the same on every machine.
type positioner struct {
	cwd string
}

func (p positioner) pos(tp token.Pos) diag.Pos {
	if !tp.IsValid() || tp.Filename() == "" {
		return diag.Pos{}
	}
	return diag.Pos{File: p.rel(tp.Filename()), Line: tp.Line(), Col: tp.Column()}
}

func (p positioner) rel(name string) string {
	if filepath.IsAbs(name) && p.cwd != "" {
		if r, err := filepath.Rel(p.cwd, name); err == nil {
			name = r
		}
	}
	return filepath.ToSlash(name)
}

// convertErrors turns a CUE error (list) into diagnostics. The primary
// position is the first one in a user file, because users fix their spec,
// not the schema; schema positions become related positions. When CUE gives
// no user position (a required field that is missing, say), the position of
// the nearest enclosing value the user wrote is used, from src.
func (p positioner) convertErrors(err error, src ir.Sources, pathPrefix string) diag.List {
	var out diag.List
	for _, e := range cueerrors.Errors(err) {
		d := diag.Diagnostic{Severity: diag.Error}
		d.Path = cuePath(e.Path())
		if pathPrefix != "" && strings.HasPrefix(d.Path, pathPrefix) {
			d.Path = strings.TrimPrefix(strings.TrimPrefix(d.Path, pathPrefix), ".")
		}
		format, args := e.Msg()
		d.Msg = describeSchemaBound(specLabels(e.Path()), describePattern(fmt.Sprintf(format, args...)))
		if format == "import failed" {
			// The error's path is the importing package's module path
			// (kiln's own for a spec outside any module), not a CUE
			// path; what failed is in the wrapped error.
			d.Path = ""
			d.Msg = importFailure(e.Error())
		}
		var user, related []diag.Pos
		for _, tp := range positions(e) {
			dp := p.pos(tp)
			if !dp.IsValid() {
				continue
			}
			if isSchemaFile(tp.Filename()) {
				// The schema is embedded; name it the way `kiln schema`
				// and the vendored copy do, not by an overlay path that
				// does not exist on disk.
				dp.File = "schema/" + filepath.Base(tp.Filename())
				related = append(related, dp)
			} else {
				user = append(user, dp)
			}
		}
		switch {
		case len(user) > 0:
			d.Pos = user[0]
			related = append(user[1:], related...)
		case src != nil:
			d.Pos = src.Pos(d.Path)
		}
		d.Related = dedupe(related, d.Pos)
		longFormImage(&d, src)
		out = append(out, d)
	}
	return simplifyDisjunctions(out)
}

// longFormImageRE matches CUE's report of an image field that refers to
// an images entry in the long form ({ref: …, build: …}) as a whole.
var longFormImageRE = regexp.MustCompile(`^conflicting values (string and \{ref:.*|\{ref:.* and string) \(mismatched types (string and struct|struct and string)\)$`)

// longFormImage says what to write instead of image: images.X when X is
// in the long form, at the image field rather than at the entry.
func longFormImage(d *diag.Diagnostic, src ir.Sources) {
	if !strings.HasSuffix(d.Path, ".image") || !longFormImageRE.MatchString(d.Msg) {
		return
	}
	d.Msg = "refers to an images entry of the long form {ref: …, build: …}: an image field takes its reference, image: images.<name>.ref"
	if pos := src.Pos(d.Path); pos.IsValid() && pos != d.Pos {
		d.Related = dedupe(append([]diag.Pos{d.Pos}, d.Related...), pos)
		d.Pos = pos
	}
}

var (
	disjunctionSummaryRE = regexp.MustCompile(`^\d+ errors in empty disjunction:?$`)
	conflictRE           = regexp.MustCompile(`^conflicting values (.+?) and (.+?)(?: \(mismatched types (\S+) and (\S+)\))?$`)
)

// simplifyDisjunctions turns CUE's one-error-per-alternative reports of a
// failed disjunction into one diagnostic per value. A value that matches
// none of an enum's strings reads `"jax" is not one of "mpi", "pytorch"`;
// a value that fails a defaulted constraint (*1 | int & >=1) keeps only the
// constraint's message, not the default's.
func simplifyDisjunctions(in diag.List) diag.List {
	type group struct {
		first int
		items []diag.Diagnostic
	}
	groups := map[string]*group{}
	var order []string
	for i, d := range in {
		if disjunctionSummaryRE.MatchString(d.Msg) {
			continue
		}
		key := d.Path + "\x00" + d.Pos.String()
		g, ok := groups[key]
		if !ok {
			g = &group{first: i}
			groups[key] = g
			order = append(order, key)
		}
		g.items = append(g.items, d)
	}
	var out diag.List
	for _, key := range order {
		items := groups[key].items
		if len(items) == 1 {
			out = append(out, items[0])
			continue
		}
		out = append(out, mergeAlternatives(items))
	}
	return out
}

func mergeAlternatives(items []diag.Diagnostic) diag.Diagnostic {
	merged := items[0]
	merged.Related = nil
	for _, d := range items {
		merged.Related = append(merged.Related, d.Related...)
	}
	merged.Related = dedupe(merged.Related, merged.Pos)
	// The user's value is the one every "conflicting values" message shares.
	counts := map[string]int{}
	var alts [][2]string
	allConflicts := true
	for _, d := range items {
		m := conflictRE.FindStringSubmatch(d.Msg)
		if m == nil {
			allConflicts = false
			continue
		}
		alts = append(alts, [2]string{m[1], m[2]})
		counts[m[1]]++
		if m[2] != m[1] {
			counts[m[2]]++
		}
	}
	if allConflicts && len(alts) == len(items) {
		for v, n := range counts {
			if n != len(alts) {
				continue
			}
			var others []string
			literal := true
			for _, a := range alts {
				o := a[0]
				if o == v {
					o = a[1]
				}
				if !isLiteral(o) {
					literal = false
				}
				others = append(others, o)
			}
			slices.Sort(others)
			others = slices.Compact(others)
			if literal {
				merged.Msg = fmt.Sprintf("%s is not one of %s", v, strings.Join(others, ", "))
				return merged
			}
		}
	}
	// Otherwise the most specific message: a bound or type mismatch
	// against a constraint rather than a clash with a default value.
	best := items[0].Msg
	score := -1
	for _, d := range items {
		sc := 0
		switch m := conflictRE.FindStringSubmatch(d.Msg); {
		case strings.Contains(d.Msg, "out of bound"), strings.Contains(d.Msg, "does not match"), strings.Contains(d.Msg, "invalid value"):
			sc = 3
		case m != nil && (!isLiteral(m[1]) || !isLiteral(m[2])):
			sc = 2
		case m == nil:
			sc = 1
		}
		if sc > score {
			best, score = d.Msg, sc
		}
	}
	merged.Msg = best
	return merged
}

// isLiteral reports whether a value printed by CUE is a concrete scalar
// (a string, number, bool or null) rather than a type or constraint.
func isLiteral(s string) bool {
	if s == "true" || s == "false" || s == "null" || strings.HasPrefix(s, `"`) {
		return true
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// positions lists an error's input positions (the user's values) before its
// reported position (often the schema constraint).
func positions(e cueerrors.Error) []token.Pos {
	var ps []token.Pos
	ps = append(ps, e.InputPositions()...)
	ps = append(ps, e.Position())
	var we cueerrors.Error
	if errors.As(cueerrors.Unwrap(e), &we) && we != nil {
		ps = append(ps, we.Position())
	}
	return ps
}

// maxRelated caps the schema positions shown with a diagnostic: the first
// few say where the rule is; a dozen alternatives of one enum do not help.
const maxRelated = 3

// dedupe drops the primary position and repeats from ps, one position per
// line being enough, and keeps at most maxRelated, sorted.
func dedupe(ps []diag.Pos, primary diag.Pos) []diag.Pos {
	var out []diag.Pos
	type line struct {
		file string
		n    int
	}
	seen := map[line]bool{{primary.File, primary.Line}: true}
	for _, p := range ps {
		if l := (line{p.File, p.Line}); !seen[l] {
			seen[l] = true
			out = append(out, p)
		}
	}
	slices.SortFunc(out, diag.Pos.Compare)
	if len(out) > maxRelated {
		out = out[:maxRelated]
	}
	return out
}

// cuePath joins CUE error path elements the way ir.Path spells paths.
func cuePath(labels []string) string {
	clean := make([]string, 0, len(labels))
	for _, l := range labels {
		// CUE quotes labels that are not identifiers; ir.Path quotes again.
		if len(l) >= 2 && l[0] == '"' {
			if s, err := strconv.Unquote(l); err == nil {
				l = s
			}
		}
		clean = append(clean, l)
	}
	return ir.Path(clean...)
}

// importPosRE matches the position the loader puts before its message.
var importPosRE = regexp.MustCompile(`^.*?\.cue:\d+:\d+: `)

// importFailure rewrites the loader's "import failed: <file>:<l>:<c>:
// cannot find package …" as what the user can act on.
func importFailure(msg string) string {
	msg = strings.TrimPrefix(msg, "import failed: ")
	msg = importPosRE.ReplaceAllString(msg, "")
	return msg + "; a spec can import kiln's schema (" + schema.ImportPath + "), CUE's standard library and packages of its own CUE module, and kiln fetches no modules"
}
