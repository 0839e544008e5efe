package argocd

import (
	"embed"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

//go:embed lua/*.lua
var luaFS embed.FS

// healthScripts maps group/Kind to the Lua health check kiln writes for it:
// the kinds kiln emits that Argo CD has no built-in health check for.
var healthScripts = map[string]string{
	"kubeflow.org/PyTorchJob": "lua/training.lua",
	"kubeflow.org/TFJob":      "lua/training.lua",
	"kubeflow.org/XGBoostJob": "lua/training.lua",
	"kubeflow.org/PaddleJob":  "lua/training.lua",
	"kubeflow.org/MXJob":      "lua/training.lua",
	"kubeflow.org/MPIJob":     "lua/training.lua",
	"kubeflow.org/Experiment": "lua/experiment.lua",
	"kubeflow.org/Notebook":   "lua/notebook.lua",
}

// HealthKinds lists the group/Kinds kiln has a health check for, sorted.
func HealthKinds() []string { return slices.Sorted(maps.Keys(healthScripts)) }

// HealthScript returns the Lua health check for a group/Kind.
func HealthScript(groupKind string) (string, bool) {
	p, ok := healthScripts[groupKind]
	if !ok {
		return "", false
	}
	b, err := luaFS.ReadFile(p)
	if err != nil {
		panic(err) // embedded: cannot happen
	}
	return string(b), true
}

// HealthKey is the argocd-cm key of a kind's health check:
// resource.customizations.health.<group>_<Kind>.
func HealthKey(group, kind string) string {
	return "resource.customizations.health." + group + "_" + kind
}

// HealthPatch is the argocd-cm ConfigMap holding the health checks of the
// kinds the system renders in any environment, meant to be merged into
// Argo CD's own (kubectl patch --patch-file), never applied in its place;
// nil when the system renders none of those kinds.
func HealthPatch(sys *ir.System, envs []render.Environment) ([]byte, error) {
	data := map[string]string{}
	for _, e := range envs {
		for _, it := range e.Items {
			gvk := it.GVK()
			if s, ok := HealthScript(gvk.Group + "/" + gvk.Kind); ok {
				data[HealthKey(gvk.Group, gvk.Kind)] = s
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
