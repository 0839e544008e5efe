package llm

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/lineage"
	"github.com/kiln-ml/kiln/render/serving"
)

// TestLineageAnnotation: each version's LLMInferenceService names the
// lineage record of its own model.
func TestLineageAnnotation(t *testing.T) {
	s := chat()
	s.Model.Lineage = "s3://runs/lineage/genai/assistant/tune/r1.json"
	s.Canary = &ir.Canary{StorageURI: "s3://adapters/v2", Percent: 10}
	env := environment(true, 64, map[string]*ir.Serving{"chat": s})
	assert.Equal(t, map[string]string{lineage.Annotation: s.Model.Lineage}, Object(env, "chat", s, serving.Stable).Annotations)
	assert.Empty(t, Object(env, "chat", s, serving.Canary).Annotations)
}
