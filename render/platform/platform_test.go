package platform

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

// A quota on CPU or memory comes with a LimitRange that gives a request
// for exactly those resources to containers that have none, and no
// default limit, which would undercut containers requesting more.
func TestLimitRange(t *testing.T) {
	sys := &ir.System{Name: "fraud"}
	env := &ir.Environment{Namespace: "risk", Spec: &ir.Spec{}}
	assert.Nil(t, LimitRange(sys, env))
	env.Quota = &ir.Quota{Memory: "800Gi"}
	lr := LimitRange(sys, env)
	require.NotNil(t, lr)
	require.Len(t, lr.Spec.Limits, 1)
	item := lr.Spec.Limits[0]
	assert.Equal(t, corev1.LimitTypeContainer, item.Type)
	assert.Empty(t, item.Default)
	assert.Equal(t, []corev1.ResourceName{corev1.ResourceMemory}, keys(item.DefaultRequest))
	env.Quota.CPU = "200"
	assert.ElementsMatch(t, []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}, keys(LimitRange(sys, env).Spec.Limits[0].DefaultRequest))
}

func keys(l corev1.ResourceList) []corev1.ResourceName {
	var out []corev1.ResourceName
	for k := range l {
		out = append(out, k)
	}
	return out
}

// Under a CPU/memory quota every container kiln writes requests what the
// quota covers; the diagnostic points at the entry that wrote it.
func TestQuotaRequestsCheck(t *testing.T) {
	pos := diag.Pos{File: "spec/system.cue", Line: 12, Col: 3}
	env := &ir.Environment{Name: "prod", Namespace: "ml", Spec: &ir.Spec{}, Sources: ir.Sources{"training.fit": pos}}
	c := &render.Context{System: &ir.System{Name: "fraud"}, Env: env, Set: render.NewSet()}
	pod := func(name string, req corev1.ResourceList) *corev1.Pod {
		return &corev1.Pod{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "x", Resources: corev1.ResourceRequirements{Requests: req}}}},
		}
	}
	c.Add(pod("sized", corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")}), c.Origin("training.ok", Component, "fraud"))
	c.Add(pod("cpu-only", corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}), c.Origin("training.fit", Component, "fraud"))
	assert.Empty(t, Renderer{}.Transform(c), "no quota, no rule")

	env.Quota = &ir.Quota{CPU: "10"}
	assert.Empty(t, Renderer{}.Transform(c), "the quota covers only CPU")

	env.Quota.Memory = "100Gi"
	diags := Renderer{}.Transform(c)
	require.Len(t, diags, 1)
	assert.Equal(t, diag.Error, diags[0].Severity)
	assert.Equal(t, pos, diags[0].Pos)
	assert.Equal(t, "training.fit", diags[0].Path)
	assert.Contains(t, diags[0].Msg, "no memory request")
}
