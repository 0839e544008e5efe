package argocd_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLLMInferenceServiceHealth(t *testing.T) {
	for _, tc := range []struct {
		name, obj, status, message string
	}{
		{"new", `{}`, "Progressing", "Waiting for the LLMInferenceService to become ready"},
		{"ready", `{"status": {"conditions": [{"type": "PresetsCombined", "status": "True"}, {"type": "Ready", "status": "True"}]}}`, "Healthy", "The LLMInferenceService is ready"},
		{"rolling out", `{"status": {"conditions": [{"type": "WorkloadsReady", "status": "False", "reason": "MainWorkloadNotReady", "message": "0/2 replicas"}, {"type": "Ready", "status": "False"}]}}`, "Progressing", "WorkloadsReady: MainWorkloadNotReady 0/2 replicas"},
		{"failed", `{"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "RouterReconcileError", "message": "no gateway"}]}}`, "Degraded", "Ready: RouterReconcileError no gateway"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, msg := health(t, "serving.kserve.io/LLMInferenceService", tc.obj)
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.message, msg)
		})
	}
}
