package pod

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kiln-ml/kiln/ir"
)

// Well-known names.
const (
	// GPUProductLabel is the node label NVIDIA's GPU feature discovery sets.
	GPUProductLabel = "nvidia.com/gpu.product"
	// GPUResource is the extended resource of whole NVIDIA GPUs.
	GPUResource = "nvidia.com/gpu"
	shmVolume   = "dshm"
)

// Input describes one container and the pod around it.
type Input struct {
	// Container is the container name; operators require their own
	// (pytorch, tensorflow, …).
	Container string
	Image     string
	Command   []string
	Args      []string
	Env       map[string]ir.EnvVar
	Resources ir.Resources
	// Datasets are names of datasets in the environment's spec.
	Datasets []string
	Security ir.Security
	// ServiceAccount the pod runs as; AutomountToken mounts its token,
	// which only pods that call the API server need.
	ServiceAccount   string
	AutomountToken   bool
	ImagePullSecrets []string
	PriorityClass    string
	// Ports the container listens on.
	Ports []corev1.ContainerPort
	// ImageHome keeps the image's HOME under the restricted profile: for
	// images that have a user with UID runAsUser and a home for it
	// (Kubeflow's notebook images, the MPI operator's), so HOME=/tmp is
	// not set.
	ImageHome bool
}

// Home is the HOME restricted containers get unless they set their own.
// They run as a UID the image may not know: with no passwd entry, HOME
// is "/", which the user cannot write, and ~/.cache (Hugging Face),
// ~/.triton (torch.compile) and the like fail.
const Home = "/tmp"

// Spec returns the pod spec for in, placed and secured for env.
func Spec(env *ir.Environment, in Input) corev1.PodSpec {
	c := Container(env, in)
	ps := corev1.PodSpec{
		Containers:                   []corev1.Container{c},
		ServiceAccountName:           in.ServiceAccount,
		AutomountServiceAccountToken: &in.AutomountToken,
		SecurityContext:              PodSecurityContext(in.Security),
		PriorityClassName:            in.PriorityClass,
	}
	for _, s := range in.ImagePullSecrets {
		ps.ImagePullSecrets = append(ps.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
	}
	ps.Volumes = Volumes(env, in.Resources, in.Datasets)
	Place(env, &ps, in.Resources)
	return ps
}

// Container returns the container for in.
func Container(env *ir.Environment, in Input) corev1.Container {
	c := corev1.Container{
		Name:            in.Container,
		Image:           in.Image,
		Command:         in.Command,
		Args:            in.Args,
		Ports:           in.Ports,
		Resources:       Requirements(in.Resources),
		SecurityContext: ContainerSecurityContext(in.Security),
	}
	env0 := in.Env
	if _, set := in.Env["HOME"]; in.Security.Restricted() && !in.ImageHome && !set {
		env0 = maps.Clone(in.Env)
		if env0 == nil {
			env0 = map[string]ir.EnvVar{}
		}
		env0["HOME"] = ir.EnvVar{Value: Home}
	}
	c.Env = EnvVars(env0)
	dsEnv, envFrom, mounts := datasetEnv(env, in.Datasets)
	c.Env = append(c.Env, dsEnv...)
	c.EnvFrom = envFrom
	c.VolumeMounts = append(c.VolumeMounts, mounts...)
	if in.Resources.SHM != "" {
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: shmVolume, MountPath: "/dev/shm"})
	}
	return c
}

// Requirements returns requests and limits. GPUs are set as limits and
// equal requests; memory and ephemeral storage are guaranteed (request =
// limit) because an ML job evicted for memory loses hours of work; CPU is
// only requested, so pods may use idle cores.
func Requirements(r ir.Resources) corev1.ResourceRequirements {
	req := corev1.ResourceList{}
	lim := corev1.ResourceList{}
	if r.CPU != "" {
		req[corev1.ResourceCPU] = Quantity(r.CPU)
	}
	if r.Memory != "" {
		req[corev1.ResourceMemory] = Quantity(r.Memory)
		lim[corev1.ResourceMemory] = Quantity(r.Memory)
	}
	if r.EphemeralStorage != "" {
		req[corev1.ResourceEphemeralStorage] = Quantity(r.EphemeralStorage)
		lim[corev1.ResourceEphemeralStorage] = Quantity(r.EphemeralStorage)
	}
	if r.GPUs > 0 {
		q := *resource.NewQuantity(int64(r.GPUs), resource.DecimalSI)
		req[corev1.ResourceName(r.GPUResource())] = q
		lim[corev1.ResourceName(r.GPUResource())] = q
	}
	rr := corev1.ResourceRequirements{}
	if len(req) > 0 {
		rr.Requests = req
	}
	if len(lim) > 0 {
		rr.Limits = lim
	}
	return rr
}

// Quantity parses a quantity the schema has already checked, in its
// canonical form, so output does not flap between "1024Mi" and "1Gi"
// against what the API server stores.
func Quantity(q ir.Quantity) resource.Quantity {
	v, err := resource.ParseQuantity(string(q))
	if err != nil {
		// The schema's pattern and the parser disagree: a bug in kiln.
		panic(fmt.Sprintf("pod: quantity %q passed the schema but does not parse: %v", q, err))
	}
	return v
}

// Place puts GPU pods on GPU nodes of the right product and lets them
// onto tainted GPU nodes.
func Place(env *ir.Environment, ps *corev1.PodSpec, r ir.Resources) {
	if r.GPUs == 0 {
		return
	}
	product := r.GPUProduct
	if product == "" {
		product = env.GPU.DefaultProduct()
	}
	if product != "" {
		ps.NodeSelector = map[string]string{GPUProductLabel: product}
	}
	tols := env.GPU.Tolerations
	if len(tols) == 0 {
		tols = []ir.Toleration{{Key: GPUResource, Operator: "Exists", Effect: "NoSchedule"}}
	}
	for _, t := range tols {
		ps.Tolerations = append(ps.Tolerations, corev1.Toleration{
			Key:      t.Key,
			Operator: corev1.TolerationOperator(t.Operator),
			Value:    t.Value,
			Effect:   corev1.TaintEffect(t.Effect),
		})
	}
}

// PodSecurityContext is the pod-level half of the restricted profile.
// Volumes are handed to fsGroup only when their root is not already
// theirs (OnRootMismatch): otherwise the kubelet changes the group of
// every file of a large dataset claim on every pod start.
func PodSecurityContext(s ir.Security) *corev1.PodSecurityContext {
	psc := &corev1.PodSecurityContext{
		SeccompProfile:      &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		FSGroup:             ptr(s.FSGroup),
		FSGroupChangePolicy: ptr(corev1.FSGroupChangeOnRootMismatch),
	}
	if s.Restricted() {
		psc.RunAsNonRoot = ptr(true)
		psc.RunAsUser = ptr(s.RunAsUser)
		psc.RunAsGroup = ptr(s.RunAsGroup)
	}
	return psc
}

// ContainerSecurityContext is the container-level half of the restricted
// profile. Baseline keeps the parts that cost nothing.
func ContainerSecurityContext(s ir.Security) *corev1.SecurityContext {
	sc := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	if s.Restricted() {
		sc.RunAsNonRoot = ptr(true)
	}
	return sc
}

// EnvVars renders environment variables in name order; Secret references
// stay references.
func EnvVars(env map[string]ir.EnvVar) []corev1.EnvVar {
	var out []corev1.EnvVar
	for _, name := range slices.Sorted(maps.Keys(env)) {
		v := env[name]
		if v.Secret != nil {
			key := v.Secret.Key
			if key == "" {
				key = name
			}
			out = append(out, corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
				SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: v.Secret.Secret}, Key: key},
			}})
			continue
		}
		out = append(out, corev1.EnvVar{Name: name, Value: v.Value})
	}
	return out
}

// Volumes returns the pod's volumes: /dev/shm and pvc:// datasets.
func Volumes(env *ir.Environment, r ir.Resources, datasets []string) []corev1.Volume {
	var vols []corev1.Volume
	for _, name := range datasets {
		ds := env.Spec.Datasets[name]
		if ds == nil {
			continue
		}
		if claim, _, ok := pvc(ds.URI); ok {
			vols = append(vols, corev1.Volume{Name: volumeName(name), VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim, ReadOnly: ds.ReadOnly},
			}})
		}
		if ds.Credentials != nil && strings.HasPrefix(ds.URI, "gs://") {
			vols = append(vols, corev1.Volume{Name: credVolumeName(name), VolumeSource: corev1.VolumeSource{
				Secret: &corev1.SecretVolumeSource{SecretName: ds.Credentials.Secret},
			}})
		}
	}
	if r.SHM != "" {
		q := Quantity(r.SHM)
		vols = append(vols, corev1.Volume{Name: shmVolume, VolumeSource: corev1.VolumeSource{
			EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &q},
		}})
	}
	return vols
}

// datasetEnv tells the container where each dataset is: DATASET_<NAME>_URI
// always, DATASET_<NAME>_PATH for mounted ones, and credentials from the
// named Secret (its keys as environment variables for S3-style stores, a
// mounted key file for GCS).
func datasetEnv(env *ir.Environment, datasets []string) ([]corev1.EnvVar, []corev1.EnvFromSource, []corev1.VolumeMount) {
	var envs []corev1.EnvVar
	var from []corev1.EnvFromSource
	var mounts []corev1.VolumeMount
	for _, name := range datasets {
		ds := env.Spec.Datasets[name]
		if ds == nil {
			continue
		}
		prefix := "DATASET_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
		envs = append(envs, corev1.EnvVar{Name: prefix + "_URI", Value: ds.URI})
		if _, sub, ok := pvc(ds.URI); ok {
			mp := ds.MountPath
			if mp == "" {
				mp = "/data/" + name
			}
			mounts = append(mounts, corev1.VolumeMount{Name: volumeName(name), MountPath: mp, SubPath: sub, ReadOnly: ds.ReadOnly})
			envs = append(envs, corev1.EnvVar{Name: prefix + "_PATH", Value: mp})
		}
		if ds.Credentials == nil {
			continue
		}
		if strings.HasPrefix(ds.URI, "gs://") {
			dir := "/var/run/secrets/kiln/" + name
			key := ds.Credentials.Key
			if key == "" {
				key = "key.json"
			}
			mounts = append(mounts, corev1.VolumeMount{Name: credVolumeName(name), MountPath: dir, ReadOnly: true})
			// One key file per container (DatasetConflicts refuses
			// different ones): the first dataset's.
			if !slices.ContainsFunc(envs, func(e corev1.EnvVar) bool { return e.Name == gcsCredentialsEnv }) {
				envs = append(envs, corev1.EnvVar{Name: gcsCredentialsEnv, Value: path.Join(dir, key)})
			}
			continue
		}
		ref := corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: ds.Credentials.Secret}}}
		if !slices.ContainsFunc(from, func(f corev1.EnvFromSource) bool { return f.SecretRef.Name == ref.SecretRef.Name }) {
			from = append(from, ref)
		}
	}
	return envs, from, mounts
}

// pvc splits pvc://claim/sub/path.
func pvc(uri string) (claim, sub string, ok bool) {
	rest, ok := strings.CutPrefix(uri, "pvc://")
	if !ok {
		return "", "", false
	}
	claim, sub, _ = strings.Cut(rest, "/")
	return claim, strings.Trim(sub, "/"), true
}

const gcsCredentialsEnv = "GOOGLE_APPLICATION_CREDENTIALS"

func volumeName(dataset string) string     { return "data-" + strings.ReplaceAll(dataset, "_", "-") }
func credVolumeName(dataset string) string { return "creds-" + strings.ReplaceAll(dataset, "_", "-") }

func ptr[T any](v T) *T { return &v }
