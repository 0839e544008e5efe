package notebook

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/pod"
)

// Component is the app.kubernetes.io/component of notebook objects.
const Component = "notebook"

// APIVersion of the Notebook resource: the storage version of Kubeflow's
// notebook controller.
const APIVersion = "kubeflow.org/v1"

// Conventions of Kubeflow's notebook images (kubeflownotebookswg/*) and
// controller: Jupyter listens on 8888 under the prefix the controller sets
// in NB_PREFIX, and the user's home is /home/jovyan.
const (
	Port      = 8888
	PortName  = "notebook-port"
	HomeDir   = "/home/jovyan"
	workspace = "workspace"
)

// Notebook is the kubeflow.org/v1 Notebook, with only the fields kiln sets.
type Notebook struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              Spec `json:"spec"`
}

// Spec is the Notebook's spec: a pod template.
type Spec struct {
	Template Template `json:"template"`
}

// Template holds the pod spec. The controller copies it into a
// StatefulSet, so labels set here would be ignored; there is no metadata.
type Template struct {
	Spec corev1.PodSpec `json:"spec"`
}

// Renderer renders notebook entries.
type Renderer struct{}

// Name implements render.Renderer.
func (Renderer) Name() string { return "notebook" }

// Render implements render.Renderer.
func (Renderer) Render(c *render.Context) diag.List {
	var out diag.List
	for _, name := range slices.Sorted(maps.Keys(c.Env.Spec.Notebooks)) {
		n := c.Env.Spec.Notebooks[name]
		path := ir.Path("notebooks", name)
		c.NeedPodSecurity(path, n.Security)
		c.NeedResources(n.Resources)
		out.Add(check(c, path, n)...)
		origin := c.Origin(path, Component, render.ObjectName(name))
		origin.PodSecurity = render.PodSecurityOf(n.Security)
		c.Add(Object(c.System, c.Env, name, n), origin)
		if n.Workspace != "" {
			c.Add(WorkspaceClaim(name, n), c.Origin(ir.Join(path, "workspace"), Component, render.ObjectName(name)))
		}
	}
	return out
}

// ClaimName is the name of the workspace claim of an entry.
func ClaimName(entry string) string { return render.ObjectName(entry) + "-" + workspace }

// Object renders one notebook entry.
func Object(sys *ir.System, env *ir.Environment, name string, n *ir.Notebook) *Notebook {
	sa := n.ServiceAccount
	if sa == "" {
		sa = render.WorkloadServiceAccount(sys)
	}
	ps := pod.Spec(env, pod.Input{
		// The controller finds Jupyter's container by the Notebook's name.
		Container:      render.ObjectName(name),
		Image:          n.Image,
		Env:            n.Env,
		Resources:      n.Resources,
		Datasets:       n.Datasets,
		Security:       n.Security,
		ServiceAccount: sa,
		// A notebook that talks to the API server (submitting pipeline
		// runs, say) names its own service account, which gets a token.
		AutomountToken: n.ServiceAccount != "",
		Ports:          []corev1.ContainerPort{{Name: PortName, ContainerPort: Port, Protocol: corev1.ProtocolTCP}},
		// Notebook images have their user (jovyan) and HOME=/home/jovyan,
		// where the workspace is mounted.
		ImageHome: true,
	})
	if n.Workspace != "" {
		ps.Volumes = append(ps.Volumes, corev1.Volume{Name: workspace, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: ClaimName(name)},
		}})
		ps.Containers[0].VolumeMounts = append(ps.Containers[0].VolumeMounts, corev1.VolumeMount{Name: workspace, MountPath: HomeDir})
	}
	return &Notebook{
		TypeMeta:   metav1.TypeMeta{APIVersion: APIVersion, Kind: "Notebook"},
		ObjectMeta: metav1.ObjectMeta{Name: render.ObjectName(name)},
		Spec:       Spec{Template: Template{Spec: ps}},
	}
}

// WorkspaceClaim is the home volume of a notebook. Argo CD must never
// delete it, neither when the entry goes (Prune=false) nor when its
// Application is deleted with cascade (Delete=false): it holds the user's
// work, which outlives the notebook entry.
func WorkspaceClaim(name string, n *ir.Notebook) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        ClaimName(name),
			Annotations: map[string]string{"argocd.argoproj.io/sync-options": "Prune=false,Delete=false"},
		},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: pod.Quantity(n.Workspace)},
			},
		},
	}
}

// check reports a notebook the environment cannot schedule, in the words
// the training checks use, and datasets whose credentials cannot share
// its pod.
func check(c *render.Context, path string, n *ir.Notebook) diag.List {
	out := pod.Errors(c.Env.Sources, path, pod.DatasetConflicts(c.Env, n.Datasets))
	out.Add(pod.Errors(c.Env.Sources, path, pod.ResourceProblems(c.Env, n.Resources))...)
	gpus, env := n.Resources.GPUs, c.Env
	if gpus == 0 {
		return out
	}
	c.NeedGPUs(render.GPUDemand{Path: path, Resource: n.Resources.GPUResource(), Held: gpus, Peak: gpus, What: "one pod"})
	gp := ir.Join(path, "resources", "gpus")
	switch {
	case env.GPU.Quota == 0:
		c.Errorf(gp, "%s asks for %s; %s has no GPU quota (set environments.%s.gpu.quota, or limit the notebook to other environments)", path, plural(gpus, "GPU"), env.Name, env.Name)
	case gpus > env.GPU.MaxPerPod:
		c.Errorf(gp, "%s asks for %s; %s allows at most %d per pod", path, plural(gpus, "GPU"), env.Name, env.GPU.MaxPerPod)
	case gpus > env.GPU.Quota:
		c.Errorf(gp, "%s asks for %s; %s allows %d", path, plural(gpus, "GPU"), env.Name, env.GPU.Quota)
	}
	return out
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// healthCheck is Argo CD's health check for a Notebook, which it has
// none for built in.
//
//go:embed health.lua
var healthCheck string

// Kinds implements render.KindDeclarer.
func (Renderer) Kinds() []render.Kind {
	return []render.Kind{{Group: "kubeflow.org", Version: "v1", Kind: "Notebook", Plural: "notebooks", Order: render.OrderWorkload, Health: healthCheck}}
}
