package argo

import (
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
			SuccessfulJobsHistoryLimit: ptr(int32(s.SuccessfulJobsHistoryLimit)),
			FailedJobsHistoryLimit:     ptr(int32(s.FailedJobsHistoryLimit)),
			WorkflowSpec: wfv1.WorkflowSpec{
				WorkflowTemplateRef: &wfv1.WorkflowTemplateRef{Name: template},
			},
		},
	}
	if s.StartingDeadlineSeconds != nil {
		cw.Spec.StartingDeadlineSeconds = ptr(int64(*s.StartingDeadlineSeconds))
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
