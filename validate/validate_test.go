package validate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The real upstream CRDs are loaded once per test binary: it takes a second or
// two and a few hundred MB.
var (
	loadOnce   sync.Once
	loaded     *Validator
	loadErr    error
	crdDir     string
	crdDirOK   bool
	loadedFrom string
)

func realValidator(t *testing.T) *Validator {
	t.Helper()
	loadOnce.Do(func() {
		crdDir, crdDirOK = FindCRDDir(".")
		if crdDirOK {
			loaded, loadErr = Load(crdDir)
			loadedFrom = crdDir
		}
	})
	if !crdDirOK {
		t.Skipf("upstream CRDs not found (looked for ../shared/crds next to the module root, or $KILN_TEST_CRDS=%q): skipping", os.Getenv("KILN_TEST_CRDS"))
	}
	require.NoError(t, loadErr, "loading CRDs from %s", loadedFrom)
	return loaded
}

// expectation for one object: no problems, or each listed substring found in
// exactly one problem (and at least one problem). Exactly one, so that an
// oracle cannot pass on a problem other than the one the case is about.
type validateCase struct {
	name string
	doc  string
	// want are substrings that must each appear in exactly one of the
	// problems; empty means the object must be accepted.
	want []string
}

func runValidateCases(t *testing.T, v *Validator, cases []validateCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := v.Validate([]byte(tc.doc))
			if len(tc.want) == 0 {
				assert.Empty(t, got, "object should be accepted")
				return
			}
			require.NotEmpty(t, got, "object should be rejected")
			assert.IsIncreasing(t, got, "problems are sorted")
			for _, w := range tc.want {
				assert.Equal(t, 1, countSubstring(got, w), "want one problem containing %q, got:\n%s", w, strings.Join(got, "\n"))
			}
		})
	}
}

// edit replaces the first old in doc by new; old must occur, so that a test
// case cannot silently check the unedited object.
func edit(doc, old, new string) string {
	if !strings.Contains(doc, old) {
		panic(fmt.Sprintf("edit: %q not found in test object", old))
	}
	return strings.Replace(doc, old, new, 1)
}

func countSubstring(list []string, sub string) int {
	n := 0
	for _, s := range list {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

const pytorchJob = `
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata:
  name: skin-lesion-train
  namespace: ml
  labels:
    app.kubernetes.io/managed-by: kiln
spec:
  runPolicy:
    cleanPodPolicy: None
    backoffLimit: 3
  pytorchReplicaSpecs:
    Master:
      replicas: 1
      restartPolicy: OnFailure
      template:
        metadata:
          labels:
            app: train
        spec:
          containers:
          - name: pytorch
            image: ghcr.io/example/train:1.0
            args: ["--epochs", "10"]
            resources:
              limits:
                nvidia.com/gpu: 1
                memory: 8Gi
    Worker:
      replicas: 2
      restartPolicy: OnFailure
      template:
        spec:
          containers:
          - name: pytorch
            image: ghcr.io/example/train:1.0
`

func TestValidateCustomResources(t *testing.T) {
	v := realValidator(t)
	runValidateCases(t, v, []validateCase{
		{name: "PyTorchJob valid", doc: pytorchJob},
		{
			name: "PyTorchJob unknown field",
			doc:  edit(pytorchJob, "      replicas: 2\n", "      replicas: 2\n      replica: 2\n"),
			want: []string{"spec.pytorchReplicaSpecs.Worker.replica: unknown field"},
		},
		{
			name: "PyTorchJob wrong type",
			doc:  edit(pytorchJob, "replicas: 2", `replicas: "two"`),
			want: []string{"spec.pytorchReplicaSpecs.Worker.replicas: Invalid value: \"string\"", "must be of type integer"},
		},
		{
			name: "PyTorchJob unknown field in pod template",
			doc:  edit(pytorchJob, "            args:", "            argz:"),
			want: []string{"spec.pytorchReplicaSpecs.Master.template.spec.containers[0].argz: unknown field"},
		},
		{
			// The CRD accepts any string; the pod the operator creates
			// from the template is refused.
			name: "PyTorchJob pod template the API server refuses as a Pod",
			doc:  edit(edit(pytorchJob, "          - name: pytorch\n            image: ghcr.io/example/train:1.0\n            args:", "          - name: PyTorch\n            image: ghcr.io/example/train:1.0\n            args:"), "            app: train", "            app: \"train me\""),
			want: []string{
				"spec.pytorchReplicaSpecs.Master.template.metadata.labels: Invalid value: \"train me\"",
				"spec.pytorchReplicaSpecs.Master.template.spec.containers[0].name: Invalid value: \"PyTorch\"",
			},
		},
		{
			name: "PyTorchJob without namespace",
			doc:  edit(pytorchJob, "  namespace: ml\n", ""),
			want: []string{"metadata.namespace: Required value"},
		},
		{
			name: "PyTorchJob with invalid name",
			doc:  edit(pytorchJob, "name: skin-lesion-train", "name: Skin_Lesion"),
			want: []string{"metadata.name: Invalid value: \"Skin_Lesion\""},
		},
		{
			name: "PyTorchJob with generateName only",
			doc:  edit(pytorchJob, "name: skin-lesion-train", "generateName: skin-lesion-train-"),
		},
		{
			name: "PyTorchJob unknown metadata field",
			doc:  edit(pytorchJob, "  namespace: ml\n", "  namespace: ml\n  labelz: {}\n"),
			want: []string{"metadata.labelz: unknown field"},
		},
		{name: "WorkflowTemplate valid", doc: workflowTemplate},
		{
			name: "WorkflowTemplate unknown field",
			doc:  edit(workflowTemplate, "      image: ghcr.io/example/prep:1.0", "      image: ghcr.io/example/prep:1.0\n      imagePolicy: Always"),
			want: []string{"spec.templates[1].container.imagePolicy: unknown field"},
		},
		{
			name: "WorkflowTemplate unquoted number parameter",
			doc:  edit(workflowTemplate, `value: "10"`, `value: 10`),
			want: []string{"spec.arguments.parameters[0].value: Invalid value: \"integer\""},
		},
		{
			// Argo's own validator: the CRD schema cannot see that a DAG
			// task depends on a task that does not exist.
			name: "WorkflowTemplate dependency on a missing task (argo lint)",
			doc:  edit(workflowTemplate, "dependencies: [prep]", "dependencies: [prepare]"),
			want: []string{"argo: ", "prepare"},
		},
		{
			name: "WorkflowTemplate reference to a missing template (argo lint)",
			doc:  edit(workflowTemplate, "        template: prep\n", "        template: preprocess\n"),
			want: []string{"argo: ", "preprocess"},
		},
		{
			name: "CronWorkflow malformed schedule (argo lint)",
			doc: `
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata:
  name: retrain
  namespace: ml
spec:
  schedules: ["0 3 * * mon-fri-sun"]
  workflowSpec:
    entrypoint: main
    templates:
    - name: main
      container:
        image: busybox:1.36
`,
			want: []string{"argo: ", "cron schedule"},
		},
		{name: "InferenceService valid", doc: inferenceService},
		{
			name: "InferenceService unknown field",
			doc:  edit(inferenceService, "      storageUri:", "      storageURI:"),
			want: []string{"spec.predictor.model.storageURI: unknown field"},
		},
		{name: "Notebook valid", doc: notebook},
		{
			name: "Notebook without container image (validation patch)",
			doc:  edit(notebook, "          image: kubeflownotebookswg/jupyter-scipy:v1.9.0\n", ""),
			want: []string{"spec.template.spec.containers[0].image: Required value"},
		},
		{
			name: "Notebook without containers (validation patch)",
			doc: `
apiVersion: kubeflow.org/v1
kind: Notebook
metadata: {name: nb, namespace: ml}
spec:
  template:
    spec:
      containers: []
`,
			want: []string{"spec.template.spec.containers: Invalid value: 0: spec.template.spec.containers in body should have at least 1 items"},
		},
		{name: "VirtualService valid", doc: virtualService},
		{
			name: "VirtualService CEL rule",
			doc:  edit(virtualService, "timeout: 30s", "timeout: 0s"),
			want: []string{"spec.http[0].timeout: Invalid value: \"0s\": must be a valid duration greater than 1ms"},
		},
		{name: "ServiceEntry valid (integer CEL rule)", doc: serviceEntry},
		{
			name: "ServiceEntry port out of range (integer CEL rule)",
			doc:  edit(serviceEntry, "number: 443", "number: 70000"),
			want: []string{"spec.ports[0].number"},
		},
		{name: "Application valid", doc: argoCDApplication},
		{
			name: "Application unknown field",
			doc:  edit(argoCDApplication, "      selfHeal: true", "      selfHeal: true\n      selfHealing: true"),
			want: []string{"spec.syncPolicy.automated.selfHealing: unknown field"},
		},
		{
			name: "LocalQueue valid",
			doc: `
apiVersion: kueue.x-k8s.io/v1beta1
kind: LocalQueue
metadata: {name: ml-queue, namespace: ml}
spec: {clusterQueue: gpu-cluster-queue}
`,
		},
		{
			name: "ClusterQueue must not have a namespace",
			doc: `
apiVersion: kueue.x-k8s.io/v1beta1
kind: ClusterQueue
metadata: {name: gpu-cluster-queue, namespace: ml}
spec:
  namespaceSelector: {}
`,
			want: []string{"metadata.namespace: Forbidden: not allowed on this type"},
		},
		{
			name: "Katib Experiment is schemaless: only metadata is checked",
			doc: `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: tune, namespace: ml}
spec: {anything: [1, 2, 3]}
`,
		},
		{
			name: "unknown kind",
			doc:  "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
			want: []string{"no CRD or built-in type for example.com/v1, Kind=Widget"},
		},
		{
			name: "unserved version",
			doc:  edit(pytorchJob, "kubeflow.org/v1", "kubeflow.org/v2"),
			want: []string{"no CRD or built-in type for kubeflow.org/v2, Kind=PyTorchJob"},
		},
	})
}

func TestValidateUnknownKindMessage(t *testing.T) {
	v := realValidator(t)
	assert.Equal(t, []string{"no CRD or built-in type for example.com/v1, Kind=Widget"},
		v.Validate([]byte("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")))
}

func TestValidateProblemsStartWithFieldPath(t *testing.T) {
	v := realValidator(t)
	doc := edit(pytorchJob, "replicas: 2", `replicas: "two"`)
	doc = edit(doc, "      replicas: 1\n", "      replicas: 1\n      replica: 1\n")
	got := v.Validate([]byte(doc))
	require.NotEmpty(t, got)
	assert.IsIncreasing(t, got)
	for _, p := range got {
		assert.True(t, strings.HasPrefix(p, "spec.") || strings.HasPrefix(p, documentPath), "problem %q should start with its field path", p)
	}
}

// Built-in kinds need no CRDs: these tests run even without the upstream CRDs.
func builtinValidator(t *testing.T) *Validator {
	t.Helper()
	v, err := Load(t.TempDir())
	require.NoError(t, err)
	return v
}

func TestValidateBuiltins(t *testing.T) {
	v := builtinValidator(t)
	runValidateCases(t, v, []validateCase{
		{name: "Namespace valid", doc: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ml\n  labels: {pod-security.kubernetes.io/enforce: restricted}\n"},
		{
			name: "Namespace with a namespace",
			doc:  "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml, namespace: default}\n",
			want: []string{"metadata.namespace: Forbidden: not allowed on this type"},
		},
		{
			name: "Namespace name must be a DNS label",
			doc:  "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml.team}\n",
			want: []string{"metadata.name: Invalid value: \"ml.team\""},
		},
		{name: "ResourceQuota with GPUs valid", doc: resourceQuota},
		{
			name: "ResourceQuota with a malformed quantity",
			doc:  edit(resourceQuota, `requests.nvidia.com/gpu: "4"`, `requests.nvidia.com/gpu: "four"`),
			want: []string{"spec.hard[requests.nvidia.com/gpu]: Invalid value: \"four\": quantities must match the regular expression"},
		},
		{
			name: "ResourceQuota with a non-standard resource",
			doc:  edit(resourceQuota, "requests.cpu:", "request.cpu:"),
			want: []string{"spec.hard[request.cpu]: Invalid value: \"request.cpu\": must be a standard resource for quota"},
		},
		{name: "Role valid", doc: role},
		{
			name: "Role unknown field",
			doc:  edit(role, "  verbs:", "  verb:"),
			want: []string{"rules[0].verb: unknown field", "rules[0].verbs: Required value"},
		},
		{
			name: "Role with non-resource URLs",
			doc:  role + "- nonResourceURLs: [/metrics]\n  verbs: [get]\n",
			want: []string{"rules[1].nonResourceURLs: Invalid value: [\"/metrics\"]: namespaced rules cannot apply to non-resource URLs"},
		},
		{name: "RoleBinding valid", doc: roleBinding},
		{
			name: "RoleBinding to a Deployment",
			doc:  edit(roleBinding, "kind: Role\n", "kind: Deployment\n"),
			want: []string{"roleRef.kind: Unsupported value: \"Deployment\""},
		},
		{
			name: "ClusterRoleBinding service account needs a namespace",
			doc: `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kiln-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {kind: ServiceAccount, name: trainer}
`,
			want: []string{"subjects[0].namespace: Required value"},
		},
		{name: "ServiceAccount valid", doc: "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: trainer, namespace: ml}\nautomountServiceAccountToken: false\n"},
		{
			name: "ServiceAccount without namespace",
			doc:  "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: trainer}\n",
			want: []string{"metadata.namespace: Required value"},
		},
		{name: "Deployment valid", doc: deployment},
		{
			name: "Deployment selector does not match template",
			doc:  edit(deployment, "        app: web\n", "        app: api\n"),
			want: []string{"spec.template.metadata.labels: Invalid value: {\"app\":\"api\"}: `selector` does not match template `labels`"},
		},
		{
			name: "Deployment container problems",
			doc: strings.NewReplacer(
				"image: nginx:1.27", "image: \"\"",
				"containerPort: 8080", "containerPort: 80800",
				"cpu: 100m", "cpu: 2",
			).Replace(deployment),
			want: []string{
				"spec.template.spec.containers[0].image: Required value",
				"spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 80800",
				"spec.template.spec.containers[0].resources.requests[cpu]: Invalid value: \"2\": must be less than or equal to cpu limit of 500m",
			},
		},
		{
			name: "Deployment integer field given as a string",
			doc:  edit(deployment, "replicas: 2", `replicas: "2"`),
			want: []string{"spec.replicas: Invalid value: \"2\": cannot decode string into int32"},
		},
		{
			name: "Deployment volume mount without volume",
			doc:  edit(deployment, "name: cache\n          mountPath", "name: cach\n          mountPath"),
			want: []string{"spec.template.spec.containers[0].volumeMounts[0].name: Not found: \"cach\""},
		},
		{name: "Service valid", doc: service},
		{
			name: "Service with two unnamed ports",
			doc:  service + "  - port: 9090\n",
			want: []string{"spec.ports[0].name: Required value", "spec.ports[1].name: Required value"},
		},
		{name: "Job valid", doc: job},
		{
			name: "Job with restartPolicy Always",
			doc:  edit(job, "restartPolicy: Never", "restartPolicy: Always"),
			want: []string{"spec.template.spec.restartPolicy: Unsupported value: \"Always\""},
		},
		{name: "CronJob valid", doc: cronJob},
		{
			name: "CronJob with a bad schedule",
			doc:  edit(cronJob, `schedule: "0 3 * * *"`, `schedule: "0 25 * * *"`),
			want: []string{"spec.schedule: Invalid value: \"0 25 * * *\""},
		},
		{name: "ConfigMap valid", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: ml}\ndata:\n  config.yaml: |\n    a: 1\n"},
		{
			name: "ConfigMap bad key",
			doc:  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: ml}\ndata:\n  a/b: x\n",
			want: []string{"data[a/b]: Invalid value: \"a/b\""},
		},
		{name: "Secret valid", doc: "apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: ml}\ntype: Opaque\nstringData: {token: abc}\n"},
		{name: "PersistentVolumeClaim valid", doc: pvc},
		{
			name: "PersistentVolumeClaim without storage request",
			doc:  edit(pvc, "    requests: {storage: 10Gi}\n", "    requests: {}\n"),
			want: []string{"spec.resources[storage]: Required value"},
		},
		{name: "LimitRange valid", doc: limitRange},
		{name: "StatefulSet valid", doc: statefulSet},
		{name: "HorizontalPodAutoscaler valid", doc: hpa},
		{
			name: "HorizontalPodAutoscaler min above max",
			doc:  edit(hpa, "maxReplicas: 5", "maxReplicas: 1"),
			want: []string{"spec.maxReplicas: Invalid value: 1: must be greater than or equal to `minReplicas`"},
		},
		{name: "PodDisruptionBudget valid", doc: pdb},
		{
			name: "PodDisruptionBudget with both bounds",
			doc:  pdb + "  maxUnavailable: 1\n",
			want: []string{"minAvailable and maxUnavailable cannot be both set"},
		},
		{name: "NetworkPolicy valid", doc: networkPolicy},
		{
			name: "NetworkPolicy unknown policy type",
			doc:  edit(networkPolicy, "- Ingress", "- Inbound"),
			want: []string{"spec.policyTypes[0]: Unsupported value: \"Inbound\""},
		},
		{
			name: "duplicate YAML key",
			doc:  "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml}\nmetadata: {name: ml2}\n",
			want: []string{documentPath + ": ", `key "metadata" already set in map`},
		},
		{
			name: "missing kind",
			doc:  "apiVersion: v1\nmetadata: {name: ml}\n",
			want: []string{"kind: Required value"},
		},
		{
			name: "two documents",
			doc:  "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n",
			want: []string{"expected a single YAML document, found 2"},
		},
		{
			name: "JSON input",
			doc:  `{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}}`,
		},
	})
}

func TestRestrictedViolations(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		{name: "compliant Deployment", doc: restrictedDeployment},
		{
			name: "non-compliant Deployment",
			doc: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ml}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      securityContext:
        runAsUser: 0
      initContainers:
      - name: setup
        image: busybox
        securityContext:
          privileged: true
      containers:
      - name: web
        image: nginx
        ports:
        - {containerPort: 80, hostPort: 80}
        securityContext:
          allowPrivilegeEscalation: true
          runAsNonRoot: false
          seccompProfile: {type: Unconfined}
          capabilities:
            drop: [ALL]
            add: [NET_BIND_SERVICE, SYS_ADMIN]
      volumes:
      - name: host
        hostPath: {path: /var/run}
`,
			want: []string{
				"spec.template.spec.containers[0] (web): allowPrivilegeEscalation != false (container \"web\" must set securityContext.allowPrivilegeEscalation=false)",
				"spec.template.spec.containers[0] (web): hostPort (container \"web\" uses hostPort 80)",
				"spec.template.spec.containers[0] (web): runAsNonRoot != true (container \"web\" must not set securityContext.runAsNonRoot=false)",
				"spec.template.spec.containers[0] (web): seccompProfile (container \"web\" must not set securityContext.seccompProfile.type to \"Unconfined\")",
				"spec.template.spec.containers[0] (web): unrestricted capabilities (container \"web\" must not include \"SYS_ADMIN\" in securityContext.capabilities.add)",
				"spec.template.spec.initContainers[0] (setup): allowPrivilegeEscalation != false (container \"setup\" must set securityContext.allowPrivilegeEscalation=false)",
				"spec.template.spec.initContainers[0] (setup): privileged (container \"setup\" must not set securityContext.privileged=true)",
				"spec.template.spec.initContainers[0] (setup): runAsNonRoot != true (pod or container \"setup\" must set securityContext.runAsNonRoot=true)",
				"spec.template.spec.initContainers[0] (setup): seccompProfile (pod or container \"setup\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
				"spec.template.spec.initContainers[0] (setup): unrestricted capabilities (container \"setup\" must set securityContext.capabilities.drop=[\"ALL\"])",
				"spec.template.spec.securityContext: runAsUser=0 (pod must not set runAsUser=0)",
				"spec.template.spec.volumes[0]: restricted volume types (volume \"host\" uses restricted volume type \"hostPath\")",
				"spec.template.spec: host namespaces (hostNetwork=true)",
			},
		},
		{
			name: "PyTorchJob without security contexts",
			doc:  pytorchJob,
			want: []string{
				"spec.pytorchReplicaSpecs.Master.template.spec.containers[0] (pytorch): allowPrivilegeEscalation != false (container \"pytorch\" must set securityContext.allowPrivilegeEscalation=false)",
				"spec.pytorchReplicaSpecs.Master.template.spec.containers[0] (pytorch): runAsNonRoot != true (pod or container \"pytorch\" must set securityContext.runAsNonRoot=true)",
				"spec.pytorchReplicaSpecs.Master.template.spec.containers[0] (pytorch): seccompProfile (pod or container \"pytorch\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
				"spec.pytorchReplicaSpecs.Master.template.spec.containers[0] (pytorch): unrestricted capabilities (container \"pytorch\" must set securityContext.capabilities.drop=[\"ALL\"])",
				"spec.pytorchReplicaSpecs.Worker.template.spec.containers[0] (pytorch): allowPrivilegeEscalation != false (container \"pytorch\" must set securityContext.allowPrivilegeEscalation=false)",
				"spec.pytorchReplicaSpecs.Worker.template.spec.containers[0] (pytorch): runAsNonRoot != true (pod or container \"pytorch\" must set securityContext.runAsNonRoot=true)",
				"spec.pytorchReplicaSpecs.Worker.template.spec.containers[0] (pytorch): seccompProfile (pod or container \"pytorch\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
				"spec.pytorchReplicaSpecs.Worker.template.spec.containers[0] (pytorch): unrestricted capabilities (container \"pytorch\" must set securityContext.capabilities.drop=[\"ALL\"])",
			},
		},
		{
			name: "compliant Argo WorkflowTemplate (pod context from the workflow spec)",
			doc: `
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: p, namespace: ml}
spec:
  entrypoint: main
  securityContext:
    runAsNonRoot: true
    runAsUser: 1000
    seccompProfile: {type: RuntimeDefault}
  templateDefaults:
    container:
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: a}
  - name: a
    container:
      image: python:3.12
`,
		},
		{
			name: "non-compliant Argo WorkflowTemplate",
			doc: `
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: p, namespace: ml}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: s
        inline:
          script:
            image: python:3.12
            source: print(1)
  - name: a
    securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
    container:
      image: python:3.12
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
    sidecars:
    - name: proxy
      image: envoy
`,
			want: []string{
				"spec.templates[0].steps[0][0].inline.script (main): allowPrivilegeEscalation != false (container \"main\" must set securityContext.allowPrivilegeEscalation=false)",
				"spec.templates[0].steps[0][0].inline.script (main): runAsNonRoot != true (pod or container \"main\" must set securityContext.runAsNonRoot=true)",
				"spec.templates[0].steps[0][0].inline.script (main): seccompProfile (pod or container \"main\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
				"spec.templates[0].steps[0][0].inline.script (main): unrestricted capabilities (container \"main\" must set securityContext.capabilities.drop=[\"ALL\"])",
				"spec.templates[1].sidecars[0] (proxy): allowPrivilegeEscalation != false (container \"proxy\" must set securityContext.allowPrivilegeEscalation=false)",
				"spec.templates[1].sidecars[0] (proxy): unrestricted capabilities (container \"proxy\" must set securityContext.capabilities.drop=[\"ALL\"])",
			},
		},
		{
			name: "Argo CronWorkflow host settings and containerSet",
			doc: `
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: c, namespace: ml}
spec:
  schedule: "0 * * * *"
  workflowSpec:
    hostNetwork: true
    volumes: [{name: h, hostPath: {path: /}}]
    templates:
    - name: a
      containerSet:
        containers:
        - {name: x, image: y}
`,
			want: []string{
				"spec.workflowSpec.templates[0].containerSet.containers[0] (x): allowPrivilegeEscalation != false (container \"x\" must set securityContext.allowPrivilegeEscalation=false)",
				"spec.workflowSpec.templates[0].containerSet.containers[0] (x): runAsNonRoot != true (pod or container \"x\" must set securityContext.runAsNonRoot=true)",
				"spec.workflowSpec.templates[0].containerSet.containers[0] (x): seccompProfile (pod or container \"x\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
				"spec.workflowSpec.templates[0].containerSet.containers[0] (x): unrestricted capabilities (container \"x\" must set securityContext.capabilities.drop=[\"ALL\"])",
				"spec.workflowSpec.volumes[0]: restricted volume types (volume \"h\" uses restricted volume type \"hostPath\")",
				"spec.workflowSpec: host namespaces (hostNetwork=true)",
			},
		},
		{
			name: "InferenceService model container",
			doc:  inferenceService,
			want: []string{
				"spec.predictor.model (kserve-container): allowPrivilegeEscalation != false (container \"kserve-container\" must set securityContext.allowPrivilegeEscalation=false)",
				"spec.predictor.model (kserve-container): runAsNonRoot != true (pod or container \"kserve-container\" must set securityContext.runAsNonRoot=true)",
				"spec.predictor.model (kserve-container): seccompProfile (pod or container \"kserve-container\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
				"spec.predictor.model (kserve-container): unrestricted capabilities (container \"kserve-container\" must set securityContext.capabilities.drop=[\"ALL\"])",
			},
		},
		{
			name: "Notebook",
			doc:  notebook,
			want: []string{
				"spec.template.spec.containers[0] (explore): allowPrivilegeEscalation != false (container \"explore\" must set securityContext.allowPrivilegeEscalation=false)",
				"spec.template.spec.containers[0] (explore): runAsNonRoot != true (pod or container \"explore\" must set securityContext.runAsNonRoot=true)",
				"spec.template.spec.containers[0] (explore): seccompProfile (pod or container \"explore\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
				"spec.template.spec.containers[0] (explore): unrestricted capabilities (container \"explore\" must set securityContext.capabilities.drop=[\"ALL\"])",
			},
		},
		{name: "object without pods", doc: role},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, RestrictedViolations([]byte(tc.doc)))
		})
	}
}

// The compliant Deployment must also be accepted by the validator.
func TestRestrictedDeploymentIsValid(t *testing.T) {
	v := builtinValidator(t)
	assert.Empty(t, v.Validate([]byte(restrictedDeployment)))
}

const restrictedDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ml}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: web
        image: nginx
        ports:
        - containerPort: 8080
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop: [ALL]
            add: [NET_BIND_SERVICE]
      volumes:
      - name: tmp
        emptyDir: {}
      - name: cfg
        configMap: {name: web}
`

func TestValidateConcurrent(t *testing.T) {
	v := realValidator(t)
	docs := map[string][]byte{
		"pytorchjob.yaml":  []byte(pytorchJob),
		"bad.yaml":         []byte(edit(pytorchJob, "replicas: 2", `replicas: "two"`)),
		"workflow.yaml":    []byte(workflowTemplate),
		"isvc.yaml":        []byte(inferenceService),
		"vs.yaml":          []byte(virtualService),
		"deployment.yaml":  []byte(deployment),
		"multi.yaml":       []byte(role + "---\n" + roleBinding),
		"multi-bad.yaml":   []byte(role + "---\n" + edit(roleBinding, "kind: Role\n", "kind: Rolle\n")),
		"application.yaml": []byte(argoCDApplication),
		// Several Argo documents, so that Argo's validator runs on
		// several goroutines at once (`make test` runs this under -race).
		"workflow2.yaml": []byte(edit(workflowTemplate, "name: ", "name: b")),
		"workflow3.yaml": []byte(edit(workflowTemplate, "name: ", "name: c")),
	}
	var wg sync.WaitGroup
	results := make([]map[string][]string, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = v.ValidateAll(docs)
		}()
	}
	wg.Wait()
	for _, r := range results[1:] {
		assert.Equal(t, results[0], r, "concurrent runs agree")
	}
	got := results[0]
	assert.ElementsMatch(t, []string{"bad.yaml", "multi-bad.yaml"}, keys(got))
	require.NotEmpty(t, got["multi-bad.yaml"])
	assert.True(t, strings.HasPrefix(got["multi-bad.yaml"][0], "document 2: roleRef.kind: Unsupported value"), got["multi-bad.yaml"][0])
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestKinds(t *testing.T) {
	v := realValidator(t)
	kinds := v.Kinds()
	assert.IsIncreasing(t, kinds)
	for _, k := range []string{
		"kubeflow.org/v1, PyTorchJob",
		"kubeflow.org/v2beta1, MPIJob",
		"argoproj.io/v1alpha1, WorkflowTemplate",
		"argoproj.io/v1alpha1, Application",
		"serving.kserve.io/v1beta1, InferenceService",
		"kubeflow.org/v1, Notebook",
		"kubeflow.org/v1beta1, Notebook",
		"networking.istio.io/v1, VirtualService",
		"kueue.x-k8s.io/v1beta2, ClusterQueue",
		"machinelearning.seldon.io/v1, SeldonDeployment",
		"scheduling.volcano.sh/v1beta1, PodGroup",
		"v1, Namespace",
		"v1, ResourceQuota",
		"rbac.authorization.k8s.io/v1, RoleBinding",
		"apps/v1, Deployment",
		"batch/v1, CronJob",
		"autoscaling/v2, HorizontalPodAutoscaler",
		"policy/v1, PodDisruptionBudget",
		"networking.k8s.io/v1, NetworkPolicy",
	} {
		assert.Contains(t, kinds, k)
	}
	assert.NotContains(t, kinds, "kubeflow.org/v1, MPIJob")

	var nilV *Validator
	assert.Contains(t, nilV.Kinds(), "v1, Namespace", "built-in kinds need no CRDs")
}

func TestBuiltinsWithoutCRDs(t *testing.T) {
	v, err := Load(t.TempDir())
	require.NoError(t, err)
	assert.Empty(t, v.Validate([]byte(deployment)))
	assert.Equal(t, []string{"no CRD or built-in type for kubeflow.org/v1, Kind=PyTorchJob"}, v.Validate([]byte(pytorchJob)))
	// Argo's validator needs no CRD: a broken template is reported as
	// such, a sound one as unvalidated by a CRD.
	assert.Equal(t, []string{"no CRD or built-in type for argoproj.io/v1alpha1, Kind=WorkflowTemplate"}, v.Validate([]byte(workflowTemplate)))
	got := v.Validate([]byte(edit(workflowTemplate, "dependencies: [prep]", "dependencies: [prepare]")))
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "argo: ")
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "sub", "broken.yaml"), "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec: [\n")
	_, err := Load(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join("sub", "broken.yaml"))

	dir = t.TempDir()
	writeFile(t, filepath.Join(dir, "widgets.yaml"), widgetCRD("items: {}"))
	_, err = Load(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "widgets.yaml: CRD widgets.example.com version v1: schema is not structural")

	dir = t.TempDir()
	writeFile(t, filepath.Join(dir, "orphan.validation_patches.yaml"), "- {op: add, path: /spec/x, value: 1}\n")
	_, err = Load(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "orphan.validation_patches.yaml")
}

func TestLoadAppliesPatchesAndIgnoresOtherManifests(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "example.com_widgets.yaml"), "# a comment\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n"+widgetCRD("items: {type: string}"))
	writeFile(t, filepath.Join(dir, "example.com_widgets.validation_patches.yaml"),
		"- op: add\n  path: /spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/sizes/minItems\n  value: 1\n")
	v, err := Load(dir)
	require.NoError(t, err)
	assert.Contains(t, v.Kinds(), "example.com/v1, Widget")
	widget := "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: ml}\nspec:\n  sizes: %s\n"
	assert.Empty(t, v.Validate([]byte(fmt.Sprintf(widget, "[a]"))))
	assert.Equal(t, []string{"spec.sizes: Invalid value: 0: spec.sizes in body should have at least 1 items"},
		v.Validate([]byte(fmt.Sprintf(widget, "[]"))))
}

func widgetCRD(items string) string {
	return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              sizes:
                type: array
                ` + items + `
`
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func TestFindCRDDir(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "main", "go.mod"), "module example.com/m\n")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "main", "a", "b"), 0o755))

	t.Setenv("KILN_TEST_CRDS", "")
	dir, ok := FindCRDDir(filepath.Join(root, "main", "a", "b"))
	assert.False(t, ok)
	assert.Equal(t, filepath.Join(root, "shared", "crds"), dir)

	require.NoError(t, os.MkdirAll(filepath.Join(root, "shared", "crds"), 0o755))
	dir, ok = FindCRDDir(filepath.Join(root, "main", "a", "b"))
	assert.True(t, ok)
	assert.Equal(t, filepath.Join(root, "shared", "crds"), dir)

	t.Setenv("KILN_TEST_CRDS", filepath.Join(root, "elsewhere"))
	dir, ok = FindCRDDir(filepath.Join(root, "main"))
	assert.False(t, ok)
	assert.Equal(t, filepath.Join(root, "elsewhere"), dir)
}

func TestSplitYAML(t *testing.T) {
	docs, err := SplitYAML([]byte("# header\n---\na: 1\n---\n\n---\n# only a comment\n---\nb: 2\n...\n"))
	require.NoError(t, err)
	require.Len(t, docs, 2)
	assert.Equal(t, "a: 1\n", string(docs[0]))
	assert.Contains(t, string(docs[1]), "b: 2")

	docs, err = SplitYAML(nil)
	require.NoError(t, err)
	assert.Empty(t, docs)
}

// Objects.

const workflowTemplate = `
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: skin-lesion-pipeline
  namespace: ml
spec:
  entrypoint: main
  serviceAccountName: pipeline
  arguments:
    parameters:
    - name: epochs
      value: "10"
    - name: shards
      value: '["a", "b"]'
  templates:
  - name: main
    dag:
      tasks:
      - name: prep
        template: prep
        withItems: [a, {x: 1}, 3]
      - name: train
        template: train
        dependencies: [prep]
        arguments:
          parameters:
          - name: epochs
            value: "{{workflow.parameters.epochs}}"
  - name: prep
    container:
      name: main
      image: ghcr.io/example/prep:1.0
      command: [python, prep.py]
  - name: train
    inputs:
      parameters:
      - name: epochs
    steps:
    - - name: fit
        template: fit
    - - name: eval
        template: fit
  - name: fit
    script:
      image: python:3.12
      command: [python]
      source: print("hi")
    volumes:
    - name: scratch
      emptyDir: {}
`

const inferenceService = `
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: skin-lesion
  namespace: ml
spec:
  predictor:
    minReplicas: 1
    maxReplicas: 3
    model:
      modelFormat:
        name: pytorch
      storageUri: s3://models/skin-lesion
      resources:
        limits: {cpu: "1", memory: 2Gi}
`

const notebook = `
apiVersion: kubeflow.org/v1
kind: Notebook
metadata:
  name: explore
  namespace: ml
spec:
  template:
    spec:
      containers:
        - name: explore
          image: kubeflownotebookswg/jupyter-scipy:v1.9.0
          resources:
            requests: {cpu: 500m, memory: 1Gi}
`

const virtualService = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: skin-lesion
  namespace: ml
spec:
  hosts: [skin-lesion.example.com]
  gateways: [ml/ingress]
  http:
  - match:
    - uri: {prefix: /v1/models/skin-lesion}
    timeout: 30s
    route:
    - destination:
        host: skin-lesion-predictor.ml.svc.cluster.local
        port: {number: 80}
      weight: 100
`

const serviceEntry = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: s3, namespace: ml}
spec:
  hosts: [s3.amazonaws.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
  - {number: 443, name: https, protocol: TLS}
`

const argoCDApplication = `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: skin-lesion
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://github.com/example/deploy.git
    path: ml/skin-lesion
    targetRevision: main
  destination:
    server: https://kubernetes.default.svc
    namespace: ml
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    syncOptions: [CreateNamespace=true]
`

const resourceQuota = `
apiVersion: v1
kind: ResourceQuota
metadata: {name: ml-quota, namespace: ml}
spec:
  hard:
    requests.cpu: "32"
    requests.memory: 128Gi
    limits.memory: 256Gi
    requests.nvidia.com/gpu: "4"
    pods: "50"
`

const role = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pipeline, namespace: ml}
rules:
- apiGroups: [argoproj.io]
  resources: [workflows, workflowtasksets]
  verbs: [get, list, watch, create, patch]
`

const roleBinding = `
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: pipeline, namespace: ml}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: pipeline
subjects:
- kind: ServiceAccount
  name: pipeline
  namespace: ml
`

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ml}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - {name: http, containerPort: 8080}
        resources:
          requests: {cpu: 100m}
          limits: {cpu: 500m, memory: 256Mi}
        volumeMounts:
        - name: cache
          mountPath: /cache
        readinessProbe:
          httpGet: {path: /healthz, port: http}
      volumes:
      - name: cache
        emptyDir: {}
`

const service = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ml}
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: http
`

const job = `
apiVersion: batch/v1
kind: Job
metadata: {name: evaluate, namespace: ml}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: eval
        image: ghcr.io/example/eval:1.0
`

const cronJob = `
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly-eval, namespace: ml}
spec:
  schedule: "0 3 * * *"
  timeZone: Europe/Paris
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: eval
            image: ghcr.io/example/eval:1.0
`

const pvc = `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: ml}
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests: {storage: 10Gi}
`

const limitRange = `
apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: ml}
spec:
  limits:
  - type: Container
    default: {cpu: "1", memory: 1Gi}
    defaultRequest: {cpu: 250m, memory: 256Mi}
    max: {nvidia.com/gpu: "2"}
`

const statefulSet = `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: store, namespace: ml}
spec:
  serviceName: store
  replicas: 1
  selector:
    matchLabels: {app: store}
  template:
    metadata:
      labels: {app: store}
    spec:
      containers:
      - name: store
        image: redis:7
        volumeMounts:
        - {name: data, mountPath: /data}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests: {storage: 1Gi}
`

const hpa = `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: ml}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 70}
`

const pdb = `
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: ml}
spec:
  selector:
    matchLabels: {app: web}
  minAvailable: 1
`

const networkPolicy = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: ml}
spec:
  podSelector:
    matchLabels: {app: web}
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: istio-system}
    ports:
    - {protocol: TCP, port: 8080}
`
