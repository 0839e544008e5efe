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

// A Katib Experiment's trial may be a TrainJob, whose runtime patches
// patch the runtime's pods (a container with no image): left out there
// as at the top level. A trial that is a pod-template job is checked.
func TestEmbeddedTrainJobTrialLeftOut(t *testing.T) {
	experiment := func(trial map[string]any) map[string]any {
		return map[string]any{
			"apiVersion": "kubeflow.org/v1beta1",
			"kind":       "Experiment",
			"spec":       map[string]any{"trialTemplate": map[string]any{"trialSpec": trial}},
		}
	}
	trainJob := map[string]any{
		"apiVersion": "trainer.kubeflow.org/v1alpha1",
		"kind":       "TrainJob",
		"spec": map[string]any{"runtimePatches": []any{map[string]any{"trainingRuntimeSpec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"replicatedJobs": []any{map[string]any{"name": "node", "template": map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
				"containers": []any{map[string]any{"name": "node", "resources": map[string]any{"limits": map[string]any{"cpu": "4"}}}},
			}}}}}},
		}}}}}},
	}
	if errs := embeddedPodErrors(experiment(trainJob)); len(errs) != 0 {
		t.Errorf("a TrainJob trial's runtime patch: %v", errs)
	}
	job := map[string]any{
		"apiVersion": "batch/v1",
		"kind":       "Job",
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"restartPolicy": "Never",
			"containers":    []any{map[string]any{"name": "trial"}},
		}}},
	}
	errs := embeddedPodErrors(experiment(job))
	if len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), "image: Required value") {
		t.Errorf("a Job trial without an image: want a Required error, got %v", errs)
	}
}
