package validate

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The checks below follow k8s.io/kubernetes/pkg/apis/core/validation for the
// cases that matter for generated manifests. Values that the API server would
// default (an empty protocol, restart policy, ...) are accepted where the
// default is valid.

// podSpecOptions tells checkPodSpec about the workload that holds the spec.
type podSpecOptions struct {
	// restartPolicies are the allowed pod restart policies; an empty policy is
	// defaulted to Always.
	restartPolicies []corev1.RestartPolicy
	// extraVolumes are names that volume mounts may refer to besides the pod's
	// volumes (a StatefulSet's volume claim templates).
	extraVolumes []string
}

var allRestartPolicies = []corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}

func checkPodTemplate(t *corev1.PodTemplateSpec, p *field.Path, opts podSpecOptions) field.ErrorList {
	var errs field.ErrorList
	mp := p.Child("metadata")
	errs = append(errs, metav1validation.ValidateLabels(t.Labels, mp.Child("labels"))...)
	errs = append(errs, apimachineryvalidation.ValidateAnnotations(t.Annotations, mp.Child("annotations"))...)
	errs = append(errs, checkPodSpec(&t.Spec, p.Child("spec"), opts)...)
	return errs
}

func checkPodSpec(spec *corev1.PodSpec, p *field.Path, opts podSpecOptions) field.ErrorList {
	var errs field.ErrorList
	volumes, vErrs := checkVolumes(spec.Volumes, p.Child("volumes"))
	errs = append(errs, vErrs...)
	for _, v := range opts.extraVolumes {
		volumes.Insert(v)
	}

	names := sets.New[string]()
	for i := range spec.InitContainers {
		errs = append(errs, checkContainer(&spec.InitContainers[i], p.Child("initContainers").Index(i), volumes, names, true)...)
	}
	if len(spec.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), ""))
	}
	for i := range spec.Containers {
		errs = append(errs, checkContainer(&spec.Containers[i], p.Child("containers").Index(i), volumes, names, false)...)
	}

	allowed := opts.restartPolicies
	if len(allowed) == 0 {
		allowed = allRestartPolicies
	}
	switch {
	case spec.RestartPolicy == "" && !slices.Contains(allowed, corev1.RestartPolicyAlways):
		errs = append(errs, field.Required(p.Child("restartPolicy"), "valid values: "+quoteAll(toStrings(allowed))))
	case spec.RestartPolicy != "" && !slices.Contains(allowed, spec.RestartPolicy):
		errs = append(errs, field.NotSupported(p.Child("restartPolicy"), spec.RestartPolicy, allowed))
	}

	switch spec.DNSPolicy {
	case "", corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet, corev1.DNSDefault:
	case corev1.DNSNone:
		if spec.DNSConfig == nil {
			errs = append(errs, field.Required(p.Child("dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("dnsPolicy"), spec.DNSPolicy,
			[]corev1.DNSPolicy{corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone}))
	}
	if spec.ServiceAccountName != "" {
		for _, msg := range apimachineryvalidation.ValidateServiceAccountName(spec.ServiceAccountName, false) {
			errs = append(errs, field.Invalid(p.Child("serviceAccountName"), spec.ServiceAccountName, msg))
		}
	}
	if spec.PriorityClassName != "" {
		for _, msg := range utilvalidation.IsDNS1123Subdomain(spec.PriorityClassName) {
			errs = append(errs, field.Invalid(p.Child("priorityClassName"), spec.PriorityClassName, msg))
		}
	}
	for _, f := range []struct{ name, value string }{{"hostname", spec.Hostname}, {"subdomain", spec.Subdomain}} {
		if f.value != "" {
			for _, msg := range utilvalidation.IsDNS1123Label(f.value) {
				errs = append(errs, field.Invalid(p.Child(f.name), f.value, msg))
			}
		}
	}
	errs = append(errs, metav1validation.ValidateLabels(spec.NodeSelector, p.Child("nodeSelector"))...)
	if spec.ActiveDeadlineSeconds != nil && *spec.ActiveDeadlineSeconds <= 0 {
		errs = append(errs, field.Invalid(p.Child("activeDeadlineSeconds"), *spec.ActiveDeadlineSeconds, "must be between 1 and 2147483647, inclusive"))
	}
	errs = append(errs, checkTolerations(spec.Tolerations, p.Child("tolerations"))...)
	if sc := spec.SecurityContext; sc != nil {
		sp := p.Child("securityContext")
		errs = append(errs, checkIDs(sp, sc.RunAsUser, sc.RunAsGroup)...)
		if sc.FSGroup != nil {
			errs = append(errs, checkGroupID(sp.Child("fsGroup"), *sc.FSGroup)...)
		}
		for i, g := range sc.SupplementalGroups {
			errs = append(errs, checkGroupID(sp.Child("supplementalGroups").Index(i), g)...)
		}
	}
	return errs
}

func checkIDs(p *field.Path, user, group *int64) field.ErrorList {
	var errs field.ErrorList
	if user != nil {
		for _, msg := range utilvalidation.IsValidUserID(*user) {
			errs = append(errs, field.Invalid(p.Child("runAsUser"), *user, msg))
		}
	}
	if group != nil {
		errs = append(errs, checkGroupID(p.Child("runAsGroup"), *group)...)
	}
	return errs
}

func checkGroupID(p *field.Path, gid int64) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range utilvalidation.IsValidGroupID(gid) {
		errs = append(errs, field.Invalid(p, gid, msg))
	}
	return errs
}

func checkVolumes(vols []corev1.Volume, p *field.Path) (sets.Set[string], field.ErrorList) {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, v := range vols {
		vp := p.Index(i)
		switch {
		case v.Name == "":
			errs = append(errs, field.Required(vp.Child("name"), ""))
		case names.Has(v.Name):
			errs = append(errs, field.Duplicate(vp.Child("name"), v.Name))
		default:
			for _, msg := range utilvalidation.IsDNS1123Label(v.Name) {
				errs = append(errs, field.Invalid(vp.Child("name"), v.Name, msg))
			}
		}
		names.Insert(v.Name)
		switch n := countSetPointers(v.VolumeSource); {
		case n == 0:
			errs = append(errs, field.Required(vp, "must specify a volume type"))
		case n > 1:
			errs = append(errs, field.Forbidden(vp, "may not specify more than 1 volume type"))
		}
		if s := v.ConfigMap; s != nil {
			errs = append(errs, checkKeyToPaths(s.Items, vp.Child("configMap", "items"))...)
			if s.Name == "" {
				errs = append(errs, field.Required(vp.Child("configMap", "name"), ""))
			}
		}
		if s := v.Secret; s != nil {
			errs = append(errs, checkKeyToPaths(s.Items, vp.Child("secret", "items"))...)
			if s.SecretName == "" {
				errs = append(errs, field.Required(vp.Child("secret", "secretName"), ""))
			}
		}
		if s := v.PersistentVolumeClaim; s != nil && s.ClaimName == "" {
			errs = append(errs, field.Required(vp.Child("persistentVolumeClaim", "claimName"), ""))
		}
		if s := v.HostPath; s != nil && s.Path == "" {
			errs = append(errs, field.Required(vp.Child("hostPath", "path"), ""))
		}
		if s := v.EmptyDir; s != nil {
			if s.Medium != "" && s.Medium != corev1.StorageMediumMemory && s.Medium != corev1.StorageMediumHugePages && !strings.HasPrefix(string(s.Medium), "HugePages-") {
				errs = append(errs, field.NotSupported(vp.Child("emptyDir", "medium"), s.Medium, []corev1.StorageMedium{corev1.StorageMediumDefault, corev1.StorageMediumMemory, corev1.StorageMediumHugePages}))
			}
			if s.SizeLimit != nil && s.SizeLimit.Sign() < 0 {
				errs = append(errs, field.Invalid(vp.Child("emptyDir", "sizeLimit"), s.SizeLimit.String(), "must be greater than or equal to 0"))
			}
		}
	}
	return names, errs
}

func checkKeyToPaths(items []corev1.KeyToPath, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, it := range items {
		ip := p.Index(i)
		if it.Key == "" {
			errs = append(errs, field.Required(ip.Child("key"), ""))
		}
		errs = append(errs, checkLocalPath(it.Path, ip.Child("path"))...)
		if it.Mode != nil && (*it.Mode > 0o777 || *it.Mode < 0) {
			errs = append(errs, field.Invalid(ip.Child("mode"), *it.Mode, "must be a number between 0 and 0777 (octal), both inclusive"))
		}
	}
	return errs
}

// checkLocalPath checks a relative path that must stay inside its volume.
func checkLocalPath(pth string, p *field.Path) field.ErrorList {
	switch {
	case pth == "":
		return field.ErrorList{field.Required(p, "")}
	case strings.HasPrefix(pth, "/"):
		return field.ErrorList{field.Invalid(p, pth, "must be a relative path")}
	}
	for _, part := range strings.Split(pth, "/") {
		if part == ".." {
			return field.ErrorList{field.Invalid(p, pth, "must not contain '..'")}
		}
	}
	if strings.HasPrefix(pth, "..") {
		return field.ErrorList{field.Invalid(p, pth, "must not start with '..'")}
	}
	return nil
}

// countSetPointers counts the non-nil pointer fields of a struct of optional
// members, such as VolumeSource.
func countSetPointers(v any) int {
	rv := reflect.ValueOf(v)
	n := 0
	for i := 0; i < rv.NumField(); i++ {
		if f := rv.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			n++
		}
	}
	return n
}

func checkContainer(c *corev1.Container, p *field.Path, volumes sets.Set[string], names sets.Set[string], init bool) field.ErrorList {
	var errs field.ErrorList
	switch {
	case c.Name == "":
		errs = append(errs, field.Required(p.Child("name"), ""))
	case names.Has(c.Name):
		errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
	default:
		for _, msg := range utilvalidation.IsDNS1123Label(c.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), c.Name, msg))
		}
	}
	names.Insert(c.Name)

	switch {
	case strings.TrimSpace(c.Image) == "":
		errs = append(errs, field.Required(p.Child("image"), ""))
	case c.Image != strings.TrimSpace(c.Image):
		errs = append(errs, field.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	switch c.ImagePullPolicy {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		errs = append(errs, field.NotSupported(p.Child("imagePullPolicy"), c.ImagePullPolicy, []corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever}))
	}
	switch c.TerminationMessagePolicy {
	case "", corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError:
	default:
		errs = append(errs, field.NotSupported(p.Child("terminationMessagePolicy"), c.TerminationMessagePolicy,
			[]corev1.TerminationMessagePolicy{corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError}))
	}

	errs = append(errs, checkContainerPorts(c.Ports, p.Child("ports"))...)
	errs = append(errs, checkEnv(c.Env, p.Child("env"))...)
	for i, ef := range c.EnvFrom {
		if n := countSetPointers(ef); n != 1 {
			errs = append(errs, field.Invalid(p.Child("envFrom").Index(i), "", "must specify exactly one of: `configMapRef` or `secretRef`"))
		}
	}
	errs = append(errs, checkResources(&c.Resources, p.Child("resources"))...)

	mountPaths := sets.New[string]()
	for i, m := range c.VolumeMounts {
		mp := p.Child("volumeMounts").Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(mp.Child("name"), ""))
		} else if !volumes.Has(m.Name) {
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(mp.Child("mountPath"), ""))
		} else if mountPaths.Has(m.MountPath) {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		mountPaths.Insert(m.MountPath)
	}

	// Regular init containers may not have probes or lifecycle hooks; sidecars
	// (init containers with restartPolicy: Always) may.
	sidecar := init && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
	if init && c.RestartPolicy != nil && !sidecar {
		errs = append(errs, field.NotSupported(p.Child("restartPolicy"), *c.RestartPolicy, []corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways}))
	}
	probes := []struct {
		name  string
		probe *corev1.Probe
	}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}}
	for _, pr := range probes {
		if pr.probe == nil {
			continue
		}
		pp := p.Child(pr.name)
		if init && !sidecar {
			errs = append(errs, field.Forbidden(pp, "may not be set for init containers without restartPolicy=Always"))
			continue
		}
		errs = append(errs, checkProbe(pr.probe, pp, pr.name != "readinessProbe")...)
	}
	if c.Lifecycle != nil {
		lp := p.Child("lifecycle")
		if init && !sidecar {
			errs = append(errs, field.Forbidden(lp, "may not be set for init containers without restartPolicy=Always"))
		} else {
			for _, h := range []struct {
				name    string
				handler *corev1.LifecycleHandler
			}{{"postStart", c.Lifecycle.PostStart}, {"preStop", c.Lifecycle.PreStop}} {
				if h.handler != nil {
					errs = append(errs, checkHandlerCount(countSetPointers(*h.handler), lp.Child(h.name))...)
					errs = append(errs, checkHTTPGetAndTCP(h.handler.HTTPGet, h.handler.TCPSocket, lp.Child(h.name))...)
				}
			}
		}
	}
	if sc := c.SecurityContext; sc != nil {
		sp := p.Child("securityContext")
		errs = append(errs, checkIDs(sp, sc.RunAsUser, sc.RunAsGroup)...)
		if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			if sc.Privileged != nil && *sc.Privileged {
				errs = append(errs, field.Invalid(sp, sc, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
			}
			if sc.Capabilities != nil {
				for _, cp := range sc.Capabilities.Add {
					if cp == "SYS_ADMIN" || cp == "CAP_SYS_ADMIN" {
						errs = append(errs, field.Invalid(sp, sc, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
					}
				}
			}
		}
	}
	return errs
}

func checkHandlerCount(n int, p *field.Path) field.ErrorList {
	switch {
	case n == 0:
		return field.ErrorList{field.Required(p, "must specify a handler type")}
	case n > 1:
		return field.ErrorList{field.Forbidden(p, "may not specify more than 1 handler type")}
	}
	return nil
}

func checkProbe(pr *corev1.Probe, p *field.Path, successMustBeOne bool) field.ErrorList {
	errs := checkHandlerCount(countSetPointers(pr.ProbeHandler), p)
	errs = append(errs, checkHTTPGetAndTCP(pr.HTTPGet, pr.TCPSocket, p)...)
	if g := pr.GRPC; g != nil {
		for _, msg := range utilvalidation.IsValidPortNum(int(g.Port)) {
			errs = append(errs, field.Invalid(p.Child("grpc", "port"), g.Port, msg))
		}
	}
	for _, f := range []struct {
		name string
		v    int32
	}{{"initialDelaySeconds", pr.InitialDelaySeconds}, {"timeoutSeconds", pr.TimeoutSeconds}, {"periodSeconds", pr.PeriodSeconds},
		{"successThreshold", pr.SuccessThreshold}, {"failureThreshold", pr.FailureThreshold}} {
		if f.v < 0 {
			errs = append(errs, field.Invalid(p.Child(f.name), f.v, "must be greater than or equal to 0"))
		}
	}
	if successMustBeOne && pr.SuccessThreshold > 1 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
	return errs
}

func checkHTTPGetAndTCP(h *corev1.HTTPGetAction, t *corev1.TCPSocketAction, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if h != nil {
		errs = append(errs, checkPortOrName(h.Port, p.Child("httpGet", "port"), true)...)
		switch h.Scheme {
		case "", corev1.URISchemeHTTP, corev1.URISchemeHTTPS:
		default:
			errs = append(errs, field.NotSupported(p.Child("httpGet", "scheme"), h.Scheme, []corev1.URIScheme{corev1.URISchemeHTTP, corev1.URISchemeHTTPS}))
		}
	}
	if t != nil {
		errs = append(errs, checkPortOrName(t.Port, p.Child("tcpSocket", "port"), true)...)
	}
	return errs
}

// checkPortOrName checks an int-or-string port: a port number, or the name of
// a port. A zero number is an error when required.
func checkPortOrName(port intstr.IntOrString, p *field.Path, required bool) field.ErrorList {
	var errs field.ErrorList
	if port.Type == intstr.String {
		if port.StrVal == "" && required {
			return field.ErrorList{field.Required(p, "")}
		}
		for _, msg := range utilvalidation.IsValidPortName(port.StrVal) {
			errs = append(errs, field.Invalid(p, port.StrVal, msg))
		}
		return errs
	}
	if port.IntVal == 0 && !required {
		return nil
	}
	for _, msg := range utilvalidation.IsValidPortNum(int(port.IntVal)) {
		errs = append(errs, field.Invalid(p, port.IntVal, msg))
	}
	return errs
}

var supportedProtocols = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}

func checkProtocol(proto corev1.Protocol, p *field.Path) field.ErrorList {
	if proto == "" || slices.Contains(supportedProtocols, proto) {
		return nil
	}
	return field.ErrorList{field.NotSupported(p, proto, supportedProtocols)}
}

func checkContainerPorts(ports []corev1.ContainerPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, port := range ports {
		pp := p.Index(i)
		if port.Name != "" {
			for _, msg := range utilvalidation.IsValidPortName(port.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), port.Name, msg))
			}
			if names.Has(port.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			names.Insert(port.Name)
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(pp.Child("containerPort"), ""))
		} else {
			for _, msg := range utilvalidation.IsValidPortNum(int(port.ContainerPort)) {
				errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, msg))
			}
		}
		if port.HostPort != 0 {
			for _, msg := range utilvalidation.IsValidPortNum(int(port.HostPort)) {
				errs = append(errs, field.Invalid(pp.Child("hostPort"), port.HostPort, msg))
			}
		}
		errs = append(errs, checkProtocol(port.Protocol, pp.Child("protocol"))...)
	}
	return errs
}

var validFieldPathExpressions = sets.New(
	"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations",
	"spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
)

var validContainerResourceFieldRefs = sets.New(
	"limits.cpu", "limits.memory", "limits.ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
)

func checkEnv(env []corev1.EnvVar, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ev := range env {
		ep := p.Index(i)
		if ev.Name == "" {
			errs = append(errs, field.Required(ep.Child("name"), ""))
		} else {
			for _, msg := range utilvalidation.IsRelaxedEnvVarName(ev.Name) {
				errs = append(errs, field.Invalid(ep.Child("name"), ev.Name, msg))
			}
		}
		vf := ev.ValueFrom
		if vf == nil {
			continue
		}
		vp := ep.Child("valueFrom")
		if ev.Value != "" {
			errs = append(errs, field.Invalid(vp, "", "may not be specified when `value` is not empty"))
		}
		switch countSetPointers(*vf) {
		case 0:
			errs = append(errs, field.Invalid(vp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef` or `fileKeyRef`"))
		case 1:
		default:
			errs = append(errs, field.Invalid(vp, "", "may not have more than one field specified at a time"))
		}
		if r := vf.FieldRef; r != nil {
			fp := vp.Child("fieldRef", "fieldPath")
			switch {
			case r.FieldPath == "":
				errs = append(errs, field.Required(fp, ""))
			case validFieldPathExpressions.Has(r.FieldPath):
			case strings.HasPrefix(r.FieldPath, "metadata.labels['") && strings.HasSuffix(r.FieldPath, "']"):
			case strings.HasPrefix(r.FieldPath, "metadata.annotations['") && strings.HasSuffix(r.FieldPath, "']"):
			default:
				errs = append(errs, field.NotSupported(fp, r.FieldPath, sets.List(validFieldPathExpressions)))
			}
		}
		if r := vf.ResourceFieldRef; r != nil {
			rp := vp.Child("resourceFieldRef", "resource")
			switch {
			case r.Resource == "":
				errs = append(errs, field.Required(rp, ""))
			case validContainerResourceFieldRefs.Has(r.Resource), strings.HasPrefix(r.Resource, "limits.hugepages-"), strings.HasPrefix(r.Resource, "requests.hugepages-"):
			default:
				errs = append(errs, field.NotSupported(rp, r.Resource, sets.List(validContainerResourceFieldRefs)))
			}
		}
		if r := vf.ConfigMapKeyRef; r != nil {
			errs = append(errs, checkKeySelector(r.Name, r.Key, vp.Child("configMapKeyRef"))...)
		}
		if r := vf.SecretKeyRef; r != nil {
			errs = append(errs, checkKeySelector(r.Name, r.Key, vp.Child("secretKeyRef"))...)
		}
	}
	return errs
}

func checkKeySelector(name, key string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	if key == "" {
		errs = append(errs, field.Required(p.Child("key"), ""))
	} else {
		for _, msg := range utilvalidation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(p.Child("key"), key, msg))
		}
	}
	return errs
}

func checkTolerations(ts []corev1.Toleration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, t := range ts {
		tp := p.Index(i)
		if t.Key != "" {
			errs = append(errs, metav1validation.ValidateLabelName(t.Key, tp.Child("key"))...)
		}
		switch t.Operator {
		case "", corev1.TolerationOpEqual:
			if t.Key == "" {
				errs = append(errs, field.Invalid(tp.Child("operator"), t.Operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
			}
		case corev1.TolerationOpExists:
			if t.Value != "" {
				errs = append(errs, field.Invalid(tp.Child("operator"), t.Value, "value must be empty when `operator` is 'Exists'"))
			}
		default:
			errs = append(errs, field.NotSupported(tp.Child("operator"), t.Operator, []corev1.TolerationOperator{corev1.TolerationOpEqual, corev1.TolerationOpExists}))
		}
		switch t.Effect {
		case "", corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			errs = append(errs, field.NotSupported(tp.Child("effect"), t.Effect,
				[]corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute}))
		}
		if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
			errs = append(errs, field.Invalid(tp.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}
	}
	return errs
}

// Resource names.

var standardContainerResources = sets.New("cpu", "memory", "ephemeral-storage")

// isNativeResource reports whether a resource name belongs to Kubernetes: it
// has no domain, or a kubernetes.io domain.
func isNativeResource(name string) bool {
	return !strings.Contains(name, "/") || strings.Contains(name, "kubernetes.io/")
}

// isExtendedResourceName reports whether name is an extended resource name
// such as nvidia.com/gpu.
func isExtendedResourceName(name string) bool {
	if isNativeResource(name) || strings.HasPrefix(name, "requests.") {
		return false
	}
	return len(content.IsQualifiedName("requests."+name)) == 0
}

func checkResourceName(name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range content.IsQualifiedName(name) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	return errs
}

func checkContainerResourceName(name string, p *field.Path) field.ErrorList {
	if errs := checkResourceName(name, p); len(errs) > 0 {
		return errs
	}
	if !strings.Contains(name, "/") {
		if !standardContainerResources.Has(name) && !strings.HasPrefix(name, corev1.ResourceHugePagesPrefix) {
			return field.ErrorList{field.Invalid(p, name, "must be a standard resource for containers")}
		}
	} else if !isNativeResource(name) && !isExtendedResourceName(name) {
		return field.ErrorList{field.Invalid(p, name, "doesn't follow extended resource name standard")}
	}
	return nil
}

func checkNonNegativeQuantity(q resource.Quantity, p *field.Path) field.ErrorList {
	if q.Sign() < 0 {
		return field.ErrorList{field.Invalid(p, q.String(), "must be greater than or equal to 0")}
	}
	return nil
}

func checkIntegerQuantity(q resource.Quantity, p *field.Path) field.ErrorList {
	if q.MilliValue()%1000 != 0 {
		return field.ErrorList{field.Invalid(p, q.String(), "must be an integer")}
	}
	return nil
}

func checkResources(r *corev1.ResourceRequirements, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	limPath, reqPath := p.Child("limits"), p.Child("requests")
	for _, name := range slices.Sorted(maps.Keys(r.Limits)) {
		q := r.Limits[name]
		fp := limPath.Key(string(name))
		errs = append(errs, checkContainerResourceName(string(name), fp)...)
		errs = append(errs, checkNonNegativeQuantity(q, fp)...)
		if isExtendedResourceName(string(name)) {
			errs = append(errs, checkIntegerQuantity(q, fp)...)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.Requests)) {
		q := r.Requests[name]
		fp := reqPath.Key(string(name))
		errs = append(errs, checkContainerResourceName(string(name), fp)...)
		errs = append(errs, checkNonNegativeQuantity(q, fp)...)
		lim, hasLimit := r.Limits[name]
		if isExtendedResourceName(string(name)) {
			errs = append(errs, checkIntegerQuantity(q, fp)...)
			if !hasLimit {
				errs = append(errs, field.Forbidden(limPath, "Limit must be set for non overcommitable resources"))
			} else if q.Cmp(lim) != 0 {
				errs = append(errs, field.Invalid(fp, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, lim.String())))
			}
			continue
		}
		if hasLimit && q.Cmp(lim) > 0 {
			errs = append(errs, field.Invalid(fp, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, lim.String())))
		}
	}
	return errs
}
