package suggest

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// dim is a parameter as the model sees it: a coordinate in [lo, hi] —
// the value, its logarithm on a log scale, or the index of a list value.
// An int's range is widened by half a unit each side, so that every
// integer gets the same share of it.
type dim struct {
	p      Param
	list   bool
	log    bool
	lo, hi float64
}

func newDim(p Param) dim {
	d := dim{p: p, list: p.Type == "categorical" || p.Type == "discrete", log: p.Scale == "log"}
	if d.list {
		d.lo, d.hi = 0, float64(len(p.Values)-1)
		return d
	}
	lo, hi := *p.Min, *p.Max
	if p.Type == "int" {
		lo, hi = lo-0.5, hi+0.5
		if d.log {
			lo = max(lo, *p.Min/2)
		}
	}
	d.lo, d.hi = d.toCoord(lo), d.toCoord(hi)
	return d
}

func (d dim) toCoord(v float64) float64 {
	if d.log {
		return math.Log(v)
	}
	return v
}

func (d dim) toValue(z float64) float64 {
	if d.log {
		return math.Exp(z)
	}
	return z
}

// coord is the coordinate of a value as a trial got it.
func (d dim) coord(s string) (float64, bool) {
	if d.list {
		if i := slices.Index(d.p.Values, s); i >= 0 {
			return float64(i), true
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, false
		}
		for i, v := range d.p.Values {
			if g, err := strconv.ParseFloat(v, 64); err == nil && g == f {
				return float64(i), true
			}
		}
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v < *d.p.Min || v > *d.p.Max {
		return 0, false
	}
	return d.toCoord(v), true
}

func (d dim) random(rng *rand.Rand) float64 {
	if d.list {
		return float64(rng.IntN(len(d.p.Values)))
	}
	return d.snap(d.lo + rng.Float64()*(d.hi-d.lo))
}

// value is the parameter's value at coordinate z, as a trial gets it:
// rounded to an int, snapped to the step, with a double's 6 significant
// digits (what kiln passes to trials), within the range.
func (d dim) value(z float64) float64 {
	lo, hi := *d.p.Min, *d.p.Max
	v := min(max(d.toValue(z), lo), hi)
	if st := d.p.Step; st != nil && *st > 0 {
		if d.log && *st > 1 {
			k := math.Round(math.Log(v/lo) / math.Log(*st))
			v = lo * math.Pow(*st, k)
			for v > hi*(1+1e-12) && k > 0 {
				k--
				v = lo * math.Pow(*st, k)
			}
		} else if !d.log {
			k := math.Round((v - lo) / *st)
			v = lo + k**st
			for v > hi*(1+1e-12)+1e-12 && k > 0 {
				k--
				v = lo + k**st
			}
		}
	}
	if d.p.Type == "int" {
		v = math.Round(v)
		for v > hi {
			v--
		}
		for v < lo {
			v++
		}
		return v
	}
	v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return min(max(v, lo), hi)
}

// snap moves a coordinate to the nearest value a trial can get.
func (d dim) snap(z float64) float64 {
	if d.list {
		return min(max(math.Round(z), 0), d.hi)
	}
	return d.toCoord(d.value(z))
}

// format is the value at z as kiln passes it to a trial.
func (d dim) format(z float64) string {
	if d.list {
		return d.p.Values[int(d.snap(z))]
	}
	v := d.value(z)
	if d.p.Type == "int" {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// points are the coordinates of every value of a finite space (lists,
// ints, stepped ranges of up to 100000 values), or nil.
func (d dim) points() []float64 {
	const limit = 100000
	if d.list {
		pts := make([]float64, len(d.p.Values))
		for i := range pts {
			pts[i] = float64(i)
		}
		return pts
	}
	var pts []float64
	seen := map[float64]bool{}
	lo, hi := *d.p.Min, *d.p.Max
	switch {
	case d.p.Step != nil && *d.p.Step > 0 && (!d.log || *d.p.Step > 1):
		for k := 0; len(pts) <= limit; k++ {
			v := lo + float64(k)**d.p.Step
			if d.log {
				v = lo * math.Pow(*d.p.Step, float64(k))
			}
			if v > hi*(1+1e-12)+1e-12 {
				break
			}
			if z := d.snap(d.toCoord(v)); !seen[z] {
				seen[z] = true
				pts = append(pts, z)
			}
		}
	case d.p.Type == "int" && hi-lo < limit:
		for v := math.Ceil(lo); v <= hi; v++ {
			pts = append(pts, d.toCoord(v))
		}
	default:
		return nil
	}
	if len(pts) > limit {
		return nil
	}
	return pts
}

// estimator is a density over a dimension's coordinates.
type estimator interface {
	sample(rng *rand.Rand) float64
	pdf(z float64) float64
}

func (d dim) estimator(obs []float64) estimator {
	if d.list {
		c := categorical{weights: make([]float64, len(d.p.Values))}
		for i := range c.weights {
			c.weights[i] = 1 // the prior: every value is possible
		}
		for _, z := range obs {
			c.weights[int(z)]++
		}
		for _, w := range c.weights {
			c.total += w
		}
		return c
	}
	return newParzen(obs, d.lo, d.hi)
}

type categorical struct {
	weights []float64
	total   float64
}

func (c categorical) sample(rng *rand.Rand) float64 {
	u := rng.Float64() * c.total
	for i, w := range c.weights {
		if u < w {
			return float64(i)
		}
		u -= w
	}
	return float64(len(c.weights) - 1)
}

func (c categorical) pdf(z float64) float64 { return c.weights[int(z)] / c.total }

// parzen is a mixture of Gaussians truncated to [lo, hi]: a wide prior
// at the middle of the range and one per observation, as wide as the
// larger gap to its neighbours, between (hi-lo)/min(100, n+1) and hi-lo.
type parzen struct {
	mu, sigma, norm []float64
	lo, hi          float64
}

func newParzen(obs []float64, lo, hi float64) parzen {
	p := parzen{lo: lo, hi: hi}
	width := hi - lo
	if width <= 0 {
		return p
	}
	p.mu = append(p.mu, (lo+hi)/2)
	p.sigma = append(p.sigma, width)
	sorted := slices.Clone(obs)
	slices.Sort(sorted)
	minSigma := width / math.Min(100, float64(len(obs)+1))
	for i, m := range sorted {
		left, right := lo, hi
		if i > 0 {
			left = sorted[i-1]
		}
		if i+1 < len(sorted) {
			right = sorted[i+1]
		}
		s := math.Max(m-left, right-m)
		p.mu = append(p.mu, m)
		p.sigma = append(p.sigma, math.Min(math.Max(s, minSigma), width))
	}
	for i := range p.mu {
		n := phi((hi-p.mu[i])/p.sigma[i]) - phi((lo-p.mu[i])/p.sigma[i])
		p.norm = append(p.norm, math.Max(n, 1e-12))
	}
	return p
}

func phi(x float64) float64 { return 0.5 * (1 + math.Erf(x/math.Sqrt2)) }

func (p parzen) sample(rng *rand.Rand) float64 {
	if len(p.mu) == 0 {
		return p.lo
	}
	i := rng.IntN(len(p.mu))
	for range 100 {
		z := p.mu[i] + p.sigma[i]*rng.NormFloat64()
		if z >= p.lo && z <= p.hi {
			return z
		}
	}
	return min(max(p.mu[i], p.lo), p.hi)
}

func (p parzen) pdf(z float64) float64 {
	if len(p.mu) == 0 {
		return 1
	}
	sum := 0.0
	for i := range p.mu {
		x := (z - p.mu[i]) / p.sigma[i]
		sum += math.Exp(-x*x/2) / (p.sigma[i] * math.Sqrt(2*math.Pi) * p.norm[i])
	}
	return math.Max(sum/float64(len(p.mu)), 1e-300)
}
