package argo

import (
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/ir"
)

// TestDSTWarning: a schedule is reported exactly when one of its runs falls
// in the local hour a clock change skips or repeats, in its own timezone,
// on the day (of the week) the change happens.
func TestDSTWarning(t *testing.T) {
	for _, tc := range []struct {
		cron, tz string
		want     []string // substrings; none means no warning
	}{
		// fraud-detect's schedule: the spring-forward gap in New York.
		{"30 2 * * *", "America/New_York", []string{"02:30 on 2026-03-08 does not exist"}},
		{"30 1 * * *", "America/New_York", []string{"01:30 on 2026-11-01 happens twice"}},
		// Sundays at 02:00 hit the change (2026-03-08 is a Sunday);
		// Mondays never do.
		{"0 2 * * 0", "America/New_York", []string{"02:00 on 2026-03-08 does not exist"}},
		{"0 2 * * 1", "America/New_York", nil},
		{"0 3 * * 1", "America/New_York", nil},
		{"59 0 * * *", "America/New_York", nil},
		// Europe changes at 02:00 local both ways.
		{"30 2 * * *", "Europe/Berlin", []string{"02:30 on 2026-03-29 does not exist", "02:30 on 2026-10-25 happens twice"}},
		// Only months that have a change.
		{"30 2 * 6 *", "Europe/Berlin", nil},
		// Half-hour changes (Lord Howe Island: 02:00 -> 02:30 and back).
		{"15 2 * * *", "Australia/Lord_Howe", []string{"02:15 on 2026-10-04 does not exist"}},
		{"45 1 * * *", "Australia/Lord_Howe", []string{"01:45 on 2026-04-05 happens twice"}},
		{"30 2 * * *", "Australia/Lord_Howe", nil},
		// No clock changes at all.
		{"30 2 * * *", "UTC", nil},
		{"30 2 * * *", "", nil},
		{"30 2 * * *", "Asia/Tokyo", nil},
		// A fixed interval has no wall-clock time; invalid input is
		// reported elsewhere.
		{"@every 1h", "America/New_York", nil},
		{"not a cron", "America/New_York", nil},
		{"30 2 * * *", "Mars/Olympus", nil},
	} {
		got := DSTWarning(&ir.Schedule{Cron: tc.cron, Timezone: tc.tz})
		if len(tc.want) == 0 {
			if got != "" {
				t.Errorf("%q in %q: want no warning, got %q", tc.cron, tc.tz, got)
			}
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%q in %q: want %q in %q", tc.cron, tc.tz, w, got)
			}
		}
	}
}
