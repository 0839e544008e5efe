package training

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/pod"
)

// Component is the app.kubernetes.io/component of training objects.
const Component = "training"

// KueueQueueLabel submits a job to a Kueue LocalQueue.
const KueueQueueLabel = "kueue.x-k8s.io/queue-name"

// Kind describes the custom resource a framework renders into.
type Kind struct {
	APIVersion, Kind, Plural string
}

// Kinds maps each framework to its operator's resource. Other packages
// (RBAC for pipeline steps, health checks) use it so the mapping lives in
// one place.
var Kinds = map[string]Kind{
	"pytorch": {APIVersion, "PyTorchJob", "pytorchjobs"},
}

// Renderer renders training entries.
type Renderer struct{}

// Name implements render.Renderer.
func (Renderer) Name() string { return "training" }

// Render implements render.Renderer.
func (Renderer) Render(c *render.Context) diag.List {
	var diags diag.List
	for _, name := range slices.Sorted(maps.Keys(c.Env.Spec.Training)) {
		t := c.Env.Spec.Training[name]
		path := ir.Path("training", name)
		origin := c.Origin(path, Component, ObjectName(name))
		switch t.Framework {
		case "pytorch":
			c.Add(PyTorch(c.System, c.Env, name, t), origin)
		default:
			c.Errorf(ir.Join(path, "framework"), "framework %q is not rendered yet", t.Framework)
		}
	}
	return diags
}

// ObjectName is the name of the job object of a training entry.
func ObjectName(entry string) string { return strings.ReplaceAll(entry, "_", "-") }

// PyTorch renders a PyTorchJob: a Master and workers-1 Workers, or, for
// elastic jobs, Workers only, as the operator requires.
func PyTorch(sys *ir.System, env *ir.Environment, name string, t *ir.Training) *PyTorchJob {
	job := &PyTorchJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: APIVersion, Kind: "PyTorchJob"},
		ObjectMeta: metav1.ObjectMeta{Name: ObjectName(name)},
		Spec: PyTorchJobSpec{
			RunPolicy:           runPolicy(t),
			PyTorchReplicaSpecs: map[string]*ReplicaSpec{},
		},
	}
	if t.Scheduling != nil && t.Scheduling.Queue != "" {
		job.Labels = map[string]string{KueueQueueLabel: t.Scheduling.Queue}
	}
	if t.NprocPerNode != nil {
		n := t.NprocPerNode.String()
		job.Spec.NprocPerNode = &n
	}
	tmpl := template(sys, env, name, t, "pytorch", []corev1.ContainerPort{{Name: "pytorchjob-port", ContainerPort: 23456, Protocol: corev1.ProtocolTCP}})
	if t.Elastic != nil {
		e := t.Elastic
		job.Spec.ElasticPolicy = &ElasticPolicy{
			MinReplicas: i32(e.MinReplicas),
			MaxReplicas: i32(e.MaxReplicas),
			RDZVBackend: e.RdzvBackend,
		}
		if e.MaxRestarts != nil {
			job.Spec.ElasticPolicy.MaxRestarts = i32(*e.MaxRestarts)
		}
		job.Spec.PyTorchReplicaSpecs["Worker"] = &ReplicaSpec{Replicas: i32(t.Workers), RestartPolicy: "OnFailure", Template: tmpl}
		return job
	}
	job.Spec.PyTorchReplicaSpecs["Master"] = &ReplicaSpec{Replicas: i32(1), RestartPolicy: "OnFailure", Template: tmpl}
	if t.Workers > 1 {
		job.Spec.PyTorchReplicaSpecs["Worker"] = &ReplicaSpec{Replicas: i32(t.Workers - 1), RestartPolicy: "OnFailure", Template: tmpl}
	}
	return job
}

// template builds the pod template every replica of a job shares.
func template(sys *ir.System, env *ir.Environment, name string, t *ir.Training, container string, ports []corev1.ContainerPort) corev1.PodTemplateSpec {
	sa := t.ServiceAccount
	if sa == "" {
		sa = WorkloadServiceAccount(sys)
	}
	in := pod.Input{
		Container:        container,
		Image:            t.Image,
		Command:          t.Command,
		Args:             Args(t),
		Env:              t.Env,
		Resources:        t.Resources,
		Datasets:         t.Datasets,
		Security:         t.Security,
		ServiceAccount:   sa,
		ImagePullSecrets: t.ImagePullSecrets,
		Ports:            ports,
	}
	if t.Scheduling != nil {
		in.PriorityClass = t.Scheduling.PriorityClass
	}
	ps := pod.Spec(env, in)
	if t.Scheduling != nil {
		switch t.Scheduling.Gang {
		case "volcano":
			ps.SchedulerName = "volcano"
		case "coscheduling":
			ps.SchedulerName = "scheduler-plugins-scheduler"
		}
	}
	tmpl := corev1.PodTemplateSpec{Spec: ps}
	tmpl.Labels = map[string]string{
		render.LabelName:      ObjectName(name),
		render.LabelPartOf:    sys.Name,
		render.LabelComponent: Component,
		render.LabelManagedBy: render.ManagedBy,
	}
	return tmpl
}

// runPolicy renders the run policy, with the gang-scheduling and Kueue
// settings the operator passes on to the scheduler.
func runPolicy(t *ir.Training) RunPolicy {
	rp := RunPolicy{CleanPodPolicy: t.RunPolicy.CleanPodPolicy}
	if v := t.RunPolicy.BackoffLimit; v != nil {
		rp.BackoffLimit = i32(*v)
	}
	if v := t.RunPolicy.TTLSecondsAfterFinished; v != nil {
		rp.TTLSecondsAfterFinished = i32(*v)
	}
	if v := t.RunPolicy.ActiveDeadlineSeconds; v != nil {
		d := int64(*v)
		rp.ActiveDeadlineSeconds = &d
	}
	if t.RunPolicy.Suspend {
		rp.Suspend = ptr(true)
	}
	if s := t.Scheduling; s != nil && (s.Gang != "" || s.PriorityClass != "") {
		rp.SchedulingPolicy = &SchedulingPolicy{PriorityClass: s.PriorityClass}
		if s.Gang != "" {
			rp.SchedulingPolicy.MinAvailable = i32(t.Workers)
		}
	}
	return rp
}

// Args renders hyperparameters as --name=value in name order, then the
// extra args unchanged.
func Args(t *ir.Training) []string {
	var args []string
	for _, k := range slices.Sorted(maps.Keys(t.Args)) {
		args = append(args, fmt.Sprintf("--%s=%s", k, t.Args[k].String()))
	}
	return append(args, t.ExtraArgs...)
}

// WorkloadServiceAccount is the service account workload pods run as
// unless an entry names its own: it has no permissions and no token.
func WorkloadServiceAccount(sys *ir.System) string { return sys.Name + "-workload" }

func i32(v int) *int32 { n := int32(v); return &n }

func ptr[T any](v T) *T { return &v }
