package ir

// LLM is how a serving entry serves a large language model (schema #LLM).
type LLM struct {
	API            string          `json:"api"`
	Name           string          `json:"name,omitempty"`
	Parallelism    *LLMParallelism `json:"parallelism,omitempty"`
	Nodes          int             `json:"nodes"`
	MaxModelLength int             `json:"maxModelLength,omitempty"`
	Image          string          `json:"image,omitempty"`
	Args           []string        `json:"args,omitempty"`
	Scheduler      bool            `json:"scheduler"`
	Gateway        string          `json:"gateway,omitempty"`
}

// LLMParallelism is how a replica splits the model, as vLLM names it.
type LLMParallelism struct {
	Tensor    int   `json:"tensor,omitempty"`
	Pipeline  int   `json:"pipeline,omitempty"`
	Data      int   `json:"data,omitempty"`
	DataLocal int   `json:"dataLocal,omitempty"`
	Expert    *bool `json:"expert,omitempty"`
}

// APIs an LLM is served with.
const (
	LLMInferenceService   = "LLMInferenceService"
	LLMOnInferenceService = "InferenceService"
)

// ServesLLMService reports whether a serving entry is rendered as an
// LLMInferenceService (by render/llm) rather than by the serving
// renderer.
func (s *Serving) ServesLLMService() bool {
	return s != nil && s.LLM != nil && s.LLM.API != LLMOnInferenceService
}
