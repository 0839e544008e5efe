package argocd

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

// HealthKey is the argocd-cm key of a kind's health check:
// resource.customizations.health.<group>_<Kind>.
func HealthKey(group, kind string) string {
	return "resource.customizations.health." + group + "_" + kind
}

// HealthPatch is the argocd-cm ConfigMap holding the health checks of the
// kinds the system renders in any environment (those whose descriptor has
// one: Argo CD has none built in), meant to be merged into Argo CD's own
// (kubectl patch --patch-file), never applied in its place; nil when the
// system renders none of those kinds.
func HealthPatch(sys *ir.System, kinds *render.Kinds, envs []render.Environment) ([]byte, error) {
	data := map[string]string{}
	for _, e := range envs {
		for _, it := range e.Items {
			gvk := it.GVK()
			if k, ok := kinds.Lookup(gvk.GroupKind()); ok && k.Health != "" {
				data[HealthKey(gvk.Group, gvk.Kind)] = k.Health
			}
		}
	}
	if len(data) == 0 {
		return nil, nil
	}
	cm := &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      "argocd-cm",
			Namespace: sys.GitOps.Namespace,
			Labels:    map[string]string{"app.kubernetes.io/name": "argocd-cm", "app.kubernetes.io/part-of": "argocd"},
		},
		Data: data,
	}
	b, err := render.Marshal(cm)
	if err != nil {
		return nil, err
	}
	head := render.Header + fmt.Sprintf(`# Argo CD health checks for the kinds %s renders. Merge them into Argo CD's
# own argocd-cm; do not apply this file in its place:
#   kubectl -n %s patch configmap argocd-cm --patch-file %s
`, sys.Name, sys.GitOps.Namespace, HealthFile)
	return append([]byte(head), b...), nil
}
