package sample

import "math"

// Rung is one round of successive halving: how many trials run and with
// how much of the budget resource (epochs, say) each.
type Rung struct {
	Trials   int `json:"trials"`
	Resource int `json:"resource"`
}

// Bracket is one run of successive halving: its first rung starts fresh
// trials; each later rung keeps the best 1/eta of the previous one and
// gives them eta times the resource.
type Bracket struct {
	Rungs []Rung `json:"rungs"`
}

// Configurations is the number of trials a bracket starts.
func (b Bracket) Configurations() int { return b.Rungs[0].Trials }

// Hyperband plans the brackets of Hyperband (Li et al., JMLR 18, 2018)
// for a resource between lo and hi with reduction factor eta: s_max+1
// brackets where s_max is the largest s with lo·eta^s ≤ hi; bracket s
// starts n = ⌈(s_max+1)·eta^s/(s+1)⌉ trials with hi/eta^s of the
// resource, and its rung i keeps ⌊n/eta^i⌋ trials with hi/eta^(s-i). The
// most exploratory bracket comes first; the last one is plain random
// search with the full resource. Resources are rounded to whole units and
// never fall below lo.
func Hyperband(lo, hi, eta int) []Bracket {
	if lo < 1 || hi < lo || eta < 2 {
		return nil
	}
	smax := 0
	for p := eta; lo*p <= hi; p *= eta {
		smax++
	}
	var out []Bracket
	for s := smax; s >= 0; s-- {
		n := ((smax+1)*ipow(eta, s) + s) / (s + 1)
		var b Bracket
		for i := 0; i <= s; i++ {
			r := int(math.Round(float64(hi) / float64(ipow(eta, s-i))))
			b.Rungs = append(b.Rungs, Rung{Trials: max(n/ipow(eta, i), 1), Resource: max(r, lo)})
		}
		out = append(out, b)
	}
	return out
}

// HyperbandTrials is the number of trials all brackets start.
func HyperbandTrials(bs []Bracket) int {
	n := 0
	for _, b := range bs {
		n += b.Configurations()
	}
	return n
}

func ipow(b, e int) int {
	p := 1
	for range e {
		p *= b
	}
	return p
}
