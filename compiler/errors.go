package compiler

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
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
		d.Msg = fmt.Sprintf(format, args...)
		var user, related []diag.Pos
		for _, tp := range positions(e) {
			dp := p.pos(tp)
			if !dp.IsValid() {
				continue
			}
			if isSchemaFile(tp.Filename()) {
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
		out = append(out, d)
	}
	return out
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

func dedupe(ps []diag.Pos, primary diag.Pos) []diag.Pos {
	var out []diag.Pos
	seen := map[diag.Pos]bool{primary: true}
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
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
