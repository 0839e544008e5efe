// Package llm renders serving entries that declare an llm as KServe
// LLMInferenceServices (serving.kserve.io/v1alpha2, KServe v0.20).
//
// The model is the entry's model.storageUri (hf://, s3:// or pvc://) and
// its canary the entry's canary, so `kiln promote` and the serving checks
// treat an LLM like any model. KServe's controller merges each
// LLMInferenceService over its LLMInferenceServiceConfig templates (vLLM
// in a container named "main", listening on 8000), so kiln writes only
// what differs: the model, replicas, parallelism, the GPUs and security
// context of "main", the security context of the storage-initializer the
// controller adds for hf:// and s3:// models (it merges a template init
// container of that name into its own), and the router.
//
// Routing goes through the Gateway API: router.route {} makes the
// controller manage the HTTPRoute, attached to router.gateway (the named
// Gateway, or KServe's configured one), and router.scheduler {} puts the
// Inference Extension's endpoint picker (an InferencePool) behind it. A
// canary is a second LLMInferenceService, <name>-canary, in the same
// route group (router.route.group) with weights stable and percent: the
// controller gives every member's HTTPRoute weighted backendRefs to the
// members that serve the same model name and are routable (router ready,
// a ready replica), so the stable version keeps all of the traffic until
// the canary is ready, and the split holds from then on. Each version
// also answers on its own path, /<namespace>/<name>/v1/…, outside the
// split. When llm.gateway names the environment's Gateway API ingress
// gateway, the route attaches to its listener (sectionName); any other
// Gateway, to every listener that admits it.
//
// Parallelism: KServe's single-node preset passes vLLM
// --tensor-parallel-size only, so on one node kiln passes pipeline and
// data parallel sizes as vLLM arguments. A replica across nodes is
// pipeline parallel, for which KServe v0.20 looks up a preset
// (kserve-config-llm-worker-pipeline-parallel) it does not ship: kiln
// warns. resources.shm resizes the preset's /dev/shm volume (dshm, 1Gi).
//
// Pod Security: the pods KServe's controller makes from the template
// (and worker) meet restricted with what kiln writes there: the pod and
// "main" security contexts, and the storage-initializer's, which the
// controller merges over the one it builds (it has none of its own). The
// endpoint picker's containers come with restricted security contexts
// from KServe's scheduler preset, but its tokenizer sidecar gets the
// model through the same storage-initializer, so kiln secures that one
// in router.scheduler.template too. Data parallelism across nodes uses KServe's
// data-parallel worker template, whose vLLM container adds IPC_LOCK and
// SYS_RAWIO, which no level below privileged admits, so Check refuses it.
//
// Entries with llm.api "InferenceService" are left to the serving
// renderer (KServe's Hugging Face runtime, vLLM backend); Check reports
// what that API cannot do.
package llm
