package sample

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/ir"
)

func fp(f float64) *float64 { return &f }

func val(js string) ir.Value { return ir.Value{RawMessage: []byte(js)} }

// space is the skin-lesion sweep's space plus one of each other kind.
func space() Space {
	return FromIR(map[string]*ir.SweepParameter{
		"lr":        {Min: fp(1e-4), Max: fp(1e-1), Scale: "log"},
		"batch":     {Values: []ir.Value{val(`32`), val(`64`), val(`128`)}},
		"layers":    {Min: fp(2), Max: fp(8), Scale: "linear"},
		"optimizer": {Values: []ir.Value{val(`"adam"`), val(`"sgd"`)}},
		"dropout":   {Min: fp(0), Max: fp(0.5), Scale: "linear"},
		"width":     {Min: fp(16), Max: fp(512), Scale: "log"},
	})
}

func TestTypeInference(t *testing.T) {
	got := map[string]string{}
	for _, p := range space() {
		got[p.Name] = p.Type
	}
	assert.Equal(t, map[string]string{
		"batch": Discrete, "dropout": Double, "layers": Int, "lr": Double, "optimizer": Categorical, "width": Int,
	}, got)
	assert.Equal(t, Double, ParamFromIR("x", &ir.SweepParameter{Type: "double", Min: fp(1), Max: fp(4)}).Type, "an explicit type wins")
}

// inBounds checks a trial against the space: ranges respected, ints whole,
// values from the list.
func inBounds(t *testing.T, s Space, tr Trial) {
	t.Helper()
	require.Len(t, tr.Params, len(s))
	for i, p := range s {
		a := tr.Params[i]
		require.Equal(t, p.Name, a.Name)
		if !p.Numeric() {
			assert.Contains(t, p.Values, a.Value, "%s", p.Name)
			continue
		}
		v, err := strconv.ParseFloat(a.Value, 64)
		require.NoError(t, err, "%s=%s", p.Name, a.Value)
		assert.GreaterOrEqual(t, v, p.Min, "%s", p.Name)
		assert.LessOrEqual(t, v, p.Max, "%s", p.Name)
		if p.Type == Int {
			assert.Equal(t, math.Trunc(v), v, "%s is an int", p.Name)
		}
	}
}

func TestRandomDeterministicAndInBounds(t *testing.T) {
	s := space()
	a := Random(s, 50, 7)
	b := Random(s, 50, 7)
	require.Len(t, a, 50)
	assert.Equal(t, a, b, "same seed, same trials")
	assert.NotEqual(t, a, Random(s, 50, 8), "another seed, other trials")
	names := map[string]bool{}
	for _, tr := range a {
		inBounds(t, s, tr)
		assert.False(t, names[tr.Name], "trial names are distinct")
		names[tr.Name] = true
	}
	// A prefix of a longer draw: raising maxTrials keeps the first trials.
	assert.Equal(t, a[:20], Random(s, 20, 7))
}

// Pinned output: the generator and the formatting must not change under a
// user's feet (math/rand/v2's PCG is specified, so this holds everywhere).
func TestRandomPinned(t *testing.T) {
	s := FromIR(map[string]*ir.SweepParameter{"lr": {Min: fp(1e-4), Max: fp(1e-1), Scale: "log"}})
	got := Random(s, 3, 1)
	var vals []string
	for _, tr := range got {
		vals = append(vals, tr.Params[0].Value)
	}
	assert.Equal(t, pinnedRandom, vals)
}

func TestLogScaleSpreadsOrdersOfMagnitude(t *testing.T) {
	s := FromIR(map[string]*ir.SweepParameter{"lr": {Min: fp(1e-4), Max: fp(1), Scale: "log"}})
	// Four decades: a log-uniform draw puts about a quarter in each; a
	// linear one would put ~90% in the top decade.
	decades := make([]int, 4)
	for _, tr := range Random(s, 400, 3) {
		v, _ := strconv.ParseFloat(tr.Params[0].Value, 64)
		d := int(math.Floor(math.Log10(v))) + 4
		decades[min(d, 3)]++
	}
	for i, n := range decades {
		assert.InDelta(t, 100, n, 30, "decade 1e%d has %d of 400", i-4, n)
	}
}

func TestIntRangeCoversEndpoints(t *testing.T) {
	s := FromIR(map[string]*ir.SweepParameter{"layers": {Min: fp(2), Max: fp(4), Scale: "linear"}})
	seen := map[string]int{}
	for _, tr := range Random(s, 3, 1) {
		seen[tr.Params[0].Value]++
	}
	assert.Equal(t, map[string]int{"2": 1, "3": 1, "4": 1}, seen, "a 3-point space yields exactly its 3 points")
	// Log-scale ints stay whole and in range.
	ls := FromIR(map[string]*ir.SweepParameter{"width": {Min: fp(16), Max: fp(512), Scale: "log"}})
	for _, tr := range Random(ls, 40, 1) {
		inBounds(t, ls, tr)
	}
}

func TestStepSnaps(t *testing.T) {
	lin := Param{Name: "d", Type: Double, Min: 0, Max: 0.5, Step: 0.1}
	assert.Equal(t, []string{"0", "0.1", "0.2", "0.3", "0.4", "0.5"}, lin.GridValues())
	lg := Param{Name: "lr", Type: Double, Min: 1e-4, Max: 1e-1, Log: true, Step: 10}
	assert.Equal(t, []string{"0.0001", "0.001", "0.01", "0.1"}, lg.GridValues())
	for _, u := range []float64{0, 0.3, 0.99} {
		assert.Contains(t, lg.GridValues(), lg.At(u))
	}
}

func TestGrid(t *testing.T) {
	s := FromIR(map[string]*ir.SweepParameter{
		"batch": {Values: []ir.Value{val(`32`), val(`64`)}},
		"lr":    {Min: fp(1e-3), Max: fp(1e-1), Scale: "log", Step: fp(10)},
		"opt":   {Values: []ir.Value{val(`"adam"`), val(`"sgd"`)}},
	})
	assert.Equal(t, 12, GridSize(s, 100))
	trials, err := Grid(s, 12)
	require.NoError(t, err)
	require.Len(t, trials, 12)
	assert.Equal(t, []Assignment{{"batch", "32"}, {"lr", "0.001"}, {"opt", "adam"}}, trials[0].Params)
	assert.Equal(t, []Assignment{{"batch", "32"}, {"lr", "0.001"}, {"opt", "sgd"}}, trials[1].Params, "the last parameter varies fastest")
	assert.Equal(t, []Assignment{{"batch", "64"}, {"lr", "0.1"}, {"opt", "sgd"}}, trials[11].Params)
	names := map[string]bool{}
	for _, tr := range trials {
		names[tr.Name] = true
	}
	assert.Len(t, names, 12)

	_, err = Grid(s, 11)
	var tl *TooLargeError
	require.ErrorAs(t, err, &tl)
	assert.Equal(t, "the grid has 12 trials, more than the limit of 11", err.Error())

	// Products too large for an int are reported, not overflowed.
	huge := Space{}
	for i := range 10 {
		huge = append(huge, Param{Name: strconv.Itoa(i), Type: Int, Min: 1, Max: 1e6})
	}
	assert.Equal(t, 1001, GridSize(huge, 1000))
	_, err = Grid(huge, 1000)
	require.ErrorAs(t, err, &tl)
	assert.InEpsilon(t, 1e60, tl.Size, 1e-9)

	_, err = Grid(Space{{Name: "d", Type: Double, Min: 0, Max: 1}}, 10)
	assert.Error(t, err, "a double range without a step has no grid")
}

// Trial names depend on the assignment only: the same point gets the same
// name in a grid and a random search, and adding trials does not rename
// the others.
func TestTrialNamesAreStable(t *testing.T) {
	a := newTrial([]Assignment{{"batch", "64"}, {"lr", "0.01"}})
	b := newTrial([]Assignment{{"batch", "64"}, {"lr", "0.01"}})
	c := newTrial([]Assignment{{"batch", "64"}, {"lr", "0.02"}})
	assert.Equal(t, a.Name, b.Name)
	assert.NotEqual(t, a.Name, c.Name)
	assert.Len(t, a.Name, NameLength)
	assert.Equal(t, pinnedName, a.Name, "the name of an assignment never changes between kiln versions")
}

func TestSobolKnownPoints(t *testing.T) {
	// The unshifted sequence's first points in three dimensions, as
	// published for Joe–Kuo direction numbers (and printed by
	// scipy.stats.qmc.Sobol(3, scramble=False)).
	want := [][]float64{
		{0, 0, 0}, {0.5, 0.5, 0.5}, {0.75, 0.25, 0.25}, {0.25, 0.75, 0.75},
		{0.375, 0.375, 0.625}, {0.875, 0.875, 0.125}, {0.625, 0.125, 0.875}, {0.125, 0.625, 0.375},
	}
	q := NewSobolSequence(3)
	for i, w := range want {
		assert.Equal(t, w, q.Next(), "point %d", i)
	}
}

// Every dimension of the first 2^m points puts exactly one point in each
// of 2^m equal intervals, and every pair of dimensions covers a grid of
// cells far more evenly than random points do.
func TestSobolWellSpread(t *testing.T) {
	const m = 8
	const n = 1 << m
	q := NewSobolSequence(MaxSobolDimensions)
	pts := make([][]float64, n)
	for i := range pts {
		pts[i] = q.Next()
	}
	for d := range MaxSobolDimensions {
		cells := make([]int, n)
		for _, p := range pts {
			cells[int(p[d]*n)]++
		}
		for c, k := range cells {
			require.Equal(t, 1, k, "dimension %d, interval %d", d+1, c)
		}
	}
	// 256 points in an 8×8 grid of cells, 4 per cell on average: every
	// pair among the first 8 dimensions covers every cell. (Further pairs
	// of the table have larger t-values and leave cells empty at this
	// sample size: a property of Sobol's 2D projections, documented on
	// MaxSobolDimensions.) 256 random points leave cells empty.
	emptyCells := func(pts [][]float64, d1, d2 int) int {
		var cells [8][8]int
		for _, p := range pts {
			cells[int(p[d1]*8)][int(p[d2]*8)]++
		}
		empty := 0
		for i := range 8 {
			for j := range 8 {
				if cells[i][j] == 0 {
					empty++
				}
			}
		}
		return empty
	}
	r := rand.New(rand.NewPCG(1, 2))
	random := make([][]float64, n)
	for i := range random {
		random[i] = make([]float64, WellSpreadDimensions)
		for d := range random[i] {
			random[i][d] = r.Float64()
		}
	}
	randomEmpty := 0
	for d1 := range WellSpreadDimensions {
		for d2 := d1 + 1; d2 < WellSpreadDimensions; d2++ {
			assert.Zero(t, emptyCells(pts, d1, d2), "dimensions %d and %d leave cells empty", d1+1, d2+1)
			randomEmpty += emptyCells(random, d1, d2)
		}
	}
	assert.Greater(t, randomEmpty, 0, "random points leave cells empty; the check can fail")
}

func TestSobolTrials(t *testing.T) {
	s := space()
	a, err := Sobol(s, 16, 1)
	require.NoError(t, err)
	b, err := Sobol(s, 16, 1)
	require.NoError(t, err)
	assert.Equal(t, a, b, "same seed, same trials")
	c, err := Sobol(s, 16, 2)
	require.NoError(t, err)
	assert.NotEqual(t, a, c)
	for _, tr := range a {
		inBounds(t, s, tr)
	}
	// The shifted sequence is still stratified: 8 draws of a log-scale
	// double put one in each eighth of its orders of magnitude.
	one := FromIR(map[string]*ir.SweepParameter{"lr": {Min: fp(1e-4), Max: fp(1e-0), Scale: "log"}})
	got, err := Sobol(one, 8, 5)
	require.NoError(t, err)
	cells := map[int]bool{}
	for _, tr := range got {
		v, _ := strconv.ParseFloat(tr.Params[0].Value, 64)
		cells[int((math.Log10(v)+4)/4*8)] = true
	}
	assert.Len(t, cells, 8)

	many := make(Space, MaxSobolDimensions+1)
	for i := range many {
		many[i] = Param{Name: strconv.Itoa(i), Type: Double, Max: 1}
	}
	_, err = Sobol(many, 4, 1)
	assert.EqualError(t, err, "sobol supports at most 16 parameters, not 17")
}

func TestHyperband(t *testing.T) {
	// The paper's example: R = 81, eta = 3.
	bs := Hyperband(1, 81, 3)
	require.Len(t, bs, 5)
	assert.Equal(t, []Rung{{81, 1}, {27, 3}, {9, 9}, {3, 27}, {1, 81}}, bs[0].Rungs)
	assert.Equal(t, []Rung{{34, 3}, {11, 9}, {3, 27}, {1, 81}}, bs[1].Rungs)
	assert.Equal(t, []Rung{{15, 9}, {5, 27}, {1, 81}}, bs[2].Rungs)
	assert.Equal(t, []Rung{{8, 27}, {2, 81}}, bs[3].Rungs)
	assert.Equal(t, []Rung{{5, 81}}, bs[4].Rungs)
	assert.Equal(t, 81+34+15+8+5, HyperbandTrials(bs))

	// A resource that does not start at 1, and a max that is not a power.
	bs = Hyperband(5, 30, 2)
	require.Len(t, bs, 3)
	assert.Equal(t, []Rung{{4, 8}, {2, 15}, {1, 30}}, bs[0].Rungs)
	for _, b := range bs {
		for _, r := range b.Rungs {
			assert.GreaterOrEqual(t, r.Resource, 5)
			assert.LessOrEqual(t, r.Resource, 30)
		}
		assert.Equal(t, 30, b.Rungs[len(b.Rungs)-1].Resource, "every bracket ends with the full resource")
	}
	assert.Nil(t, Hyperband(10, 5, 3))
}

var (
	pinnedRandom = []string{"0.00204013", "0.00726569", "0.0354084"}
	pinnedName   = "08ba8f8cab"
)
