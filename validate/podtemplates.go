package validate

import (
	"encoding/json"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Pod templates inside custom resources. A CRD's schema rarely says more of
// an embedded pod template than "an object" (the training operator's,
// Kubeflow's Notebook and Seldon's keep the fields but not the rules), so
// the API server accepts the custom resource and refuses the pods its
// controller creates from it later, where nobody looks. Each pod template
// (an object with spec.containers) or pod spec (an object with containers)
// found in a custom resource is therefore held to core Pod validation, as
// the Pod would be, and reported at its path in the custom resource.
// Left out: KServe's component specs and Seldon's component specs, whose
// model containers have no name or image until KServe's webhook or
// Seldon's operator fills them in from the model's format; a TrainJob's
// pod template overrides, which patch the runtime's pods field by field;
// Argo's templates, which are no pods (Argo's validator checks them).

// leftOut reports whether obj, a resource, is one of those left out
// above.
func leftOut(obj map[string]any) bool {
	apiVersion, _ := obj["apiVersion"].(string)
	if apiVersion == "" {
		return false
	}
	kind, _ := obj["kind"].(string)
	group, _, _ := cutGroup(apiVersion)
	return group == "serving.kserve.io" || group == "machinelearning.seldon.io" || group == "argoproj.io" || kind == "TrainJob"
}

// embeddedPodErrors returns the core validation errors of the pod
// templates inside obj, a custom resource, and inside the resources it
// holds (a Katib Experiment's trial, which may be a TrainJob).
func embeddedPodErrors(obj map[string]any) field.ErrorList {
	if leftOut(obj) {
		return nil
	}
	claims := jobSetClaims(obj)
	var errs field.ErrorList
	var walk func(p *field.Path, v any)
	walk = func(p *field.Path, v any) {
		switch v := v.(type) {
		case map[string]any:
			if leftOut(v) {
				return
			}
			if spec, ok := v["spec"].(map[string]any); ok && hasContainers(spec) {
				var t corev1.PodTemplateSpec
				if err := remarshal(v, &t); err != nil {
					errs = append(errs, field.Invalid(p, "<pod template>", err.Error()))
					return
				}
				t.Spec.Volumes = append(t.Spec.Volumes, claims...)
				errs = append(errs, checkPodTemplate(&t, p, podSpecOptions{restartPolicies: allRestartPolicies})...)
				return
			}
			if hasContainers(v) {
				var s corev1.PodSpec
				if err := remarshal(v, &s); err != nil {
					errs = append(errs, field.Invalid(p, "<pod spec>", err.Error()))
					return
				}
				errs = append(errs, checkPodSpec(&s, p, podSpecOptions{restartPolicies: allRestartPolicies})...)
				return
			}
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(p.Child(k), v[k])
			}
		case []any:
			for i, e := range v {
				walk(p.Index(i), e)
			}
		}
	}
	walk(specPath, obj["spec"])
	return errs
}

// jobSetClaims returns the volumes JobSet adds to every pod of a JobSet, or
// of the JobSet template of a Trainer runtime, from its volumeClaimPolicies:
// one per claim template, named as the template, so the pod templates'
// volumeMounts of those names are not dangling.
func jobSetClaims(obj map[string]any) []corev1.Volume {
	spec, _ := obj["spec"].(map[string]any)
	switch kind, _ := obj["kind"].(string); kind {
	case "TrainingRuntime", "ClusterTrainingRuntime":
		t, _ := spec["template"].(map[string]any)
		spec, _ = t["spec"].(map[string]any)
	case "JobSet":
	default:
		return nil
	}
	policies, _ := spec["volumeClaimPolicies"].([]any)
	var vols []corev1.Volume
	for _, p := range policies {
		p, _ := p.(map[string]any)
		templates, _ := p["templates"].([]any)
		for _, t := range templates {
			t, _ := t.(map[string]any)
			meta, _ := t["metadata"].(map[string]any)
			if name, _ := meta["name"].(string); name != "" {
				vols = append(vols, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
					PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name},
				}})
			}
		}
	}
	return vols
}

func hasContainers(v map[string]any) bool {
	_, ok := v["containers"].([]any)
	return ok
}

// remarshal decodes v, a JSON-like value, into out.
func remarshal(v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// cutGroup splits an apiVersion into group and version ("v1" has no group).
func cutGroup(apiVersion string) (group, version string, ok bool) {
	for i := range len(apiVersion) {
		if apiVersion[i] == '/' {
			return apiVersion[:i], apiVersion[i+1:], true
		}
	}
	return "", apiVersion, false
}
