package compiler

import (
	"cmp"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kiln-ml/kiln/ir"
)

// Values the schema types only as strings, which Kubernetes, Argo or the
// operators later refuse: label keys and values, environment names, GPU
// product names (node-selector values), toleration keys, Argo parameter
// and artifact names, and quantities that must be more than zero. Each is
// checked with the rule of the API that will read it, so a spec kiln
// accepts renders objects the cluster accepts.

// checkEnvironmentNames checks the environments' names, before any is
// resolved: they name the directories kiln writes, so a bad one stops
// everything. It reports whether all are valid.
func (c *compilation) checkEnvironmentNames(envs map[string]*ir.Environment) bool {
	ok := true
	for _, name := range slices.Sorted(maps.Keys(envs)) {
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			path := ir.Path("environments", name)
			c.diags.Errorf(c.src.Pos(path), path, "invalid environment name %q: it names the output directory <out>/<environment> and the environment's Argo CD Application, so it must be a DNS-1123 label: %s", name, strings.Join(errs, "; "))
			ok = false
		}
	}
	return ok
}

// checkSystem checks what every environment shares: the system's labels,
// and environments that would deploy over each other. envs are all the
// spec's environments, selected or not.
func (c *compilation) checkSystem(sys *ir.System, envs map[string]*ir.Environment) {
	errorf := func(path, format string, args ...any) {
		c.diags.Errorf(c.src.Pos(path), path, format, args...)
	}
	for _, key := range slices.Sorted(maps.Keys(sys.Labels)) {
		path := ir.Path("labels", key)
		if errs := validation.IsQualifiedName(key); len(errs) > 0 {
			errorf(path, "invalid label key %q: %s", key, strings.Join(errs, "; "))
		}
		if slices.Contains(reservedLabels, key) || strings.HasPrefix(key, "kiln.dev/") {
			errorf(path, "label %s is kiln's own (it identifies the objects of each entry, and selectors rely on it), so this value would be lost on some objects and break selection on others; use a key of your own", key)
		}
		if errs := validation.IsValidLabelValue(sys.Labels[key]); len(errs) > 0 {
			errorf(path, "invalid value %q of label %s: %s", sys.Labels[key], key, strings.Join(errs, "; "))
		}
	}
	// Two environments on one namespace of one cluster would write the
	// same objects (the Namespace first of all), each overwriting the
	// other's. With a gitops section Argo CD's rendering reports it, as
	// every destination is then relative to one Argo CD. Without one, the
	// default destination names no cluster in particular (dev and prod
	// are often applied to clusters of their own), so only destinations
	// the spec writes out are compared.
	if sys.GitOps != nil {
		return
	}
	type dest struct{ cluster, namespace string }
	seen := map[dest]string{}
	for _, name := range slices.Sorted(maps.Keys(envs)) {
		e := envs[name]
		if _, explicit := c.src[ir.Path("environments", name, "destination")]; !explicit {
			continue
		}
		d := dest{cmp.Or(e.Destination.Name, e.Destination.Server), cmp.Or(e.Namespace, sys.Namespace)}
		if prev, dup := seen[d]; dup {
			errorf(ir.Path("environments", name), "environments %s and %s both deploy to namespace %q of cluster %s, so each would overwrite the other's objects; give one of them another namespace (%s) or destination", prev, name, d.namespace, d.cluster, ir.Path("environments", name, "namespace"))
			continue
		}
		seen[d] = name
	}
}

// reservedLabels are the labels kiln sets on its objects itself (see
// render.LabelName and the others); kiln.dev/ is kiln's prefix.
var reservedLabels = []string{"app.kubernetes.io/name", "app.kubernetes.io/part-of", "app.kubernetes.io/component", "app.kubernetes.io/managed-by"}

// argoName is the rule Argo's validator holds parameter and artifact
// names to (workflow/validate: alphanumerics, '_' and '-').
var argoName = regexp.MustCompile(`^[-a-zA-Z0-9_]+$`)

// checkValues checks, in one environment, the values the schema lets
// through as plain strings.
func (k checker) checkValues() {
	env, s := k.env, k.env.Spec
	envPath := ir.Path("environments", env.Name)
	for i, p := range env.GPU.Products {
		path := ir.Index(ir.Join(envPath, "gpu", "products"), i)
		if errs := validation.IsValidLabelValue(p); len(errs) > 0 {
			k.errorf(path, "invalid GPU product %q: it becomes the value of node selector nvidia.com/gpu.product, and the pods would be refused: %s; write the node label's value, such as NVIDIA-A100-SXM4-80GB", p, strings.Join(errs, "; "))
		}
	}
	for i, t := range env.GPU.Tolerations {
		path := ir.Index(ir.Join(envPath, "gpu", "tolerations"), i)
		if t.Key != "" {
			if errs := validation.IsQualifiedName(t.Key); len(errs) > 0 {
				k.errorf(ir.Join(path, "key"), "invalid toleration key %q: %s", t.Key, strings.Join(errs, "; "))
			}
		}
		switch {
		case t.Operator == "Exists" && t.Value != "":
			k.errorf(ir.Join(path, "value"), "a toleration with operator Exists matches any value of the taint and may not set one: remove value, or set operator: \"Equal\"")
		case t.Operator == "Equal" && t.Key == "":
			k.errorf(path, "a toleration with operator Equal needs a key")
		case t.Operator == "Equal":
			if errs := validation.IsValidLabelValue(t.Value); len(errs) > 0 {
				k.errorf(ir.Join(path, "value"), "invalid toleration value %q: %s", t.Value, strings.Join(errs, "; "))
			}
		}
	}
	walkResources("", reflect.ValueOf(s), func(path string, r *ir.Resources) {
		if r.GPUProduct == "" {
			return
		}
		if errs := validation.IsValidLabelValue(r.GPUProduct); len(errs) > 0 {
			k.errorf(ir.Join(path, "gpuProduct"), "invalid GPU product %q: it becomes the value of node selector nvidia.com/gpu.product, and the pods would be refused: %s; write the node label's value, such as NVIDIA-A100-SXM4-80GB", r.GPUProduct, strings.Join(errs, "; "))
		}
	})
	walkFields("", reflect.ValueOf(s), func(at *irPath, _ string, v reflect.Value) {
		if v.Type() != envMapType {
			return
		}
		for _, name := range slices.Sorted(maps.Keys(v.Interface().(map[string]ir.EnvVar))) {
			if errs := validation.IsEnvVarName(name); len(errs) > 0 {
				k.errorf(ir.Join(at.String(), name), "invalid environment variable name %q: %s", name, strings.Join(errs, "; "))
			}
		}
	})
	for _, name := range slices.Sorted(maps.Keys(s.Notebooks)) {
		k.positive(ir.Path("notebooks", name, "workspace"), s.Notebooks[name].Workspace, "the workspace PersistentVolumeClaim's storage request")
	}
	argo := func(path, what, name string) {
		if !argoName.MatchString(name) {
			k.errorf(path, "invalid %s name %q: Argo accepts only letters, digits, '_' and '-' (e.g. learning_rate, model-uri)", what, name)
		}
	}
	steps := func(path string, st *ir.Step) {
		if st.Inputs != nil {
			for _, n := range slices.Sorted(maps.Keys(st.Inputs.Parameters)) {
				argo(ir.Join(path, "inputs", "parameters", n), "input parameter", n)
			}
		}
		if st.Outputs != nil {
			for i, n := range st.Outputs.Parameters {
				argo(ir.Index(ir.Join(path, "outputs", "parameters"), i), "output parameter", n)
			}
			for i, n := range st.Outputs.Artifacts {
				argo(ir.Index(ir.Join(path, "outputs", "artifacts"), i), "artifact", n)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Components)) {
		steps(ir.Path("components", name), s.Components[name])
	}
	for _, name := range slices.Sorted(maps.Keys(s.Pipelines)) {
		p := s.Pipelines[name]
		for _, n := range slices.Sorted(maps.Keys(p.Parameters)) {
			argo(ir.Path("pipelines", name, "parameters", n), "pipeline parameter", n)
		}
		for _, st := range slices.Sorted(maps.Keys(p.Steps)) {
			steps(ir.Path("pipelines", name, "steps", st), p.Steps[st])
		}
	}
}

// positive reports a quantity that is zero where Kubernetes wants more.
// Negative ones never get here: the schema's pattern has no sign.
func (k checker) positive(path string, q ir.Quantity, what string) {
	if q == "" {
		return
	}
	if v, err := resource.ParseQuantity(string(q)); err == nil && v.Sign() <= 0 {
		k.errorf(path, "%q is zero, but %s must be more than zero (Kubernetes refuses it); set a size such as 10Gi, or remove the field", string(q), what)
	}
}

var resourcesType = reflect.TypeFor[ir.Resources]()

// walkResources calls f with every ir.Resources in v, the value at CUE
// path.
func walkResources(path string, v reflect.Value, f func(string, *ir.Resources)) {
	walkFields(path, v, func(at *irPath, _ string, v reflect.Value) {
		if v.Type() == resourcesType {
			r := v.Interface().(ir.Resources)
			f(at.String(), &r)
		}
	})
}
