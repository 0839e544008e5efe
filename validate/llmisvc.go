package validate

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// llmInferenceService models the pods KServe's LLMInferenceService
// controller (v0.20.0) makes from spec.template and spec.worker, and the
// scheduler's endpoint picker.
//
// For the workload it adds a storage-initializer init container (its
// storage configuration: requests 100m CPU and 100Mi memory, no
// securityContext; utils/storage.go:311-333) for every model URI but
// pvc://, which it mounts, and merges a template init container of that
// name over it (llmisvc/workload_storage.go:396-446). The vLLM container
// ("main") comes from its LLMInferenceServiceConfig templates, whose
// security contexts meet restricted; the data-parallel worker template,
// which adds IPC_LOCK and SYS_RAWIO, is not modelled (kiln does not
// render data parallelism across nodes).
//
// With spec.router.scheduler (and no pool.ref) it runs the endpoint
// picker from the kserve-config-llm-scheduler preset: containers "main"
// and "tokenizer", each with a restricted securityContext, and no pod
// securityContext. Because the preset has a tokenizer sidecar, the
// controller attaches the model to it as to the workload
// (llmisvc/scheduler.go:424-461): the same storage-initializer for a
// downloaded model, merged with an init container of that name in
// spec.router.scheduler.template.
func (r *restrictedChecker) llmInferenceService(p *field.Path, spec map[string]any) {
	model, _ := spec["model"].(map[string]any)
	uri, _ := model["uri"].(string)
	downloads := uri != "" && !strings.HasPrefix(uri, "pvc://")
	for _, key := range []string{"template", "worker"} {
		ps, ok := spec[key].(map[string]any)
		if !ok {
			continue
		}
		pp := p.Child(key)
		var containers []podContainer
		for _, k := range []string{"initContainers", "containers"} {
			containers = append(containers, listContainers(pp.Child(k), ps[k])...)
		}
		r.llmPod(pp, ps, containers, downloads)
	}
	router, _ := spec["router"].(map[string]any)
	sched, ok := router["scheduler"].(map[string]any)
	if !ok || poolRef(sched) {
		return
	}
	pp := p.Child("router", "scheduler", "template")
	ps, _ := sched["template"].(map[string]any)
	containers := listContainers(pp.Child("initContainers"), ps["initContainers"])
	own := listContainers(pp.Child("containers"), ps["containers"])
	for _, name := range []string{"main", "tokenizer"} {
		c := podContainer{path: pp, name: name, obj: map[string]any{"name": name, "securityContext": schedulerPresetSC()}, injectedBy: "KServe's scheduler preset"}
		for i, o := range own {
			if o.name == name {
				c.obj = mergeMaps(c.obj, o.obj)
				own = append(own[:i], own[i+1:]...)
				break
			}
		}
		containers = append(containers, c)
	}
	r.llmPod(pp, ps, append(containers, own...), downloads)
}

// llmPod checks one pod of an LLMInferenceService, with the
// storage-initializer the controller adds for a downloaded model.
func (r *restrictedChecker) llmPod(pp *field.Path, ps map[string]any, containers []podContainer, downloads bool) {
	if downloads {
		base := map[string]any{
			"name":      "storage-initializer",
			"resources": map[string]any{"requests": quantities("cpu", "100m", "memory", "100Mi"), "limits": quantities("cpu", "1", "memory", "1Gi")},
		}
		found := false
		for i, c := range containers {
			if c.name == "storage-initializer" {
				containers[i].obj = mergeMaps(base, c.obj)
				found = true
			}
		}
		if !found {
			containers = append([]podContainer{{path: pp, name: "storage-initializer", obj: base, injectedBy: "KServe's LLMInferenceService controller"}}, containers...)
		}
	}
	vols, _ := ps["volumes"].([]any)
	sc, _ := ps["securityContext"].(map[string]any)
	r.pod(podLevel{
		sc: sc, scPath: pp.Child("securityContext"), flags: ps, flagsAt: pp, volumes: vols,
		volPath: func(i int) *field.Path { return pp.Child("volumes").Index(i) },
	}, containers)
}

// schedulerPresetSC is the securityContext the kserve-config-llm-scheduler
// preset (v0.20.0, config/llmisvcconfig/config-llm-scheduler.yaml:97-105,
// 151-159) gives both its containers.
func schedulerPresetSC() map[string]any {
	return map[string]any{
		"allowPrivilegeEscalation": false,
		"readOnlyRootFilesystem":   true,
		"runAsNonRoot":             true,
		"capabilities":             map[string]any{"drop": []any{"ALL"}},
		"seccompProfile":           map[string]any{"type": "RuntimeDefault"},
	}
}

// poolRef reports whether a scheduler names an existing InferencePool,
// in which case the controller runs no endpoint picker.
func poolRef(sched map[string]any) bool {
	pool, _ := sched["pool"].(map[string]any)
	ref, _ := pool["ref"].(map[string]any)
	name, _ := ref["name"].(string)
	return name != ""
}
