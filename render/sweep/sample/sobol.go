package sample

import "math/bits"

// MaxSobolDimensions is the number of dimensions kiln has direction
// numbers for: the first from the van der Corput sequence, the rest from
// the first rows of Joe and Kuo's table (new-joe-kuo-6.21201, S. Joe and
// F. Y. Kuo, "Constructing Sobol sequences with better two-dimensional
// projections", SIAM J. Sci. Comput. 30, 2008). A sweep has a handful of
// parameters; more would need more rows of the table (use random search
// beyond it).
//
// Every dimension alone is perfectly stratified (the first 2^m points put
// one point in each of 2^m equal intervals). Pairs of dimensions are
// evenly spread too among the first WellSpreadDimensions; some later
// pairs have larger t-values and leave gaps at small sample sizes (256
// points leave half the cells of an 8×8 grid empty for, e.g., dimensions
// 3 and 9), as Sobol sequences do.
const MaxSobolDimensions = 16

// WellSpreadDimensions is the number of leading dimensions every pair of
// which covers every cell of an 8×8 grid with 256 points.
const WellSpreadDimensions = 8

// joeKuo holds, for dimensions 2…16, the degree s of the primitive
// polynomial, its coefficients a (the s-1 inner bits) and the initial
// direction numbers m_1…m_s.
var joeKuo = []struct {
	s, a uint32
	m    []uint32
}{
	{1, 0, []uint32{1}},
	{2, 1, []uint32{1, 3}},
	{3, 1, []uint32{1, 3, 1}},
	{3, 2, []uint32{1, 1, 1}},
	{4, 1, []uint32{1, 1, 3, 3}},
	{4, 4, []uint32{1, 3, 5, 13}},
	{5, 2, []uint32{1, 1, 5, 5, 17}},
	{5, 4, []uint32{1, 1, 5, 5, 5}},
	{5, 7, []uint32{1, 1, 7, 11, 19}},
	{5, 11, []uint32{1, 1, 5, 1, 1}},
	{5, 13, []uint32{1, 1, 1, 3, 11}},
	{5, 14, []uint32{1, 3, 5, 5, 31}},
	{6, 1, []uint32{1, 3, 3, 9, 7, 49}},
	{6, 13, []uint32{1, 1, 1, 15, 21, 21}},
	{6, 16, []uint32{1, 3, 1, 13, 27, 49}},
}

// sobolBits is the precision of the points: 2^32 points per dimension.
const sobolBits = 32

// SobolSequence generates Sobol points in Gray-code order (Antonov and
// Saleev): each point differs from the previous one by one XOR per
// dimension.
type SobolSequence struct {
	v     [][sobolBits]uint32
	x     []uint32
	shift []uint32
	i     uint32
}

// NewSobolSequence returns the sequence in dims dimensions
// (1 ≤ dims ≤ MaxSobolDimensions), starting at the origin.
func NewSobolSequence(dims int) *SobolSequence {
	q := &SobolSequence{v: make([][sobolBits]uint32, dims), x: make([]uint32, dims), shift: make([]uint32, dims)}
	for j := range sobolBits {
		q.v[0][j] = 1 << (sobolBits - 1 - j)
	}
	for d := 1; d < dims; d++ {
		jk := joeKuo[d-1]
		s := int(jk.s)
		m := make([]uint32, sobolBits+1) // 1-based
		copy(m[1:], jk.m)
		for j := s + 1; j <= sobolBits; j++ {
			m[j] = m[j-s] ^ (m[j-s] << s)
			for k := 1; k < s; k++ {
				// a_k is bit s-1-k of a.
				m[j] ^= ((jk.a >> (s - 1 - k)) & 1) * (m[j-k] << k)
			}
		}
		for j := 1; j <= sobolBits; j++ {
			q.v[d][j-1] = m[j] << (sobolBits - j)
		}
	}
	return q
}

// Shift XORs every point with shift (a digital shift), which keeps the
// sequence's stratification while moving it off the origin.
func (q *SobolSequence) Shift(shift []uint32) { copy(q.shift, shift) }

// Next returns the next point, each coordinate in [0, 1).
func (q *SobolSequence) Next() []float64 {
	u := make([]float64, len(q.x))
	for d, x := range q.x {
		u[d] = float64(x^q.shift[d]) / (1 << sobolBits)
	}
	c := bits.TrailingZeros32(^q.i)
	for d := range q.x {
		q.x[d] ^= q.v[d][c]
	}
	q.i++
	return u
}
