package serving

import (
	"strconv"

	"github.com/kiln-ml/kiln/ir"
)

// huggingfaceArgs are the arguments of KServe's Hugging Face runtime for
// an entry with an llm served as an InferenceService (llm.api
// "InferenceService"): the vLLM backend, the name the model answers to,
// and vLLM's engine arguments, which the runtime passes through (v0.20,
// huggingfaceserver/__main__.py). An entry without an llm gets none.
func huggingfaceArgs(e *entry) []string {
	l := e.s.LLM
	if l == nil {
		return nil
	}
	name := l.Name
	if name == "" {
		name = e.name
	}
	args := []string{"--backend=vllm", "--model_name=" + name}
	p := ir.LLMParallelism{}
	if l.Parallelism != nil {
		p = *l.Parallelism
	}
	tensor := p.Tensor
	if tensor == 0 && e.s.Resources.GPUs > 1 {
		tensor = e.s.Resources.GPUs
	}
	if tensor > 1 {
		args = append(args, "--tensor-parallel-size="+strconv.Itoa(tensor))
	}
	if p.Pipeline > 1 {
		args = append(args, "--pipeline-parallel-size="+strconv.Itoa(p.Pipeline))
	}
	if l.MaxModelLength > 0 {
		args = append(args, "--max_model_len="+strconv.Itoa(l.MaxModelLength))
	}
	return append(args, l.Args...)
}
