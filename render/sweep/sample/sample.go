package sample

import (
	"fmt"
	"math/rand/v2"
)

// GridSize is the number of trials of a grid over s, or limit+1 when it
// is more than limit (the product is not computed past that, so it cannot
// overflow). A double range without a step has no grid points; GridSize
// reports 0 for such a space.
func GridSize(s Space, limit int) int {
	n := 1
	for _, p := range s {
		c := p.Count(limit)
		if c == 0 {
			return 0
		}
		if n > (limit+1)/c {
			return limit + 1
		}
		n *= c
	}
	return min(n, limit+1)
}

// Grid is the cartesian product of every parameter's grid points, the last
// parameter varying fastest. It fails if the grid has more than limit
// trials, saying how many it would have.
func Grid(s Space, limit int) ([]Trial, error) {
	size := GridSize(s, limit)
	if size == 0 {
		return nil, fmt.Errorf("a double range without a step has no grid points")
	}
	if size > limit {
		return nil, &TooLargeError{Size: exactGridSize(s), Limit: limit}
	}
	values := make([][]string, len(s))
	for i, p := range s {
		values[i] = p.GridValues()
	}
	var trials []Trial
	idx := make([]int, len(s))
	for {
		params := make([]Assignment, len(s))
		for i, p := range s {
			params[i] = Assignment{Name: p.Name, Value: values[i][idx[i]]}
		}
		trials = append(trials, newTrial(params))
		i := len(s) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(values[i]) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return trials, nil
		}
	}
}

// TooLargeError is a grid with more trials than allowed.
type TooLargeError struct {
	// Size is the number of trials as a float: a product of many
	// dimensions can exceed any integer.
	Size  float64
	Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the grid has %.0f trials, more than the limit of %d", e.Size, e.Limit)
}

// exactGridSize multiplies the dimensions' point counts in floating point,
// for messages.
func exactGridSize(s Space) float64 {
	n := 1.0
	for _, p := range s {
		n *= float64(p.Count(1 << 40))
	}
	return n
}

// pcgStream is the fixed second word of the PCG state: the seed alone
// picks the sequence.
const pcgStream = 0x6b696c6e2d737770 // "kiln-swp"

// maxDraws bounds the draws spent looking for n distinct trials in a
// space that may have fewer points than that.
const maxDraws = 64

// Random draws up to n distinct trials uniformly (per each parameter's
// scale) with a PCG generator seeded by seed. A space with fewer than n
// points yields fewer trials.
func Random(s Space, n int, seed int64) []Trial {
	r := rand.New(rand.NewPCG(uint64(seed), pcgStream))
	return distinct(n, func() []float64 {
		u := make([]float64, len(s))
		for i := range u {
			u[i] = r.Float64()
		}
		return u
	}, s)
}

// distinct draws points until it has n distinct trials or has drawn
// maxDraws·n points.
func distinct(n int, next func() []float64, s Space) []Trial {
	seen := map[string]bool{}
	var trials []Trial
	for draws := 0; len(trials) < n && draws < maxDraws*n; draws++ {
		u := next()
		params := make([]Assignment, len(s))
		for i, p := range s {
			params[i] = Assignment{Name: p.Name, Value: p.At(u[i])}
		}
		t := newTrial(params)
		if !seen[t.Name] {
			seen[t.Name] = true
			trials = append(trials, t)
		}
	}
	return trials
}

// Sobol draws up to n distinct trials from the Sobol sequence, digitally
// shifted by a random shift seeded by seed (which keeps the sequence's
// even spread). It supports up to MaxSobolDimensions parameters.
func Sobol(s Space, n int, seed int64) ([]Trial, error) {
	if len(s) > MaxSobolDimensions {
		return nil, fmt.Errorf("sobol supports at most %d parameters, not %d", MaxSobolDimensions, len(s))
	}
	seq := NewSobolSequence(len(s))
	r := rand.New(rand.NewPCG(uint64(seed), pcgStream))
	shift := make([]uint32, len(s))
	for i := range shift {
		shift[i] = r.Uint32()
	}
	seq.Shift(shift)
	return distinct(n, seq.Next, s), nil
}
