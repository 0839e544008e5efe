package serving

import (
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kiln-ml/kiln/render"
)

// Topology keys of the well-known node labels.
const (
	zoneKey     = "topology.kubernetes.io/zone"
	hostnameKey = "kubernetes.io/hostname"
)

// spread spreads a production model's pods across zones (required: a
// zone outage must not take every replica) and across nodes (preferred).
// Nodes the pods cannot run on (the wrong GPU) do not count as domains.
// nil outside production.
func (e *entry) spread(track, role string) []corev1.TopologySpreadConstraint {
	if !e.env.Production {
		return nil
	}
	sel := &metav1.LabelSelector{MatchLabels: e.selector(track, role)}
	return []corev1.TopologySpreadConstraint{
		{MaxSkew: 1, TopologyKey: zoneKey, WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: sel},
		{MaxSkew: 1, TopologyKey: hostnameKey, WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: sel},
	}
}

// disruptionBudget keeps all but one of a production model's pods up
// during voluntary disruptions (node drains, upgrades), per track and
// role. Seldon renders its own from the SeldonDeployment's pdbSpec.
func disruptionBudget(c *render.Context, e *entry) {
	if e.s.Runtime == "seldon" {
		return
	}
	roles := []string{RolePredictor}
	if e.s.Transformer != nil && e.s.Runtime == "kserve" {
		roles = append(roles, RoleTransformer)
	}
	for _, track := range e.tracks() {
		for _, role := range roles {
			name := e.trackName(track)
			if role == RoleTransformer {
				name += "-transformer"
			}
			one := intstr.FromInt32(1)
			c.Add(&policyv1.PodDisruptionBudget{
				TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: policyv1.PodDisruptionBudgetSpec{
					MaxUnavailable: &one,
					Selector:       &metav1.LabelSelector{MatchLabels: e.selector(track, role)},
				},
			}, e.origin(c))
		}
	}
}

// Roles of a model's pods.
const (
	RolePredictor   = "predictor"
	RoleTransformer = "transformer"
)
