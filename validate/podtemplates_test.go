package validate

import (
	"strings"
	"testing"
)

// A Trainer runtime's pods mount the claims JobSet adds from its
// volumeClaimPolicies; a mount of any other name is still dangling.
func TestEmbeddedPodTemplatesSeeJobSetClaims(t *testing.T) {
	runtime := func(mount string) map[string]any {
		return map[string]any{
			"apiVersion": "trainer.kubeflow.org/v1alpha1",
			"kind":       "TrainingRuntime",
			"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
				"volumeClaimPolicies": []any{map[string]any{"templates": []any{
					map[string]any{"metadata": map[string]any{"name": "initializer"}},
				}}},
				"replicatedJobs": []any{map[string]any{"name": "node", "template": map[string]any{"spec": map[string]any{
					"template": map[string]any{"spec": map[string]any{
						"restartPolicy": "Never",
						"containers": []any{map[string]any{
							"name": "node", "image": "trainer:1",
							"terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent",
							"volumeMounts": []any{map[string]any{"name": mount, "mountPath": "/workspace"}},
						}},
					}},
				}}}},
			}}},
		}
	}
	if errs := embeddedPodErrors(runtime("initializer")); len(errs) != 0 {
		t.Errorf("a mount of the JobSet claim: %v", errs)
	}
	errs := embeddedPodErrors(runtime("scratch"))
	if len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), `Not found: "scratch"`) {
		t.Errorf("a mount of no volume: want a Not found error, got %v", errs)
	}
}
