package argo

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // timezones are checked the same on every machine

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	"github.com/robfig/cron/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/ir"
)

// CronWorkflow returns a CronWorkflow named name that runs the
// WorkflowTemplate template on schedule s. It uses the schedules list
// (Argo 3.6 and later; the single schedule field is deprecated) and refers
// to the template rather than copying it, so a pipeline is defined once.
// A timezone left empty means UTC: the controller's local time would
// depend on where it runs.
func CronWorkflow(name, template string, s *ir.Schedule) *wfv1.CronWorkflow {
	tz := s.Timezone
	if tz == "" {
		tz = "UTC"
	}
	cw := &wfv1.CronWorkflow{
		TypeMeta:   metav1.TypeMeta{APIVersion: APIVersion, Kind: KindCronWorkflow},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: wfv1.CronWorkflowSpec{
			Schedules:                  []string{s.Cron},
			Timezone:                   tz,
			ConcurrencyPolicy:          wfv1.ConcurrencyPolicy(s.ConcurrencyPolicy),
			Suspend:                    s.Suspend,
			SuccessfulJobsHistoryLimit: new(int32(s.SuccessfulJobsHistoryLimit)),
			FailedJobsHistoryLimit:     new(int32(s.FailedJobsHistoryLimit)),
			WorkflowSpec: wfv1.WorkflowSpec{
				WorkflowTemplateRef: &wfv1.WorkflowTemplateRef{Name: template},
			},
		},
	}
	if s.StartingDeadlineSeconds != nil {
		cw.Spec.StartingDeadlineSeconds = new(int64(*s.StartingDeadlineSeconds))
	}
	return cw
}

// CheckSchedule parses s's cron expression and timezone the way Argo's
// controller does (robfig/cron's standard parser: five fields or a
// descriptor such as @daily; IANA timezones). Both errors are nil for a
// valid schedule.
func CheckSchedule(s *ir.Schedule) (cronErr, timezoneErr error) {
	if _, err := cron.ParseStandard(s.Cron); err != nil {
		cronErr = err
	}
	if s.Timezone != "" {
		if _, err := time.LoadLocation(s.Timezone); err != nil {
			timezoneErr = err
		}
	}
	return cronErr, timezoneErr
}

// dstYear is the year whose clock changes DSTWarning looks at. It is fixed
// so that a spec gets the same diagnostics on every day it is checked;
// time zone rules rarely change, and the embedded tzdata projects the
// current rules forward.
const dstYear = 2026

// DSTWarning describes the runs of schedule s that a daylight saving time
// change in its timezone skips or repeats, or returns "" when there are
// none: on the day clocks go forward, local times in the gap (02:00-02:59
// in most of North America and Europe) do not exist and a run set for
// them does not happen; on the day they go back, an hour happens twice.
// It looks at the clock changes of one year (dstYear) and reports the
// first affected run of each.
func DSTWarning(s *ir.Schedule) string {
	if s == nil || s.Timezone == "" {
		return ""
	}
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return ""
	}
	parsed, err := cron.ParseStandard(s.Cron)
	if err != nil {
		return ""
	}
	spec, ok := parsed.(*cron.SpecSchedule)
	if !ok {
		return "" // @every: a fixed interval, not a wall-clock time
	}
	if spec.Location != time.Local { // a CRON_TZ= prefix wins
		loc = spec.Location
	}
	// Evaluate the schedule on wall-clock times written as UTC, which has
	// no clock changes: fires(w) says whether a run is due at local time w.
	wall := *spec
	wall.Location = time.UTC
	fires := func(w time.Time) bool { return wall.Next(w.Add(-time.Second)).Equal(w) }

	var found []string
	const step = 15 * time.Minute // clock changes happen on the quarter hour
	t := time.Date(dstYear, 1, 1, 0, 0, 0, 0, time.UTC)
	_, off := t.In(loc).Zone()
	for end := t.AddDate(1, 0, 0); t.Before(end); t = t.Add(step) {
		_, next := t.In(loc).Zone()
		if next == off {
			continue
		}
		before := t.Add(time.Duration(off) * time.Second).UTC() // the wall clock at the change, old offset
		after := t.Add(time.Duration(next) * time.Second).UTC() // the same instant, new offset
		from, to, what := before, after, "does not exist when clocks go forward, so a run set for it is skipped"
		if next < off {
			from, to, what = after, before, "happens twice when clocks go back, so a run set for it may run twice"
		}
		for w := from; w.Before(to); w = w.Add(time.Minute) {
			if fires(w) {
				found = append(found, fmt.Sprintf("%s on %s %s", w.Format("15:04"), w.Format("2006-01-02"), what))
				break
			}
		}
		off = next
	}
	if len(found) == 0 {
		return ""
	}
	return fmt.Sprintf("schedule %q in %s: local time %s; schedule it outside the hours clocks change in, or use timezone \"UTC\"", s.Cron, s.Timezone, strings.Join(found, "; "))
}
