package argo

import (
	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render/pod"
)

// MainContainer is the name Argo gives the main container of a step pod.
const MainContainer = "main"

// ContainerTemplate returns a container template named name that runs in
// as render/pod builds every kiln pod: the restricted (or baseline)
// security context, requests and GPU limits, the GPU product node
// selector and tolerations, datasets and /dev/shm.
//
// The main container gets no service account token: Argo's executor
// (the init and wait containers) reports results with the token of
// executorSA, which the controller mounts into those containers only, so
// user code cannot use the workflow's rights. in.ServiceAccount, if set,
// is the pod's own identity (for image pulls and cloud workload identity);
// empty leaves it to the workflow's serviceAccountName.
func ContainerTemplate(env *ir.Environment, name string, in pod.Input, executorSA string) wfv1.Template {
	in.Container = MainContainer
	ps := pod.Spec(env, in)
	c := ps.Containers[0]
	t := wfv1.Template{
		Name:               name,
		Container:          &c,
		NodeSelector:       ps.NodeSelector,
		Tolerations:        ps.Tolerations,
		Volumes:            ps.Volumes,
		SecurityContext:    ps.SecurityContext,
		PriorityClassName:  ps.PriorityClassName,
		ServiceAccountName: in.ServiceAccount,
	}
	if executorSA != "" {
		t.AutomountServiceAccountToken = new(false)
		t.Executor = &wfv1.ExecutorConfig{ServiceAccountName: executorSA}
	}
	return t
}
