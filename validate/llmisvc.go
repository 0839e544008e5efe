package validate

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// llmInferenceService models the pods KServe's LLMInferenceService
// controller (v0.20.0) makes from spec.template and spec.worker. It adds
// a storage-initializer init container (its storage configuration:
// requests 100m CPU and 100Mi memory, no securityContext) for every
// model URI but pvc://, which it mounts, and merges a template init
// container of that name over it (workload_storage.go). The vLLM
// container ("main") and the scheduler's endpoint picker come from its
// LLMInferenceServiceConfig templates, whose security contexts meet
// restricted; the data-parallel worker template, which adds IPC_LOCK and
// SYS_RAWIO, is not modelled (kiln does not render data parallelism
// across nodes).
func (r *restrictedChecker) llmInferenceService(p *field.Path, spec map[string]any) {
	model, _ := spec["model"].(map[string]any)
	uri, _ := model["uri"].(string)
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
		if uri != "" && !strings.HasPrefix(uri, "pvc://") {
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
}
