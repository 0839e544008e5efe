package validate

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// trainJobWithInitializers configures both initializers; its runtime
// patch secures the node and the dataset initializer, not the model
// initializer.
const trainJobWithInitializers = `apiVersion: trainer.kubeflow.org/v1alpha1
kind: TrainJob
metadata: {name: tune, namespace: ml}
spec:
  runtimeRef: {name: torchtune-llama3.2-1b}
  trainer: {resourcesPerNode: {requests: {cpu: "4"}}}
  initializer:
    dataset: {storageUri: "hf://tatsu-lab/alpaca"}
    model: {storageUri: "hf://meta-llama/Llama-3.2-1B-Instruct"}
  runtimePatches:
  - manager: kiln.dev/render
    trainingRuntimeSpec:
      template:
        spec:
          replicatedJobs:
          - name: node
            template:
              spec:
                template:
                  spec:
                    securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
                    containers:
                    - name: node
                      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
          - name: dataset-initializer
            template:
              spec:
                template:
                  spec:
                    securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
                    containers:
                    - name: dataset-initializer
                      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`

// A TrainJob's initializers run the runtime's containers, which set no
// securityContext and request nothing: restricted refuses the model
// initializer's pod, which no patch secures, and a quota's requests are
// missing from both (the patch sets none).
func TestPodViolationsTrainJobInitializers(t *testing.T) {
	vs := PodViolations([]byte(trainJobWithInitializers), "restricted", Cluster{})
	for _, v := range vs {
		assert.True(t, strings.HasPrefix(v, "spec.initializer.model (model-initializer, added by the TrainJob's runtime): "), v)
	}
	assert.Contains(t, vs, `spec.initializer.model (model-initializer, added by the TrainJob's runtime): allowPrivilegeEscalation != false (container "model-initializer" must set securityContext.allowPrivilegeEscalation=false)`)
	assert.Empty(t, PodViolations([]byte(trainJobWithInitializers), "baseline", Cluster{}))
	assert.Equal(t, []string{
		`spec.initializer.model (model-initializer, added by the TrainJob's runtime): no cpu request`,
		`spec.runtimePatches[0].trainingRuntimeSpec.template.spec.replicatedJobs[1].template.spec.template.spec.containers[0] (dataset-initializer, added by the TrainJob's runtime): no cpu request`,
	}, MissingRequests([]byte(trainJobWithInitializers), []string{"cpu"}, Cluster{}), "the node gets the trainer's resourcesPerNode")
	noResources := strings.Replace(trainJobWithInitializers, "  trainer: {resourcesPerNode: {requests: {cpu: \"4\"}}}\n", "", 1)
	assert.Contains(t, MissingRequests([]byte(noResources), []string{"cpu"}, Cluster{}),
		`spec.runtimePatches[0].trainingRuntimeSpec.template.spec.replicatedJobs[0].template.spec.template.spec.containers[0] (node): no cpu request`)

	// On a namespaced TrainingRuntime, the runtime's pods are checked
	// with the runtime.
	own := strings.Replace(trainJobWithInitializers, "runtimeRef: {name: torchtune-llama3.2-1b}", "runtimeRef: {name: tune-0a1b2c3d, kind: TrainingRuntime}", 1)
	assert.NotEqual(t, trainJobWithInitializers, own)
	assert.Empty(t, PodViolations([]byte(own), "restricted", Cluster{}))

	// Without the model initializer, every pod is one the patch secures.
	datasetOnly := strings.Replace(trainJobWithInitializers, "    model: {storageUri: \"hf://meta-llama/Llama-3.2-1B-Instruct\"}\n", "", 1)
	assert.NotEqual(t, trainJobWithInitializers, datasetOnly)
	assert.Empty(t, PodViolations([]byte(datasetOnly), "restricted", Cluster{}))
}
