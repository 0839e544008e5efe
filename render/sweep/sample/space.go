package sample

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/kiln-ml/kiln/ir"
)

// Parameter types.
const (
	Int         = "int"
	Double      = "double"
	Categorical = "categorical"
	Discrete    = "discrete"
)

// Param is one dimension of a search space.
type Param struct {
	Name string
	// Type is Int, Double, Categorical or Discrete.
	Type string
	// Min and Max bound a numeric range, inclusive.
	Min, Max float64
	// Log samples the range evenly in orders of magnitude.
	Log bool
	// Step spaces grid points (and snaps random draws): the distance
	// between points on a linear scale, the factor between points on a
	// log scale. Zero means none.
	Step float64
	// Values are the choices of a categorical or discrete parameter, as
	// they are passed to the trial.
	Values []string
}

// Numeric reports whether p is a range rather than a list of values.
func (p Param) Numeric() bool { return p.Type == Int || p.Type == Double }

// Space is a search space: its parameters in name order.
type Space []Param

// FromIR builds the space of a sweep's parameters, inferring types the
// schema leaves out: a list of values is discrete when every value is a
// number and categorical otherwise; a range is int when min, max (and
// step) are whole numbers and double otherwise.
func FromIR(params map[string]*ir.SweepParameter) Space {
	var s Space
	for _, name := range slices.Sorted(maps.Keys(params)) {
		s = append(s, ParamFromIR(name, params[name]))
	}
	return s
}

// ParamFromIR converts one parameter; see FromIR.
func ParamFromIR(name string, p *ir.SweepParameter) Param {
	out := Param{Name: name, Type: p.Type, Log: p.Scale == "log"}
	if p.Min != nil {
		out.Min = *p.Min
	}
	if p.Max != nil {
		out.Max = *p.Max
	}
	if p.Step != nil {
		out.Step = *p.Step
	}
	numbers := true
	for _, v := range p.Values {
		out.Values = append(out.Values, v.String())
		if _, ok := v.Float(); !ok {
			numbers = false
		}
	}
	if out.Type == "" {
		switch {
		case len(p.Values) > 0 && numbers:
			out.Type = Discrete
		case len(p.Values) > 0:
			out.Type = Categorical
		case whole(out.Min) && whole(out.Max) && (out.Step == 0 || whole(out.Step)):
			out.Type = Int
		default:
			out.Type = Double
		}
	}
	return out
}

func whole(f float64) bool { return f == math.Trunc(f) && !math.IsInf(f, 0) }

// Assignment is the value one trial gives one parameter.
type Assignment struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Trial is one point of the search space.
type Trial struct {
	// Name is a hash of the assignment: stable while the assignment is.
	Name string `json:"name"`
	// Params are in the space's (name) order.
	Params []Assignment `json:"parameters"`
}

// Value returns the value of the named parameter.
func (t Trial) Value(name string) (string, bool) {
	for _, a := range t.Params {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// NameLength is the length of a trial name.
const NameLength = 10

// Named names an assignment (in name order) the way every trial is
// named; the Argo backend's selection script names the trials of later
// Hyperband rungs and of suggestions the same way.
func Named(params []Assignment) Trial { return newTrial(params) }

// newTrial names an assignment by the first hex digits of the SHA-256 of
// its name=value lines.
func newTrial(params []Assignment) Trial {
	var b strings.Builder
	for _, a := range params {
		fmt.Fprintf(&b, "%s=%s\n", a.Name, a.Value)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return Trial{Name: hex.EncodeToString(sum[:])[:NameLength], Params: params}
}

// Format renders a value of p as it is passed to a trial: ints in
// decimal, doubles with 6 significant digits (enough to tell trials apart
// and short enough to read in a summary).
func (p Param) Format(v float64) string {
	if p.Type == Int {
		return strconv.FormatInt(int64(math.Round(v)), 10)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// At maps u in [0, 1) to a value of p: evenly over the range (in
// orders of magnitude for a log scale), snapped to the step if there is
// one; evenly over the values of a list.
func (p Param) At(u float64) string {
	u = min(max(u, 0), math.Nextafter(1, 0))
	if !p.Numeric() {
		return p.Values[int(u*float64(len(p.Values)))]
	}
	if pts := p.stepPoints(); pts != nil {
		return p.Format(pts[int(u*float64(len(pts)))])
	}
	lo, hi := p.Min, p.Max
	if p.Type == Int {
		// Every integer gets an equal share of [0, 1): widen the range
		// by one and floor.
		hi++
	}
	var v float64
	if p.Log {
		v = math.Exp(math.Log(lo) + u*(math.Log(hi)-math.Log(lo)))
	} else {
		v = lo + u*(hi-lo)
	}
	if p.Type == Int {
		v = math.Floor(v)
	}
	return p.Format(min(max(v, p.Min), p.Max))
}

// stepPoints lists the points of a stepped range, nil without a step.
func (p Param) stepPoints() []float64 {
	if p.Step == 0 {
		return nil
	}
	return p.points(math.MaxInt)
}

// points lists a range's grid points, stopping after limit+1 so a huge
// range is not materialised just to be reported.
func (p Param) points(limit int) []float64 {
	var pts []float64
	// A relative tolerance keeps max on the grid despite rounding
	// (0.1 + 0.1 + 0.1 > 0.3).
	eps := 1e-9 * math.Max(math.Abs(p.Max), math.Abs(p.Min))
	for k := 0; len(pts) <= limit; k++ {
		var v float64
		if p.Log {
			v = p.Min * math.Pow(p.Step, float64(k))
		} else {
			v = p.Min + float64(k)*p.Step
		}
		if v > p.Max+eps {
			break
		}
		pts = append(pts, min(v, p.Max))
	}
	return pts
}

// Count is the number of grid points of p, or limit+1 if that is more.
// A double range without a step has no grid: Count returns 0.
func (p Param) Count(limit int) int {
	switch {
	case !p.Numeric():
		return len(p.Values)
	case p.Step > 0:
		return len(p.points(limit))
	case p.Type == Int:
		return int(math.Min(p.Max-p.Min+1, float64(limit+1)))
	}
	return 0
}

// GridValues lists the grid points of p as they are passed to a trial.
func (p Param) GridValues() []string {
	if !p.Numeric() {
		return p.Values
	}
	var pts []float64
	if p.Step > 0 {
		pts = p.stepPoints()
	} else {
		for v := p.Min; v <= p.Max; v++ {
			pts = append(pts, v)
		}
	}
	out := make([]string, len(pts))
	for i, v := range pts {
		out[i] = p.Format(v)
	}
	return out
}
