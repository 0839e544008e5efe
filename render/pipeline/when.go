package pipeline

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// compRE is one comparison of a condition.
var compRE = regexp.MustCompile(`^\s*('[^']*'|[^\s=!<>']+)\s*(==|!=|<=|>=|<|>)\s*('[^']*'|[^\s=!<>']+)\s*$`)

// translateWhen turns a step's condition into Argo's `when`: each
// step.output becomes the task's output parameter, parameters.name the
// workflow parameter. Ordering comparisons and comparisons with a number
// or boolean are numeric (unquoted); others compare strings, quoted, as
// Argo's expression language needs.
func (g *graph) translateWhen(user, when string) (string, error) {
	out, _, err := g.comparisons(user, when)
	return out, err
}

// numericRefs lists the references (step.output, parameters.name) that
// the condition compares as numbers, in the order they appear.
func (g *graph) numericRefs(user, when string) []string {
	_, refs, _ := g.comparisons(user, when)
	return refs
}

// comparisons translates a condition and lists the references it
// compares numerically.
func (g *graph) comparisons(user, when string) (string, []string, error) {
	var out, numRefs []string
	for i, tok := range splitLogical(when) {
		if i%2 == 1 {
			out = append(out, tok)
			continue
		}
		m := compRE.FindStringSubmatch(tok)
		if m == nil {
			return "", nil, fmt.Errorf("cannot read %q: want comparisons such as \"evaluate.accuracy > 0.9\" (operands: step.output, parameters.name, a number, true, false or a 'quoted' string; operators == != < <= > >=), joined by && or ||", strings.TrimSpace(tok))
		}
		lhs, op, rhs := m[1], m[2], m[3]
		l, err := g.operand(user, lhs)
		if err != nil {
			return "", nil, err
		}
		r, err := g.operand(user, rhs)
		if err != nil {
			return "", nil, err
		}
		if !l.ref && !r.ref {
			return "", nil, fmt.Errorf("%q compares two constants; refer to a step output (step.output) or a parameter (parameters.name)", strings.TrimSpace(tok))
		}
		numeric := op != "==" && op != "!=" || isNumberOrBool(lhs) || isNumberOrBool(rhs)
		if numeric {
			out = append(out, l.expr+" "+op+" "+r.expr)
			for _, o := range []struct {
				s string
				v value
			}{{lhs, l}, {rhs, r}} {
				if o.v.ref {
					numRefs = append(numRefs, o.s)
				}
			}
		} else {
			out = append(out, "'"+l.expr+"' "+op+" '"+r.expr+"'")
		}
	}
	return strings.Join(out, " "), numRefs, nil
}

func (g *graph) operand(user, s string) (value, error) {
	if s == "true" || s == "false" {
		return value{expr: s}, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return value{}, fmt.Errorf("operand %q is not a finite number", s)
		}
		// Argo's evaluator reads plain decimals only: 1e-3 becomes 0.001.
		return value{expr: strconv.FormatFloat(f, 'f', -1, 64)}, nil
	}
	if strings.HasPrefix(s, "'") {
		lit := strings.Trim(s, "'")
		// Argo substitutes {{…}} before evaluating, and its evaluator
		// has no escapes: these would change or break the condition.
		if strings.ContainsAny(lit, `"\`) || strings.Contains(lit, "{{") || strings.Contains(lit, "}}") {
			return value{}, fmt.Errorf("the string %s may not contain \", \\, {{ or }}", s)
		}
		return value{expr: lit}, nil
	}
	if !refRE.MatchString(s) {
		return value{}, fmt.Errorf("operand %q is neither step.output, parameters.name, a number, true/false nor a 'quoted' string", s)
	}
	v, problem := g.resolve(user, s)
	if problem != "" {
		return value{}, fmt.Errorf("%s", problem)
	}
	return v, nil
}

func isNumberOrBool(s string) bool {
	if s == "true" || s == "false" {
		return true
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// splitLogical splits at && and ||, keeping the operators at odd indices.
func splitLogical(s string) []string {
	var out []string
	start := 0
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\'':
			inQuote = !inQuote
		case !inQuote && i+1 < len(s) && (s[i:i+2] == "&&" || s[i:i+2] == "||"):
			out = append(out, s[start:i], s[i:i+2])
			start = i + 2
			i++
		}
	}
	return append(out, s[start:])
}
