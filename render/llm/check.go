package llm

import (
	"fmt"
	"strings"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

// Check reports, at their spec positions, what KServe's LLM controller
// or admission webhook would refuse or silently get wrong, and serving
// options an LLMInferenceService has no counterpart for. It reports
// whether the entry can be rendered.
func Check(c *render.Context, path string, s *ir.Serving) bool {
	ok := true
	fail := func(field, format string, args ...any) {
		ok = false
		c.Errorf(ir.Join(path, strings.Split(field, ".")...), format, args...)
	}
	l := s.LLM
	if s.Runtime != "kserve" {
		fail("runtime", "an llm is served by KServe; runtime is %q", s.Runtime)
	}
	if s.Model.Format != "huggingface" {
		fail("model.format", "an llm is served by vLLM from Hugging Face weights: model.format must be \"huggingface\", not %q", s.Model.Format)
	}
	if uri := s.Model.StorageURI; !servable(uri) {
		fail("model.storageUri", "an LLMInferenceService loads hf://, s3:// and pvc:// models; %q is none of them", uri)
	}
	if s.Canary != nil && !servable(s.Canary.StorageURI) {
		fail("canary.storageUri", "an LLMInferenceService loads hf://, s3:// and pvc:// models; %q is none of them", s.Canary.StorageURI)
	}
	if s.Canary != nil && s.Canary.Percent+s.Canary.Stable() != 100 {
		fail("canary.stablePercent", "canary percent %d and stablePercent %d add up to %d, not 100", s.Canary.Percent, s.Canary.Stable(), s.Canary.Percent+s.Canary.Stable())
	}
	for _, f := range []struct {
		set   bool
		field string
		why   string
	}{
		{s.Expose != nil, "expose", "expose configures Istio; an LLMInferenceService is routed through the Gateway API: name the Gateway with llm.gateway (its listeners choose hosts and TLS)"},
		{s.Access != nil, "access", "access renders an Istio AuthorizationPolicy, which kiln does not render for an LLMInferenceService; restrict callers at the Gateway"},
		{s.Transformer != nil, "transformer", "an LLMInferenceService has no transformer"},
		{s.Autoscale != nil, "autoscale", "an LLMInferenceService scales through the Workload Variant Autoscaler, which kiln does not configure; set replicas.min (and max to the same)"},
		{s.Replicas.Max > s.Replicas.Min && s.Replicas.Max > 1, "replicas.max", fmt.Sprintf("an LLMInferenceService runs a fixed number of replicas (autoscaling needs the Workload Variant Autoscaler, which kiln does not configure); replicas.max %d must equal replicas.min %d", s.Replicas.Max, s.Replicas.Min)},
	} {
		if f.set {
			fail(f.field, "%s", f.why)
		}
	}
	gpus := s.Resources.GPUs
	if gpus == 0 {
		fail("resources.gpus", "an LLMInferenceService runs vLLM on GPUs; set resources.gpus (the GPUs of each node of a replica)")
		return ok
	}
	p := ir.LLMParallelism{}
	if l.Parallelism != nil {
		p = *l.Parallelism
	}
	// KServe's webhook: pipeline and data parallelism exclude each other,
	// and data needs dataLocal (ranks per node) and the other way round.
	if p.Pipeline > 0 && (p.Data > 0 || p.DataLocal > 0) {
		fail("llm.parallelism", "pipeline and data parallelism cannot be combined (KServe refuses it)")
		return ok
	}
	if (p.Data > 0) != (p.DataLocal > 0) {
		fail("llm.parallelism", "data and dataLocal parallelism go together: data is the number of ranks, dataLocal how many run on each node")
		return ok
	}
	if p.Data > 0 && p.Data != p.DataLocal {
		fail("llm.parallelism.data", "data parallelism %d across nodes (%d ranks per node) runs KServe's data-parallel worker template, whose vLLM container adds the IPC_LOCK and SYS_RAWIO capabilities, which neither the restricted nor the baseline Pod Security level admits; keep data = dataLocal (one node) or split across nodes by pipeline", p.Data, p.DataLocal)
		return ok
	}
	nodes := max(l.Nodes, 1)
	pipeline := max(p.Pipeline, 1)
	if nodes > 1 && pipeline != nodes {
		fail("llm.nodes", "a replica on %d nodes needs pipeline parallelism %d: KServe runs one pipeline stage per node (the LeaderWorkerSet's size is the pipeline parallelism), but llm.parallelism.pipeline is %d", nodes, nodes, pipeline)
		return ok
	}
	tensor := p.Tensor
	if tensor == 0 {
		tensor = gpus / max(p.DataLocal, 1)
	}
	// vLLM's world size per replica (tensor × pipeline, times the
	// data-parallel ranks on the node) must be every GPU the replica gets.
	world := tensor * pipeline * max(p.DataLocal, 1)
	if world != gpus*nodes {
		field := "llm.parallelism.tensor"
		if p.Tensor == 0 {
			field = "resources.gpus"
		}
		fail(field, "tensor × pipeline × dataLocal parallelism is %d × %d × %d = %d, but a replica has %d GPU(s) (resources.gpus %d × llm.nodes %d); vLLM would leave GPUs idle or wait for ones that do not exist", tensor, pipeline, max(p.DataLocal, 1), world, gpus*nodes, gpus, nodes)
	}
	env := c.Env
	if env.GPU.MaxPerPod > 0 && gpus > env.GPU.MaxPerPod {
		fail("resources.gpus", "%d GPUs per pod is more than %s allows (gpu.maxPerPod %d); split the replica across nodes with llm.nodes and pipeline parallelism", gpus, env.Name, env.GPU.MaxPerPod)
	}
	tracks := 1
	if s.Canary != nil {
		tracks = 2
	}
	total := gpus * nodes * Replicas(env, s) * tracks
	// An LLMInferenceService runs a fixed number of replicas.
	c.NeedGPUs(render.GPUDemand{Path: path, Resource: s.Resources.GPUResource(), Held: total, Peak: total,
		What: fmt.Sprintf("%d node(s) × %d replica(s) × %d version(s) × %d", nodes, Replicas(env, s), tracks, gpus)})
	if total > env.GPU.Quota {
		fail("resources.gpus", "serving %s needs %d GPUs (%d per node × %d node(s) × %d replica(s) × %d version(s)), more than %s's GPU quota of %d", strings.TrimPrefix(path, "serving."), total, gpus, nodes, Replicas(env, s), tracks, env.Name, env.GPU.Quota)
	}
	return ok
}

// servable reports whether KServe's LLM controller loads a model from uri.
func servable(uri string) bool {
	for _, p := range []string{"hf://", "s3://", "pvc://"} {
		if strings.HasPrefix(uri, p) {
			return true
		}
	}
	return false
}

// checkInferenceService reports llm settings KServe's Hugging Face
// runtime cannot honour when the entry is rendered as an
// InferenceService by the serving renderer. (llm.gateway is left alone:
// an environment that switches to an InferenceService keeps the base
// entry's gateway for the others.)
func checkInferenceService(c *render.Context, path string, s *ir.Serving) {
	l := s.LLM
	if s.Model.Format != "huggingface" {
		c.Errorf(ir.Join(path, "model", "format"), "an llm is served by KServe's Hugging Face runtime (vLLM): model.format must be \"huggingface\", not %q", s.Model.Format)
	}
	if l.Nodes > 1 {
		c.Errorf(ir.Join(path, "llm", "nodes"), "a replica across nodes needs llm.api \"LLMInferenceService\": an InferenceService runs each replica in one pod")
	}
}
