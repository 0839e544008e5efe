package argo

import (
	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
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
