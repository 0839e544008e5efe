package bench

import (
	"fmt"
	"strings"
)

// The peers `make bench` compares kiln with get the same N models as
// SystemSpec, written the way their users would write them, each model as
// five objects: the training job (a PyTorchJob with GPUs), a pipeline
// WorkflowTemplate whose step applies that job, a sweep WorkflowTemplate,
// and the stable and canary InferenceServices. kiln emits more per model
// (the sweep's ConfigMap, its routing, its platform objects) and checks
// them all; the table says how many objects each wrote.

// PeerObjectsPerModel is how many objects the CUE package and the Helm
// chart write for each model.
const PeerObjectsPerModel = 5

// CUEPackage is a CUE package whose `cue export` prints the peer objects
// of n models as one YAML document (a map from object key to object).
func CUEPackage(n int) string {
	var s strings.Builder
	s.WriteString(`package peer

#Model: {
	name:    string
	workers: int
	gpus:    int
	epochs:  int
	uri:     string
	canary:  string
}

#Job: {
	m: #Model
	out: {
		apiVersion: "kubeflow.org/v1"
		kind:       "PyTorchJob"
		metadata: {name: m.name, namespace: "synth-ml", labels: {"app.kubernetes.io/name": m.name, "app.kubernetes.io/part-of": "synth"}}
		spec: pytorchReplicaSpecs: {
			for role, count in {Master: 1, Worker: m.workers} {
				(role): {
					replicas:      count
					restartPolicy: "OnFailure"
					template: spec: containers: [{
						name:    "pytorch"
						image:   "registry.example/trainer:1.0"
						command: ["torchrun", "train.py"]
						args: ["--lr", "0.001", "--batch", "64", "--epochs", "\(m.epochs)"]
						resources: {
							requests: {cpu: "4", memory: "16Gi", "nvidia.com/gpu": m.gpus}
							limits: {memory: "16Gi", "nvidia.com/gpu": m.gpus}
						}
						securityContext: {allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: drop: ["ALL"]}
					}]
				}
			}
		}
	}
}

models: [string]: #Model
objects: {
	for k, m in models {
		let job = (#Job & {"m": m}).out
		"pytorchjob-\(k)": job
		"workflowtemplate-retrain-\(k)": {
			apiVersion: "argoproj.io/v1alpha1"
			kind:       "WorkflowTemplate"
			metadata: {name: "retrain-\(k)", namespace: "synth-ml"}
			spec: {
				entrypoint: "main"
				templates: [
					{name: "main", dag: tasks: [
						{name: "prep", template: "prep"},
						{name: "train", template: "train", depends: "prep"},
					]},
					{name: "prep", container: {image: "registry.example/tools:1.0", command: ["prep", "--model", k], resources: requests: {cpu: "1", memory: "2Gi"}}},
					{name: "train", resource: {action: "apply", setOwnerReference: true, successCondition: "status.completionTime", manifest: yaml.Marshal(job)}},
				]
			}
		}
		"workflowtemplate-tune-\(k)": {
			apiVersion: "argoproj.io/v1alpha1"
			kind:       "WorkflowTemplate"
			metadata: {name: "tune-\(k)", namespace: "synth-ml"}
			spec: {
				entrypoint: "sweep"
				arguments: parameters: [{name: "maxTrials", value: "8"}, {name: "parallel", value: "2"}]
				templates: [
					{name: "sweep", steps: [[{name: "trial", template: "trial", withSequence: count: "8"}]]},
					{name: "trial", resource: {action: "apply", setOwnerReference: true, successCondition: "status.completionTime", manifest: yaml.Marshal(job)}},
				]
			}
		}
		for v, uri in {"": m.uri, "-canary": m.canary} {
			"inferenceservice-\(k)\(v)": {
				apiVersion: "serving.kserve.io/v1beta1"
				kind:       "InferenceService"
				metadata: {name: "\(k)\(v)", namespace: "synth-ml"}
				spec: predictor: {
					minReplicas: 1
					maxReplicas: 3
					model: {
						modelFormat: name: "pytorch"
						storageUri: uri
						resources: {requests: {cpu: "2", memory: "8Gi", "nvidia.com/gpu": 1}, limits: {memory: "8Gi", "nvidia.com/gpu": 1}}
					}
				}
			}
		}
	}
}
`)
	s.WriteString("\nmodels: {\n")
	for i := range n {
		fmt.Fprintf(&s, "\t\"model-%d\": {name: \"job-%d\", workers: %d, gpus: %d, epochs: %d, uri: \"s3://models/m%d/v1\", canary: \"s3://models/m%d/v2\"}\n",
			i, i, 2+i%3, 1+i%2, 10+i%7, i, i)
	}
	s.WriteString("}\n")
	return strings.Replace(s.String(), "package peer\n", "package peer\n\nimport \"encoding/yaml\"\n", 1)
}

// HelmChart is a Helm chart (file name → content) whose `helm template`
// prints the peer objects of n models.
func HelmChart(n int) map[string]string {
	var v strings.Builder
	v.WriteString("models:\n")
	for i := range n {
		fmt.Fprintf(&v, "- {key: model-%d, name: job-%d, workers: %d, gpus: %d, epochs: %d, uri: \"s3://models/m%d/v1\", canary: \"s3://models/m%d/v2\"}\n",
			i, i, 2+i%3, 1+i%2, 10+i%7, i, i)
	}
	return map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: synth\nversion: 0.1.0\n",
		"values.yaml": v.String(),
		"templates/_job.tpl": `{{- define "synth.job" -}}
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata:
  name: {{ .name }}
  namespace: synth-ml
  labels:
    app.kubernetes.io/name: {{ .name }}
    app.kubernetes.io/part-of: synth
spec:
  pytorchReplicaSpecs:
{{- range $role, $count := dict "Master" 1 "Worker" .workers }}
    {{ $role }}:
      replicas: {{ $count }}
      restartPolicy: OnFailure
      template:
        spec:
          containers:
          - name: pytorch
            image: registry.example/trainer:1.0
            command: [torchrun, train.py]
            args: ["--lr", "0.001", "--batch", "64", "--epochs", "{{ $.epochs }}"]
            resources:
              requests: {cpu: "4", memory: 16Gi, nvidia.com/gpu: {{ $.gpus }}}
              limits: {memory: 16Gi, nvidia.com/gpu: {{ $.gpus }}}
            securityContext:
              allowPrivilegeEscalation: false
              runAsNonRoot: true
              capabilities: {drop: [ALL]}
{{- end }}
{{- end -}}
`,
		"templates/models.yaml": `{{- range .Values.models }}
---
{{ include "synth.job" . }}
---
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: retrain-{{ .key }}
  namespace: synth-ml
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: prep, template: prep}
      - {name: train, template: train, depends: prep}
  - name: prep
    container:
      image: registry.example/tools:1.0
      command: [prep, --model, {{ .key | quote }}]
      resources: {requests: {cpu: "1", memory: 2Gi}}
  - name: train
    resource:
      action: apply
      setOwnerReference: true
      successCondition: status.completionTime
      manifest: |
{{ include "synth.job" . | indent 8 }}
---
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: tune-{{ .key }}
  namespace: synth-ml
spec:
  entrypoint: sweep
  arguments:
    parameters: [{name: maxTrials, value: "8"}, {name: parallel, value: "2"}]
  templates:
  - name: sweep
    steps:
    - - {name: trial, template: trial, withSequence: {count: "8"}}
  - name: trial
    resource:
      action: apply
      setOwnerReference: true
      successCondition: status.completionTime
      manifest: |
{{ include "synth.job" . | indent 8 }}
{{- $m := . }}
{{- range $suffix, $uri := dict "" .uri "-canary" .canary }}
---
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: {{ $m.key }}{{ $suffix }}
  namespace: synth-ml
spec:
  predictor:
    minReplicas: 1
    maxReplicas: 3
    model:
      modelFormat: {name: pytorch}
      storageUri: {{ $uri }}
      resources:
        requests: {cpu: "2", memory: 8Gi, nvidia.com/gpu: 1}
        limits: {memory: 8Gi, nvidia.com/gpu: 1}
{{- end }}
{{- end }}
`,
	}
}
