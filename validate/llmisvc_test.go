package validate

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

const llmisvc = `apiVersion: serving.kserve.io/v1alpha2
kind: LLMInferenceService
metadata: {name: chat}
spec:
  model: {uri: URI, name: chat}
  template:
    securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
    containers:
    - name: main
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`

// KServe's LLM controller adds a storage-initializer without a security
// context to the pods of a downloaded model, and merges a template init
// container of that name over it.
func TestPodViolationsLLMInferenceService(t *testing.T) {
	doc := func(uri string) []byte { return []byte(strings.Replace(llmisvc, "URI", uri, 1)) }
	vs := PodViolations(doc("hf://org/model"), "restricted", Cluster{})
	assert.NotEmpty(t, matching(vs, "spec.template (storage-initializer, added by KServe's LLMInferenceService controller)", "allowPrivilegeEscalation"))
	assert.Empty(t, matching(vs, "(main)"))
	assert.Empty(t, PodViolations(doc("hf://org/model"), "baseline", Cluster{}))
	assert.Empty(t, PodViolations(doc("pvc://claim/model"), "restricted", Cluster{}), "a PVC is mounted, not downloaded")
	own := strings.Replace(string(doc("s3://b/m")), "    containers:\n", `    initContainers:
    - name: storage-initializer
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
    containers:
`, 1)
	assert.Empty(t, PodViolations([]byte(own), "restricted", Cluster{}))
	// The merged initializer keeps the controller's requests.
	missing := MissingRequests([]byte(own), []string{"cpu"}, Cluster{})
	assert.Empty(t, matching(missing, "storage-initializer"))
	assert.NotEmpty(t, matching(missing, "(main)", "no cpu request"))
}

// The scheduler preset's tokenizer sidecar gets the model too: the
// endpoint picker's pod has a storage-initializer without a security
// context unless spec.router.scheduler.template gives it one. A pvc://
// model is mounted and an existing pool runs no endpoint picker.
func TestPodViolationsLLMInferenceServiceScheduler(t *testing.T) {
	doc := func(uri, router string) []byte {
		return []byte(strings.Replace(llmisvc, "URI", uri, 1) + "  router:\n" + router)
	}
	vs := PodViolations(doc("s3://b/m", "    scheduler: {}\n"), "restricted", Cluster{})
	assert.NotEmpty(t, matching(vs, "spec.router.scheduler.template (storage-initializer, added by KServe's LLMInferenceService controller)", "allowPrivilegeEscalation"))
	assert.Empty(t, matching(vs, "(tokenizer"), "the preset's containers meet restricted")
	sched := "spec.router.scheduler"
	assert.Empty(t, PodViolations(doc("pvc://claim/m", "    scheduler: {}\n"), "restricted", Cluster{}))
	assert.Empty(t, matching(PodViolations(doc("s3://b/m", "    scheduler: {pool: {ref: {name: shared}}}\n"), "restricted", Cluster{}), sched))
	assert.Empty(t, matching(PodViolations(doc("s3://b/m", "    route: {}\n"), "restricted", Cluster{}), sched), "no scheduler, no endpoint picker")
	own := doc("s3://b/m", `    scheduler:
      template:
        initContainers:
        - name: storage-initializer
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
`)
	assert.Empty(t, matching(PodViolations(own, "restricted", Cluster{}), sched))
}
