package serving

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/lineage"
)

// TestLineageAnnotation: each version's InferenceService names the
// lineage record of its own model, and a model without one carries none.
func TestLineageAnnotation(t *testing.T) {
	s := model("kserve", "pytorch")
	s.Canary = &ir.Canary{StorageURI: "s3://acme-models/skin/v9", Percent: 10, Lineage: "s3://runs/lineage/derm-ml/skin-lesion/retrain/r2.json"}
	got := map[string]string{}
	for _, isvc := range ofKind[InferenceService](objects(t, goldenCase{s: s}), "InferenceService") {
		v, ok := isvc.Annotations[lineage.Annotation]
		if !ok {
			v = "none"
		}
		got[isvc.Name] = v
	}
	assert.Equal(t, map[string]string{"classifier": "none", "classifier-canary": "s3://runs/lineage/derm-ml/skin-lesion/retrain/r2.json"}, got)

	s.Model.Lineage = "s3://runs/lineage/derm-ml/skin-lesion/retrain/r1.json"
	for _, isvc := range ofKind[InferenceService](objects(t, goldenCase{s: s}), "InferenceService") {
		if isvc.Name == "classifier" {
			assert.Equal(t, s.Model.Lineage, isvc.Annotations[lineage.Annotation])
		}
	}
}
