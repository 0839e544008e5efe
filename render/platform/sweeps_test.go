package platform

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kiln-ml/kiln/ir"
)

// A Katib sweep needs Katib's metrics collector injected into its trial
// pods, which Katib does only in namespaces that ask for it.
func TestKatibNamespaceLabel(t *testing.T) {
	env := &ir.Environment{Namespace: "derm-ml", Spec: &ir.Spec{
		Sweeps: map[string]*ir.Sweep{"tune": {Trial: "resnet", Backend: "argo"}},
	}}
	assert.NotContains(t, Namespace(env).Labels, KatibInjectionLabel)
	env.Spec.Sweeps["katib"] = &ir.Sweep{Trial: "resnet", Backend: "katib"}
	assert.Equal(t, "enabled", Namespace(env).Labels[KatibInjectionLabel])
	// Katib's sidecar and suggestion service are not kiln's to secure,
	// unless the spec says katib-config does.
	assert.Equal(t, "baseline", Namespace(env).Labels["pod-security.kubernetes.io/enforce"])
	env.Spec.Katib = &ir.Katib{Restricted: true}
	assert.Equal(t, "restricted", Namespace(env).Labels["pod-security.kubernetes.io/enforce"])
	assert.Equal(t, "enabled", Namespace(env).Labels[KatibInjectionLabel])
}
