package llm

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/rendertest"
	"github.com/kiln-ml/kiln/render/serving"
	"github.com/kiln-ml/kiln/validate"
	"github.com/kiln-ml/kiln/validate/validatetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

var restricted = ir.Security{Profile: "restricted", RunAsUser: 1000, RunAsGroup: 1000, FSGroup: 1000}

// chat is an 8B model on 2 GPUs with the schema's defaults.
func chat() *ir.Serving {
	return &ir.Serving{
		Runtime:        "kserve",
		Model:          ir.ServingModel{Format: "huggingface", StorageURI: "hf://meta-llama/Llama-3.1-8B-Instruct", Port: 8080},
		Replicas:       ir.ReplicaRange{Min: 1, Max: 1},
		DeploymentMode: "Serverless",
		Resources:      ir.Resources{GPUs: 2, CPU: "8", Memory: "64Gi"},
		Security:       restricted,
		Metrics:        true,
		LLM:            &ir.LLM{API: ir.LLMInferenceService, Nodes: 1, Scheduler: true},
	}
}

func environment(production bool, quota int, entries map[string]*ir.Serving) *ir.Environment {
	return &ir.Environment{
		Name: "prod", Namespace: "genai", Production: production,
		GPU:     ir.GPUPolicy{Quota: quota, MaxPerPod: 8, Products: []string{"NVIDIA-H100-80GB-HBM3"}},
		Spec:    &ir.Spec{Serving: entries},
		Sources: ir.Sources{"": {File: "spec/system.cue", Line: 1, Col: 1}},
	}
}

func renderEnv(env *ir.Environment) (*render.Result, diag.List) {
	sys := &ir.System{Name: "assistant", Namespace: "genai", Environments: []*ir.Environment{env}, Dir: "spec", SpecDir: "spec"}
	return render.Render(context.Background(), sys, render.Options{Renderers: []render.Renderer{serving.Renderer{}, Renderer{}}})
}

// goldenCases: one replica set on one node, a multi-node replica, and a
// canary.
func goldenCases() map[string]*ir.Serving {
	single := chat()
	single.LLM.Name = "llama-3.1-8b"
	single.LLM.Parallelism = &ir.LLMParallelism{Tensor: 2}
	single.LLM.MaxModelLength = 8192
	single.LLM.Gateway = "gateway-system/inference"

	// 405B across 2 nodes × 8 GPUs: one pipeline stage per node, tensor
	// parallel within it, from a claim, with the scheduler off.
	multi := chat()
	multi.Model.StorageURI = "pvc://models/llama-3.1-405b"
	multi.Resources = ir.Resources{GPUs: 8, CPU: "32", Memory: "512Gi"}
	multi.LLM.Nodes = 2
	multi.LLM.Parallelism = &ir.LLMParallelism{Tensor: 8, Pipeline: 2}
	multi.LLM.Scheduler = false
	multi.LLM.Args = []string{"--enable-prefix-caching"}

	// A 10% canary from S3 with credentials: both versions in one route
	// group.
	canary := chat()
	canary.Model.StorageURI = "s3://acme-llm/chat/v3"
	canary.Canary = &ir.Canary{StorageURI: "s3://acme-llm/chat/v4", Percent: 10}
	canary.Credentials = &ir.SecretRef{Secret: "s3-creds"}
	canary.Replicas = ir.ReplicaRange{Min: 3, Max: 3}
	// Data parallel on one node: two ranks of tensor parallel 2 on 4
	// GPUs, with a larger /dev/shm for NCCL.
	dp := chat()
	dp.Resources = ir.Resources{GPUs: 4, CPU: "16", Memory: "128Gi", SHM: "16Gi"}
	dp.LLM.Parallelism = &ir.LLMParallelism{Data: 2, DataLocal: 2}
	return map[string]*ir.Serving{"single-node": single, "multi-node": multi, "canary": canary, "single-node-data-parallel": dp}
}

func stream(t *testing.T, s *ir.Serving) []byte {
	t.Helper()
	res, diags := renderEnv(environment(true, 128, map[string]*ir.Serving{"chat": s}))
	require.False(t, diags.HasErrors(), "%v", diags)
	return rendertest.Stream(t, res.Environments[0].Items)
}

func TestGolden(t *testing.T) {
	for name, s := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			rendertest.Golden(t, filepath.Join("testdata", "golden", name+".yaml"), stream(t, s), *update)
		})
	}
}

// TestGoldenValidates holds every golden object to the KServe CRD (CEL
// rules on), and every pod, with the storage-initializer KServe's
// controller adds, to restricted.
func TestGoldenValidates(t *testing.T) {
	v := validatetest.CRDs(t)
	for name := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "golden", name+".yaml"))
			require.NoError(t, err)
			docs, err := validate.SplitYAML(b)
			require.NoError(t, err)
			require.NotEmpty(t, docs)
			for _, doc := range docs {
				assert.Empty(t, v.Validate(doc), "validation of\n%s", doc)
				assert.Empty(t, validate.PodViolations(doc, "restricted", validate.Cluster{}), "restricted profile")
			}
		})
	}
}

// The serving renderer leaves LLMInferenceService entries alone, and an
// entry with api InferenceService is its, not this renderer's.
func TestWhoRenders(t *testing.T) {
	kinds := func(s *ir.Serving) []string {
		res, diags := renderEnv(environment(false, 16, map[string]*ir.Serving{"chat": s}))
		require.False(t, diags.HasErrors(), "%v", diags)
		var out []string
		for _, it := range res.Environments[0].Items {
			out = append(out, it.GVK().Kind+"/"+it.Object.GetName())
		}
		return out
	}
	assert.Equal(t, []string{"LLMInferenceService/chat"}, kinds(chat()))
	isvc := chat()
	isvc.LLM.API = "InferenceService"
	isvc.LLM.MaxModelLength = 4096
	got := kinds(isvc)
	assert.Contains(t, got, "InferenceService/chat")
	assert.NotContains(t, strings.Join(got, " "), "LLMInferenceService")

	// The Hugging Face runtime gets the vLLM backend and engine arguments.
	res, diags := renderEnv(environment(false, 16, map[string]*ir.Serving{"chat": isvc}))
	require.False(t, diags.HasErrors(), "%v", diags)
	out := string(rendertest.Stream(t, res.Environments[0].Items))
	assert.Contains(t, out, "      args:\n      - --backend=vllm\n      - --model_name=chat\n      - --tensor-parallel-size=2\n      - --max_model_len=4096\n")
	v := validatetest.CRDs(t)
	docs, err := validate.SplitYAML([]byte(out))
	require.NoError(t, err)
	for _, doc := range docs {
		assert.Empty(t, v.Validate(doc), "validation of\n%s", doc)
	}
}

// Check reports at the spec position what KServe would refuse or vLLM get
// wrong.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(s *ir.Serving)
		path  string
		error string
	}{
		{"tensor vs gpus", func(s *ir.Serving) { s.LLM.Parallelism = &ir.LLMParallelism{Tensor: 4} }, "serving.chat.llm.parallelism.tensor",
			"tensor × pipeline × dataLocal parallelism is 4 × 1 × 1 = 4, but a replica has 2 GPU(s) (resources.gpus 2 × llm.nodes 1)"},
		{"nodes without pipeline", func(s *ir.Serving) { s.LLM.Nodes = 2 }, "serving.chat.llm.nodes",
			"a replica on 2 nodes needs pipeline parallelism 2"},
		{"pipeline and data", func(s *ir.Serving) { s.LLM.Parallelism = &ir.LLMParallelism{Pipeline: 2, Data: 2, DataLocal: 2} }, "serving.chat.llm.parallelism",
			"pipeline and data parallelism cannot be combined"},
		{"data without dataLocal", func(s *ir.Serving) { s.LLM.Parallelism = &ir.LLMParallelism{Data: 2} }, "serving.chat.llm.parallelism",
			"data and dataLocal parallelism go together"},
		{"data across nodes", func(s *ir.Serving) { s.LLM.Parallelism = &ir.LLMParallelism{Data: 4, DataLocal: 2} }, "serving.chat.llm.parallelism.data",
			"IPC_LOCK and SYS_RAWIO"},
		{"no gpus", func(s *ir.Serving) { s.Resources.GPUs = 0 }, "serving.chat.resources.gpus", "runs vLLM on GPUs"},
		{"quota", func(s *ir.Serving) { s.Replicas = ir.ReplicaRange{Min: 9, Max: 9} }, "serving.chat.resources.gpus",
			"needs 18 GPUs (2 per node × 1 node(s) × 9 replica(s) × 1 version(s)), more than prod's GPU quota of 16"},
		{"autoscaling", func(s *ir.Serving) { s.Replicas.Max = 3 }, "serving.chat.replicas.max", "Workload Variant Autoscaler"},
		{"gcs", func(s *ir.Serving) { s.Model.StorageURI = "gs://b/m" }, "serving.chat.model.storageUri", "loads hf://, s3:// and pvc://"},
		{"istio expose", func(s *ir.Serving) { s.Expose = &ir.Expose{Host: "chat.example"} }, "serving.chat.expose", "name the Gateway with llm.gateway"},
		{"format", func(s *ir.Serving) { s.Model.Format = "pytorch" }, "serving.chat.model.format", "model.format must be \"huggingface\""},
		{"multi-node isvc", func(s *ir.Serving) {
			s.LLM.API = "InferenceService"
			s.LLM.Nodes = 2
		}, "serving.chat.llm.nodes", "needs llm.api \"LLMInferenceService\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := chat()
			tc.edit(s)
			_, diags := renderEnv(environment(false, 16, map[string]*ir.Serving{"chat": s}))
			var found bool
			for _, d := range diags {
				if d.Path == tc.path && strings.Contains(d.Msg, tc.error) {
					found = true
				}
			}
			assert.True(t, found, "no error at %s containing %q in\n%v", tc.path, tc.error, diags)
		})
	}
}

// llmObjects renders one entry and returns its LLMInferenceServices.
func llmObjects(t *testing.T, s *ir.Serving) []*LLMInferenceService {
	t.Helper()
	res, diags := renderEnv(environment(true, 128, map[string]*ir.Serving{"chat": s}))
	require.False(t, diags.HasErrors(), "%v", diags)
	var out []*LLMInferenceService
	for _, it := range res.Environments[0].Items {
		if o, ok := it.Object.(*LLMInferenceService); ok {
			out = append(out, o)
		}
	}
	require.NotEmpty(t, out)
	return out
}

// vllmWorld is how many GPUs vLLM uses in a single-node pod: the
// --tensor-parallel-size KServe's single-node preset passes from
// spec.parallelism.tensor (kserve-config-llm-template, v0.20.0, line
// 172; nothing else of spec.parallelism), times the pipeline and data
// parallel sizes among the container's arguments, which the preset
// hands to vllm serve as they are.
func vllmWorld(o *LLMInferenceService) int {
	size := func(flag string) int {
		for _, a := range o.Spec.Template.Containers[0].Args {
			if v, ok := strings.CutPrefix(a, flag+"="); ok {
				n, _ := strconv.Atoi(v)
				return n
			}
		}
		return 1
	}
	tensor := 1
	if p := o.Spec.Parallelism; p != nil && p.Tensor != nil {
		tensor = int(*p.Tensor)
	}
	return tensor * size("--pipeline-parallel-size") * size("--data-parallel-size")
}

// TestSingleNodeUsesEveryGPU: whatever single-node parallelism Check
// accepts, vLLM as KServe's preset starts it uses every GPU of the pod.
func TestSingleNodeUsesEveryGPU(t *testing.T) {
	for _, p := range []ir.LLMParallelism{
		{}, {Tensor: 4}, {Tensor: 2, Pipeline: 2}, {Pipeline: 4, Tensor: 1},
		{Data: 2, DataLocal: 2}, {Data: 4, DataLocal: 4}, {Tensor: 1, Data: 4, DataLocal: 4},
	} {
		s := chat()
		s.Resources.GPUs = 4
		s.LLM.Parallelism = &p
		for _, o := range llmObjects(t, s) {
			assert.Equal(t, 4, vllmWorld(o), "%+v: %v", p, o.Spec.Template.Containers[0].Args)
		}
	}
}

// TestSHM: resources.shm resizes the preset's /dev/shm volume (dshm) in
// every pod of a replica.
func TestSHM(t *testing.T) {
	for _, nodes := range []int{1, 2} {
		s := chat()
		s.Resources = ir.Resources{GPUs: 8, CPU: "32", Memory: "512Gi", SHM: "32Gi"}
		if nodes > 1 {
			s.LLM.Nodes = 2
			s.LLM.Parallelism = &ir.LLMParallelism{Tensor: 8, Pipeline: 2}
		}
		for _, o := range llmObjects(t, s) {
			pods := []*corev1.PodSpec{o.Spec.Template}
			if o.Spec.Worker != nil {
				pods = append(pods, o.Spec.Worker)
			}
			for _, ps := range pods {
				require.Len(t, ps.Volumes, 1)
				v := ps.Volumes[0]
				assert.Equal(t, "dshm", v.Name, "the preset's volume, merged by name")
				require.NotNil(t, v.EmptyDir)
				assert.Equal(t, corev1.StorageMediumMemory, v.EmptyDir.Medium)
				assert.Equal(t, "32Gi", v.EmptyDir.SizeLimit.String())
			}
		}
	}
	// Without shm the preset's 1Gi stands.
	for _, o := range llmObjects(t, chat()) {
		assert.Empty(t, o.Spec.Template.Volumes)
	}
}

// TestMultiNodeWarns: KServe v0.20.0 picks the preset
// kserve-config-llm-worker-pipeline-parallel for a pipeline-parallel
// worker (llmisvc/config_merge.go:261-263) and ships none
// (config/llmisvcconfig/kustomization.yaml lists only the data-parallel
// worker presets), so kiln warns
// at llm.nodes.
func TestMultiNodeWarns(t *testing.T) {
	s := goldenCases()["multi-node"]
	_, diags := renderEnv(environment(true, 128, map[string]*ir.Serving{"chat": s}))
	require.False(t, diags.HasErrors(), "%v", diags)
	var found bool
	for _, d := range diags {
		if d.Severity == diag.Warning && d.Path == "serving.chat.llm.nodes" && strings.Contains(d.Msg, "kserve-config-llm-worker-pipeline-parallel") {
			found = true
		}
	}
	assert.True(t, found, "%v", diags)
	_, diags = renderEnv(environment(true, 128, map[string]*ir.Serving{"chat": chat()}))
	assert.Empty(t, diags, "one node: no warning")
}

// TestGatewayListener: an llm.gateway that names the environment's
// Gateway API ingress gateway attaches to its listener (sectionName), as
// every other model's HTTPRoute does; without it KServe's route would
// attach to every listener that admits it (plain HTTP included).
// Another Gateway gets no listener.
func TestGatewayListener(t *testing.T) {
	for _, tc := range []struct {
		gateway, want string
	}{
		{"gateway-system/inference", "sectionName: https"},
		{"gateway-system/other", ""},
		{"genai/inference", ""},
	} {
		s := chat()
		s.LLM.Gateway = tc.gateway
		env := environment(true, 128, map[string]*ir.Serving{"chat": s})
		env.Ingress = ir.Ingress{API: "gateway-api", Mesh: "none", Gateway: &ir.GatewayRef{Name: "inference", Namespace: "gateway-system", SectionName: "https"}}
		res, diags := renderEnv(env)
		require.False(t, diags.HasErrors(), "%v", diags)
		out := string(rendertest.Stream(t, res.Environments[0].Items))
		if tc.want == "" {
			assert.NotContains(t, out, "sectionName", tc.gateway)
		} else {
			assert.Contains(t, out, tc.want, tc.gateway)
		}
	}
}
