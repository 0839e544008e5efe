package validate

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// matching returns the lines of vs that contain every one of subs.
func matching(vs []string, subs ...string) []string {
	var out []string
	for _, v := range vs {
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(v, s)
		}
		if ok {
			out = append(out, v)
		}
	}
	return out
}

const argoWorkflow = `apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: w}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  templates:
  - name: step
    container:
      image: tools
      resources: {requests: {cpu: "1", memory: 1Gi}}
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
  - name: job
    resource: {action: create, manifest: "{}"}
`

// Argo's executor containers as the controller builds them by default
// break restricted in container steps (not in resource steps, which Argo
// locks down) and request nothing; a podSpecPatch fixes both.
func TestPodViolationsArgoExecutors(t *testing.T) {
	vs := PodViolations([]byte(argoWorkflow), "restricted", Cluster{})
	assert.Len(t, matching(vs, "spec.templates[0] (init, added by Argo)", "allowPrivilegeEscalation"), 1)
	assert.Len(t, matching(vs, "spec.templates[0] (wait, added by Argo)", `capabilities.drop=["ALL"]`), 1)
	assert.Empty(t, matching(vs, "spec.templates[1]"), "resource templates get MinimalCtrSC")
	assert.Empty(t, matching(vs, "(main)"), "the step's own container is restricted")
	assert.Empty(t, PodViolations([]byte(argoWorkflow), "baseline", Cluster{}))
	assert.Empty(t, RestrictedViolations([]byte(argoWorkflow)), "the written containers alone pass")

	req := MissingRequests([]byte(argoWorkflow), []string{"cpu", "memory"}, Cluster{})
	assert.Len(t, matching(req, "(init, added by Argo)"), 4, "init of both pods, cpu and memory")
	assert.Len(t, matching(req, "spec.templates[0] (wait, added by Argo)"), 2)
	assert.Len(t, matching(req, "spec.templates[1] (main, added by Argo)"), 2, "a resource step's argoexec main")
	assert.Empty(t, matching(req, "(main)"))

	patched := strings.Replace(argoWorkflow, "  templates:\n", `  podSpecPatch: |
    initContainers:
    - name: init
      resources: {requests: {cpu: 100m, memory: 64Mi}}
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  templates:
`, 1)
	patched = strings.Replace(patched, "  - name: job\n", `    podSpecPatch: '{"containers":[{"name":"wait","resources":{"requests":{"cpu":"100m","memory":"64Mi"}},"securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}'
  - name: job
    podSpecPatch: '{"containers":[{"name":"main","resources":{"requests":{"cpu":"100m","memory":"64Mi"}}}]}'
`, 1)
	assert.Empty(t, PodViolations([]byte(patched), "restricted", Cluster{}))
	assert.Empty(t, MissingRequests([]byte(patched), []string{"cpu", "memory"}, Cluster{}))

	bad := strings.Replace(argoWorkflow, "  templates:\n", "  podSpecPatch: 'containers: 3'\n  templates:\n", 1)
	assert.Len(t, matching(PodViolations([]byte(bad), "restricted", Cluster{}), "spec.templates[0].podSpecPatch", "cannot apply"), 1)
}

const kserve = `apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: m}
spec:
  predictor:
    securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
    model:
      modelFormat: {name: sklearn}
      storageUri: URI
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`

func TestPodViolationsKServeStorageInitializer(t *testing.T) {
	doc := func(uri string) []byte { return []byte(strings.Replace(kserve, "URI", uri, 1)) }
	vs := PodViolations(doc("s3://bucket/model"), "restricted", Cluster{})
	assert.Len(t, matching(vs, "spec.predictor (storage-initializer, added by KServe)", "allowPrivilegeEscalation"), 1)
	assert.Empty(t, PodViolations(doc("s3://bucket/model"), "baseline", Cluster{}))
	assert.Empty(t, PodViolations(doc("pvc://claim/model"), "restricted", Cluster{}), "a PVC is mounted, not downloaded")
	sc := map[string]any{"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}}}
	assert.Empty(t, PodViolations(doc("gs://bucket/model"), "restricted", Cluster{KServeStorageSecurityContext: sc}))
	// An initializer the object writes itself is the one that runs.
	own := strings.Replace(string(doc("s3://b/m")), "    model:\n", `    initContainers:
    - name: storage-initializer
      image: kserve/storage-initializer
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
    model:
`, 1)
	assert.Empty(t, PodViolations([]byte(own), "restricted", Cluster{}))
}

const seldon = `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: s}
spec:
  predictors:
  - name: default
    graph: {name: model, implementation: SKLEARN_SERVER, modelUri: s3://b/m, type: MODEL}
    componentSpecs:
    - spec:
        securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
        containers:
        - name: model
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`

// Seldon's executor and model initializer cannot meet restricted; they
// meet baseline, which kiln then enforces.
func TestPodViolationsSeldon(t *testing.T) {
	vs := PodViolations([]byte(seldon), "restricted", Cluster{})
	assert.Len(t, matching(vs, "(seldon-container-engine, added by Seldon)", `capabilities.drop=["ALL"]`), 1)
	assert.Len(t, matching(vs, "(model-model-initializer, added by Seldon)", "allowPrivilegeEscalation"), 1)
	assert.Empty(t, matching(vs, "(model)"))
	assert.Empty(t, PodViolations([]byte(seldon), "baseline", Cluster{}))
	assert.Empty(t, RestrictedViolations([]byte(seldon)))
}

const katib = `apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: k}
spec:
  algorithm: {algorithmName: random}
  metricsCollectorSpec: {collector: {kind: StdOut}}
  trialTemplate:
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
            containers:
            - name: training-container
              securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`

func TestPodViolationsKatib(t *testing.T) {
	vs := PodViolations([]byte(katib), "restricted", Cluster{})
	assert.Len(t, matching(vs, "(metrics-logger-and-collector, added by Katib)", `capabilities.drop=["ALL"]`), 1)
	assert.Len(t, matching(vs, "spec.algorithm (suggestion, added by Katib)", "runAsNonRoot"), 1)
	assert.Empty(t, matching(vs, "early-stopping"))
	assert.Empty(t, PodViolations([]byte(katib), "baseline", Cluster{}))

	restricted := map[string]any{"runAsNonRoot": true, "allowPrivilegeEscalation": false,
		"capabilities": map[string]any{"drop": []any{"ALL"}}, "seccompProfile": map[string]any{"type": "RuntimeDefault"}}
	configured := Cluster{KatibInjectSecurityContext: true, KatibSuggestionSecurityContext: restricted}
	assert.Empty(t, PodViolations([]byte(katib), "restricted", configured))

	// Early stopping adds a container no setting secures.
	early := strings.Replace(katib, "  trialTemplate:", "  earlyStopping: {algorithmName: medianstop}\n  trialTemplate:", 1)
	assert.Len(t, matching(PodViolations([]byte(early), "restricted", configured), "(early-stopping, added by Katib)", "allowPrivilegeEscalation"), 1)
	assert.Empty(t, PodViolations([]byte(early), "baseline", configured))

	none := strings.Replace(katib, "kind: StdOut", "kind: None", 1)
	assert.Empty(t, matching(PodViolations([]byte(none), "restricted", Cluster{}), "metrics-logger"))
}

// Baseline still rejects what it covers.
func TestPodViolationsBaseline(t *testing.T) {
	doc := `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostNetwork: true
  volumes: [{name: h, hostPath: {path: /}}, {name: n, nfs: {server: x, path: /}}]
  containers:
  - name: c
    securityContext: {privileged: true, capabilities: {add: [SYS_ADMIN, CHOWN]}, seccompProfile: {type: Unconfined}}
    ports: [{containerPort: 80, hostPort: 80}]
`
	vs := PodViolations([]byte(doc), "baseline", Cluster{})
	for _, want := range []string{"hostNetwork", "hostPath", "privileged", "SYS_ADMIN", "Unconfined", "hostPort"} {
		assert.Len(t, matching(vs, want), 1, want)
	}
	assert.Empty(t, matching(vs, "CHOWN"))
	assert.Empty(t, matching(vs, "nfs"), "baseline allows any volume but hostPath")
	assert.Empty(t, matching(vs, "allowPrivilegeEscalation"))
	assert.Nil(t, PodViolations([]byte(doc), "privileged", Cluster{}))
}

// A component that names a ClusterStorageContainer gets that container
// merged over KServe's initializer; naming one that does not exist makes
// KServe refuse the pod.
func TestPodViolationsKServeStorageContainerName(t *testing.T) {
	doc := []byte(strings.Replace(strings.Replace(kserve, "URI", "s3://b/m", 1),
		"    model:\n", "    storageContainerName: kiln-ns\n    model:\n", 1))
	csc := []byte(`apiVersion: serving.kserve.io/v1alpha1
kind: ClusterStorageContainer
metadata: {name: kiln-ns}
spec:
  container:
    name: storage-initializer
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
  supportedUriFormats: [{prefix: "s3://b/"}]
`)
	assert.Empty(t, PodViolations(doc, "restricted", Cluster{}.WithObjects(csc)))
	assert.Len(t, matching(PodViolations(doc, "restricted", Cluster{}), "storageContainerName", "no ClusterStorageContainer"), 1)
	loose := []byte(strings.Replace(string(csc), "securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}", "resources: {}", 1))
	assert.Len(t, matching(PodViolations(doc, "restricted", Cluster{}.WithObjects(loose)), "storage-initializer", "allowPrivilegeEscalation"), 1)
}

const pytorchMasterJob = `apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: resnet}
spec:
  pytorchReplicaSpecs:
    Master:
      replicas: 1
      template:
        spec:
          securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
          containers:
          - name: pytorch
            image: trainer
            resources: {requests: {cpu: "1", memory: 1Gi}}
            securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
    Worker:
      replicas: 3
      template:
        spec:
          securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
          containers:
          - name: pytorch
            image: trainer
            resources: {requests: {cpu: "1", memory: 1Gi}}
            securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`

// The training operator adds init-pytorch, with no securityContext, to
// the Worker pods of a PyTorchJob with a Master: restricted refuses those
// pods although every container the job writes is restricted. Baseline
// admits them; a job without a Master (elastic) gets no init container;
// an operator template that secures it passes.
func TestPodViolationsPyTorchInitContainer(t *testing.T) {
	assert.Empty(t, RestrictedViolations([]byte(pytorchMasterJob)), "the written containers alone pass")
	vs := PodViolations([]byte(pytorchMasterJob), "restricted", Cluster{})
	assert.Equal(t, []string{
		`spec.pytorchReplicaSpecs.Worker.template.spec (init-pytorch, added by the training operator): allowPrivilegeEscalation != false (container "init-pytorch" must set securityContext.allowPrivilegeEscalation=false)`,
		`spec.pytorchReplicaSpecs.Worker.template.spec (init-pytorch, added by the training operator): unrestricted capabilities (container "init-pytorch" must set securityContext.capabilities.drop=["ALL"])`,
	}, vs)
	assert.Empty(t, PodViolations([]byte(pytorchMasterJob), "baseline", Cluster{}))
	assert.Empty(t, MissingRequests([]byte(pytorchMasterJob), []string{"cpu", "memory"}, Cluster{}), "init-pytorch requests both")

	workersOnly := strings.Replace(pytorchMasterJob, "    Master:\n", "    Launcher:\n", 1)
	assert.Empty(t, PodViolations([]byte(workersOnly), "restricted", Cluster{}), "no Master, no init container")

	secured := Cluster{PyTorchInitContainerSecurityContext: map[string]any{
		"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}},
	}}
	assert.Empty(t, PodViolations([]byte(pytorchMasterJob), "restricted", secured))
}
