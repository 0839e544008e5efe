package validate

import (
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// trainerInitializers are the initializers a TrainJob configures
// (spec.initializer.<key>), each run by the runtime's replicated job and
// container of the same name.
var trainerInitializers = []struct{ key, job string }{
	{"dataset", "dataset-initializer"},
	{"model", "model-initializer"},
}

// trainerInitializerContainer is an initializer container as Kubeflow
// Trainer v2.3.0's runtimes with initializers (the torchtune-* runtimes)
// have it: Trainer's image, no securityContext, no resources. The runtime
// is the cluster's, not the TrainJob's, so this is what runs unless a
// runtime patch of the TrainJob sets more.
func trainerInitializerContainer(job string) map[string]any {
	return map[string]any{"name": job, "image": "ghcr.io/kubeflow/trainer/" + job}
}

// trainJob walks a TrainJob (Kubeflow Trainer v2.3.0). The pods come from
// its runtime, which is not in the object; what the object says of them is
// its runtime patches, each replicated job's pod spec patch checked as a
// pod, its trainer container with spec.trainer.resourcesPerNode. An
// initializer the TrainJob configures runs the runtime's
// initializer container, merged with the patch of that container when
// there is one, in a pod of its own when no patch names its job, unless
// the runtime is a namespaced one.
func (r *restrictedChecker) trainJob(p *field.Path, spec map[string]any) {
	init, _ := spec["initializer"].(map[string]any)
	configured := map[string]bool{}
	// On a namespaced TrainingRuntime (one kiln renders beside the
	// TrainJob) the initializer containers are the runtime's, checked
	// with it.
	if kind, _ := dig(spec, "runtimeRef")["kind"].(string); kind != "TrainingRuntime" {
		for _, in := range trainerInitializers {
			if _, ok := init[in.key].(map[string]any); ok {
				configured[in.job] = true
			}
		}
	}
	patched := map[string]bool{}
	patches, _ := spec["runtimePatches"].([]any)
	for i, rp := range patches {
		rpm, _ := rp.(map[string]any)
		jobs, _ := dig(rpm, "trainingRuntimeSpec", "template", "spec")["replicatedJobs"].([]any)
		for j, rj := range jobs {
			rjm, _ := rj.(map[string]any)
			ps := dig(rjm, "template", "spec", "template", "spec")
			if ps == nil {
				continue
			}
			sp := p.Child("runtimePatches").Index(i).Child("trainingRuntimeSpec", "template", "spec", "replicatedJobs").Index(j).Child("template", "spec", "template", "spec")
			name, _ := rjm["name"].(string)
			if !configured[name] {
				r.podSpecWith(sp, withTrainerResources(ps, spec), nil)
				continue
			}
			patched[name] = true
			// The patched container is the runtime's with the patch's
			// fields on top; the pod's other containers are the patch's.
			rest := map[string]any{}
			for k, v := range ps {
				rest[k] = v
			}
			var others []any
			merged := podContainer{path: sp, name: name, obj: trainerInitializerContainer(name), injectedBy: "the TrainJob's runtime"}
			cs, _ := ps["containers"].([]any)
			for k, c := range cs {
				cm, _ := c.(map[string]any)
				if containerName(cm, "") == name {
					merged.path = sp.Child("containers").Index(k)
					merged.obj = mergeMaps(merged.obj, cm)
					continue
				}
				others = append(others, c)
			}
			rest["containers"] = others
			r.podSpecWith(sp, rest, []podContainer{merged})
		}
	}
	for _, in := range trainerInitializers {
		if !configured[in.job] || patched[in.job] {
			continue
		}
		ip := p.Child("initializer", in.key)
		r.pod(podLevel{flags: map[string]any{}, flagsAt: ip, scPath: ip}, []podContainer{{
			path: ip, name: in.job, obj: trainerInitializerContainer(in.job), injectedBy: "the TrainJob's runtime",
		}})
	}
}

// withTrainerResources is a pod spec patch with the TrainJob's
// resourcesPerNode on its trainer container ("node"), as Trainer sets
// them on the trainer's jobs (and an MPI runtime's nodes).
func withTrainerResources(ps, spec map[string]any) map[string]any {
	res, ok := dig(spec, "trainer")["resourcesPerNode"].(map[string]any)
	if !ok {
		return ps
	}
	cs, _ := ps["containers"].([]any)
	out := map[string]any{}
	for k, v := range ps {
		out[k] = v
	}
	var merged []any
	for _, c := range cs {
		if cm, ok := c.(map[string]any); ok && containerName(cm, "") == "node" {
			c = mergeMaps(cm, map[string]any{"resources": res})
		}
		merged = append(merged, c)
	}
	out["containers"] = merged
	return out
}

// dig follows keys through nested maps; nil when one is missing.
func dig(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil
		}
		m = next
	}
	return m
}
