package validate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // CronJob time zones are checked without depending on the host's zoneinfo.

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func nonNegative32(v *int32, p *field.Path) field.ErrorList {
	if v != nil && *v < 0 {
		return field.ErrorList{field.Invalid(p, *v, "must be greater than or equal to 0")}
	}
	return nil
}

func nonNegative64(v *int64, p *field.Path) field.ErrorList {
	if v != nil && *v < 0 {
		return field.ErrorList{field.Invalid(p, *v, "must be greater than or equal to 0")}
	}
	return nil
}

// checkSelectorMatchesTemplate checks a workload's required, non-empty label
// selector and that it selects the pod template's labels.
func checkSelectorMatchesTemplate(sel *metav1.LabelSelector, tmplLabels map[string]string, p *field.Path, what string) field.ErrorList {
	sp := p.Child("selector")
	if sel == nil {
		return field.ErrorList{field.Required(sp, "")}
	}
	errs := metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, sp)
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		return append(errs, field.Invalid(sp, sel, "empty selector is invalid for "+what))
	}
	if len(errs) > 0 {
		return errs
	}
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return append(errs, field.Invalid(sp, sel, err.Error()))
	}
	if !selector.Matches(labels.Set(tmplLabels)) {
		errs = append(errs, field.Invalid(p.Child("template", "metadata", "labels"), tmplLabels, "`selector` does not match template `labels`"))
	}
	return errs
}

var alwaysRestart = podSpecOptions{restartPolicies: []corev1.RestartPolicy{corev1.RestartPolicyAlways}}

func checkDeployment(d *appsv1.Deployment) field.ErrorList {
	spec := &d.Spec
	var errs field.ErrorList
	errs = append(errs, nonNegative32(spec.Replicas, specPath.Child("replicas"))...)
	errs = append(errs, checkSelectorMatchesTemplate(spec.Selector, spec.Template.Labels, specPath, "deployment")...)
	errs = append(errs, checkPodTemplate(&spec.Template, specPath.Child("template"), alwaysRestart)...)
	errs = append(errs, nonNegative32(&spec.MinReadySeconds, specPath.Child("minReadySeconds"))...)
	errs = append(errs, nonNegative32(spec.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))...)
	if pd := spec.ProgressDeadlineSeconds; pd != nil {
		if *pd <= 0 {
			errs = append(errs, field.Invalid(specPath.Child("progressDeadlineSeconds"), *pd, "must be greater than 0"))
		} else if *pd <= spec.MinReadySeconds {
			errs = append(errs, field.Invalid(specPath.Child("progressDeadlineSeconds"), *pd, "must be greater than minReadySeconds"))
		}
	}
	stp := specPath.Child("strategy")
	switch spec.Strategy.Type {
	case "", appsv1.RollingUpdateDeploymentStrategyType:
		if ru := spec.Strategy.RollingUpdate; ru != nil {
			rp := stp.Child("rollingUpdate")
			errs = append(errs, checkIntOrPercent(ru.MaxUnavailable, rp.Child("maxUnavailable"), true)...)
			errs = append(errs, checkIntOrPercent(ru.MaxSurge, rp.Child("maxSurge"), false)...)
			if isZeroIntOrPercent(ru.MaxUnavailable) && isZeroIntOrPercent(ru.MaxSurge) {
				errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), ru.MaxUnavailable.String(), "may not be 0 when `maxSurge` is 0"))
			}
		}
	case appsv1.RecreateDeploymentStrategyType:
		if spec.Strategy.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(stp.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	default:
		errs = append(errs, field.NotSupported(stp.Child("type"), spec.Strategy.Type,
			[]appsv1.DeploymentStrategyType{appsv1.RecreateDeploymentStrategyType, appsv1.RollingUpdateDeploymentStrategyType}))
	}
	return errs
}

func checkStatefulSet(s *appsv1.StatefulSet) field.ErrorList {
	spec := &s.Spec
	var errs field.ErrorList
	errs = append(errs, nonNegative32(spec.Replicas, specPath.Child("replicas"))...)
	errs = append(errs, checkSelectorMatchesTemplate(spec.Selector, spec.Template.Labels, specPath, "statefulset")...)
	opts := alwaysRestart
	for i, c := range spec.VolumeClaimTemplates {
		cp := specPath.Child("volumeClaimTemplates").Index(i)
		if c.Name == "" {
			errs = append(errs, field.Required(cp.Child("metadata", "name"), ""))
		}
		errs = append(errs, checkPVCSpec(&c.Spec, cp.Child("spec"))...)
		opts.extraVolumes = append(opts.extraVolumes, c.Name)
	}
	errs = append(errs, checkPodTemplate(&spec.Template, specPath.Child("template"), opts)...)
	switch spec.PodManagementPolicy {
	case "", appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.NotSupported(specPath.Child("podManagementPolicy"), spec.PodManagementPolicy,
			[]appsv1.PodManagementPolicyType{appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement}))
	}
	up := specPath.Child("updateStrategy")
	switch spec.UpdateStrategy.Type {
	case "", appsv1.RollingUpdateStatefulSetStrategyType:
		if ru := spec.UpdateStrategy.RollingUpdate; ru != nil {
			errs = append(errs, nonNegative32(ru.Partition, up.Child("rollingUpdate", "partition"))...)
			errs = append(errs, checkIntOrPercent(ru.MaxUnavailable, up.Child("rollingUpdate", "maxUnavailable"), true)...)
			if ru.MaxUnavailable != nil && isZeroIntOrPercent(ru.MaxUnavailable) {
				errs = append(errs, field.Invalid(up.Child("rollingUpdate", "maxUnavailable"), ru.MaxUnavailable.String(), "must be greater than 0"))
			}
		}
	case appsv1.OnDeleteStatefulSetStrategyType:
		if spec.UpdateStrategy.RollingUpdate != nil {
			errs = append(errs, field.Invalid(up.Child("rollingUpdate"), spec.UpdateStrategy.RollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"))
		}
	default:
		errs = append(errs, field.NotSupported(up.Child("type"), spec.UpdateStrategy.Type,
			[]appsv1.StatefulSetUpdateStrategyType{appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType}))
	}
	if rp := spec.PersistentVolumeClaimRetentionPolicy; rp != nil {
		policies := []appsv1.PersistentVolumeClaimRetentionPolicyType{appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType}
		pp := specPath.Child("persistentVolumeClaimRetentionPolicy")
		if rp.WhenDeleted != "" && !slices.Contains(policies, rp.WhenDeleted) {
			errs = append(errs, field.NotSupported(pp.Child("whenDeleted"), rp.WhenDeleted, policies))
		}
		if rp.WhenScaled != "" && !slices.Contains(policies, rp.WhenScaled) {
			errs = append(errs, field.NotSupported(pp.Child("whenScaled"), rp.WhenScaled, policies))
		}
	}
	if spec.Ordinals != nil {
		errs = append(errs, nonNegative32(&spec.Ordinals.Start, specPath.Child("ordinals", "start"))...)
	}
	errs = append(errs, nonNegative32(&spec.MinReadySeconds, specPath.Child("minReadySeconds"))...)
	errs = append(errs, nonNegative32(spec.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))...)
	return errs
}

func checkDaemonSet(d *appsv1.DaemonSet) field.ErrorList {
	spec := &d.Spec
	var errs field.ErrorList
	errs = append(errs, checkSelectorMatchesTemplate(spec.Selector, spec.Template.Labels, specPath, "daemonset")...)
	errs = append(errs, checkPodTemplate(&spec.Template, specPath.Child("template"), alwaysRestart)...)
	up := specPath.Child("updateStrategy")
	switch spec.UpdateStrategy.Type {
	case "", appsv1.RollingUpdateDaemonSetStrategyType:
		if ru := spec.UpdateStrategy.RollingUpdate; ru != nil {
			errs = append(errs, checkIntOrPercent(ru.MaxUnavailable, up.Child("rollingUpdate", "maxUnavailable"), true)...)
			errs = append(errs, checkIntOrPercent(ru.MaxSurge, up.Child("rollingUpdate", "maxSurge"), true)...)
		}
	case appsv1.OnDeleteDaemonSetStrategyType:
	default:
		errs = append(errs, field.NotSupported(up.Child("type"), spec.UpdateStrategy.Type,
			[]appsv1.DaemonSetUpdateStrategyType{appsv1.RollingUpdateDaemonSetStrategyType, appsv1.OnDeleteDaemonSetStrategyType}))
	}
	errs = append(errs, nonNegative32(&spec.MinReadySeconds, specPath.Child("minReadySeconds"))...)
	errs = append(errs, nonNegative32(spec.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))...)
	return errs
}

var jobRestart = podSpecOptions{restartPolicies: []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}}

// maxLabelValueLength is the longest label value; Jobs label their pods with
// their name.
const maxLabelValueLength = 63

func checkJob(j *batchv1.Job) field.ErrorList {
	errs := checkJobSpec(&j.Spec, specPath)
	if j.Name != "" && len(j.Name) > maxLabelValueLength {
		errs = append(errs, field.Invalid(specPath.Child("template", "metadata", "labels").Key(batchv1.JobNameLabel), j.Name,
			fmt.Sprintf("must be no more than %d characters: the Job name is used as the value of this pod label", maxLabelValueLength)))
	}
	return errs
}

func checkJobSpec(spec *batchv1.JobSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, nonNegative32(spec.Parallelism, p.Child("parallelism"))...)
	errs = append(errs, nonNegative32(spec.Completions, p.Child("completions"))...)
	errs = append(errs, nonNegative32(spec.BackoffLimit, p.Child("backoffLimit"))...)
	errs = append(errs, nonNegative32(spec.TTLSecondsAfterFinished, p.Child("ttlSecondsAfterFinished"))...)
	if spec.ActiveDeadlineSeconds != nil && *spec.ActiveDeadlineSeconds <= 0 {
		errs = append(errs, field.Invalid(p.Child("activeDeadlineSeconds"), *spec.ActiveDeadlineSeconds, "must be greater than 0"))
	}
	indexed := false
	if m := spec.CompletionMode; m != nil {
		switch *m {
		case batchv1.NonIndexedCompletion:
		case batchv1.IndexedCompletion:
			indexed = true
			if spec.Completions == nil {
				errs = append(errs, field.Required(p.Child("completions"), "when completion mode is Indexed"))
			}
		default:
			errs = append(errs, field.NotSupported(p.Child("completionMode"), *m, []batchv1.CompletionMode{batchv1.NonIndexedCompletion, batchv1.IndexedCompletion}))
		}
	}
	if spec.BackoffLimitPerIndex != nil {
		errs = append(errs, nonNegative32(spec.BackoffLimitPerIndex, p.Child("backoffLimitPerIndex"))...)
		if !indexed {
			errs = append(errs, field.Forbidden(p.Child("backoffLimitPerIndex"), "requires indexed completion mode"))
		}
	}
	if spec.MaxFailedIndexes != nil && spec.BackoffLimitPerIndex == nil {
		errs = append(errs, field.Required(p.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
	}
	if spec.PodFailurePolicy != nil && spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		errs = append(errs, field.NotSupported(p.Child("template", "spec", "restartPolicy"), spec.Template.Spec.RestartPolicy,
			[]corev1.RestartPolicy{corev1.RestartPolicyNever}))
	}
	if spec.ManualSelector != nil && *spec.ManualSelector {
		errs = append(errs, checkSelectorMatchesTemplate(spec.Selector, spec.Template.Labels, p, "job")...)
	} else if spec.Selector != nil {
		errs = append(errs, field.Invalid(p.Child("selector"), spec.Selector, "`selector` not auto-generated"))
	}
	errs = append(errs, checkPodTemplate(&spec.Template, p.Child("template"), jobRestart)...)
	return errs
}

// maxCronJobNameLength leaves room for the 11-character suffix of the Jobs a
// CronJob creates.
const maxCronJobNameLength = 52

func checkCronJob(cj *batchv1.CronJob) field.ErrorList {
	spec := &cj.Spec
	var errs field.ErrorList
	if len(cj.Name) > maxCronJobNameLength {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), cj.Name, fmt.Sprintf("must be no more than %d characters", maxCronJobNameLength)))
	}
	sp := specPath.Child("schedule")
	switch {
	case spec.Schedule == "":
		errs = append(errs, field.Required(sp, ""))
	case strings.Contains(spec.Schedule, "TZ"):
		errs = append(errs, field.Invalid(sp, spec.Schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
	default:
		if err := checkCronSchedule(spec.Schedule); err != nil {
			errs = append(errs, field.Invalid(sp, spec.Schedule, err.Error()))
		}
	}
	if tz := spec.TimeZone; tz != nil {
		tp := specPath.Child("timeZone")
		switch {
		case *tz == "":
			errs = append(errs, field.Invalid(tp, *tz, "timeZone must be nil or non-empty string"))
		case strings.EqualFold(*tz, "Local"):
			errs = append(errs, field.Invalid(tp, *tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"))
		default:
			if _, err := time.LoadLocation(*tz); err != nil {
				errs = append(errs, field.Invalid(tp, *tz, "unknown time zone "+*tz))
			}
		}
	}
	switch spec.ConcurrencyPolicy {
	case "", batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent:
	default:
		errs = append(errs, field.NotSupported(specPath.Child("concurrencyPolicy"), spec.ConcurrencyPolicy,
			[]batchv1.ConcurrencyPolicy{batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent}))
	}
	errs = append(errs, nonNegative64(spec.StartingDeadlineSeconds, specPath.Child("startingDeadlineSeconds"))...)
	errs = append(errs, nonNegative32(spec.SuccessfulJobsHistoryLimit, specPath.Child("successfulJobsHistoryLimit"))...)
	errs = append(errs, nonNegative32(spec.FailedJobsHistoryLimit, specPath.Child("failedJobsHistoryLimit"))...)
	errs = append(errs, checkJobSpec(&spec.JobTemplate.Spec, specPath.Child("jobTemplate", "spec"))...)
	return errs
}

// cronDescriptors are the schedules the CronJob controller's parser accepts
// instead of five fields.
var cronDescriptors = map[string]bool{
	"@yearly": true, "@annually": true, "@monthly": true, "@weekly": true, "@daily": true, "@midnight": true, "@hourly": true,
}

type cronField struct {
	name     string
	min, max int
	names    map[string]int
}

var cronFields = []cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: map[string]int{
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}},
	{name: "day of week", min: 0, max: 6, names: map[string]int{
		"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}},
}

// checkCronSchedule parses a schedule the way the standard cron parser used
// by the CronJob controller (robfig/cron) does: five fields or a descriptor.
func checkCronSchedule(s string) error {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "@") {
		if cronDescriptors[s] {
			return nil
		}
		if d, ok := strings.CutPrefix(s, "@every "); ok {
			if _, err := time.ParseDuration(strings.TrimSpace(d)); err != nil {
				return fmt.Errorf("failed to parse duration %s: %v", d, err)
			}
			return nil
		}
		return fmt.Errorf("unrecognized descriptor: %s", s)
	}
	parts := strings.Fields(s)
	if len(parts) != len(cronFields) {
		return fmt.Errorf("expected exactly 5 fields, found %d: %s", len(parts), s)
	}
	for i, part := range parts {
		if err := checkCronField(part, cronFields[i]); err != nil {
			return err
		}
	}
	return nil
}

func checkCronField(expr string, f cronField) error {
	for _, r := range strings.Split(expr, ",") {
		rangeAndStep := strings.Split(r, "/")
		if len(rangeAndStep) > 2 {
			return fmt.Errorf("too many slashes in %s field: %s", f.name, r)
		}
		lowAndHigh := strings.Split(rangeAndStep[0], "-")
		if len(lowAndHigh) > 2 {
			return fmt.Errorf("too many hyphens in %s field: %s", f.name, r)
		}
		star := lowAndHigh[0] == "*" || lowAndHigh[0] == "?"
		var lo, hi int
		if star {
			if len(lowAndHigh) > 1 {
				return fmt.Errorf("invalid range in %s field: %s", f.name, r)
			}
			lo, hi = f.min, f.max
		} else {
			var err error
			if lo, err = cronValue(lowAndHigh[0], f); err != nil {
				return err
			}
			hi = lo
			if len(lowAndHigh) == 2 {
				if hi, err = cronValue(lowAndHigh[1], f); err != nil {
					return err
				}
			}
		}
		if len(rangeAndStep) == 2 {
			step, err := strconv.Atoi(rangeAndStep[1])
			if err != nil || step <= 0 {
				return fmt.Errorf("invalid step in %s field: %s", f.name, r)
			}
		}
		if lo < f.min || hi > f.max {
			return fmt.Errorf("%s field %s is out of range (%d-%d)", f.name, r, f.min, f.max)
		}
		if lo > hi {
			return fmt.Errorf("beginning of range (%d) beyond end of range (%d): %s", lo, hi, r)
		}
	}
	return nil
}

func cronValue(s string, f cronField) (int, error) {
	if v, ok := f.names[strings.ToLower(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("failed to parse int from %s in %s field", s, f.name)
	}
	return v, nil
}
