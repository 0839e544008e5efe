package diff

import (
	"strings"
	"testing"
)

// The summary shows each environment's GPU demand at worst and says
// when it cannot fit the quota, or fits only if runs take turns.
func TestSummaryBudgets(t *testing.T) {
	r := &Report{Files: []File{{}}, Kinds: map[string]Count{}, GPUs: map[string]map[string]Count{}, Budgets: []Budget{
		{Env: "dev", Resource: "nvidia.com/gpu", Held: 2, Largest: 4, All: 6, Quota: 8},
		{Env: "prod", Resource: "nvidia.com/gpu", Held: 4, Largest: 8, All: 14, Quota: 10},
		{Env: "stage", Resource: "nvidia.com/gpu", Held: 2, Largest: 4, All: 10, Quota: 8},
	}}
	var b strings.Builder
	if err := r.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	want := `
GPU demand at worst per environment (after):
  dev    nvidia.com/gpu  held 2 + largest run 4 = 6, all at once 6, quota 8
  prod   nvidia.com/gpu  held 4 + largest run 8 = 12, all at once 14, quota 10  (does not fit)
  stage  nvidia.com/gpu  held 2 + largest run 4 = 6, all at once 10, quota 8  (fits if runs take turns)
`
	if !strings.Contains(b.String(), want) {
		t.Errorf("summary lacks\n%s\ngot\n%s", want, b.String())
	}
}

// Fit is the verdict the summary and -o json give.
func TestBudgetFit(t *testing.T) {
	for _, tc := range []struct {
		b    Budget
		want string
	}{
		{Budget{Held: 2, Largest: 4, All: 6, Quota: 8}, Fits},
		{Budget{Held: 2, Largest: 4, All: 6, Quota: 6}, Fits},
		{Budget{Held: 2, Largest: 4, All: 10, Quota: 8}, FitsInTurns},
		{Budget{Held: 4, Largest: 8, All: 14, Quota: 10}, DoesNotFit},
		{Budget{Held: 4, Largest: 8, All: 14}, FitsNoQuota},
	} {
		if got := tc.b.Fit(); got != tc.want {
			t.Errorf("%+v: Fit() = %q, want %q", tc.b, got, tc.want)
		}
	}
}
