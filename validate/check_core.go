package validate

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var specPath = field.NewPath("spec")

func checkNamespace(*corev1.Namespace) field.ErrorList { return nil }

func checkServiceAccount(*corev1.ServiceAccount) field.ErrorList { return nil }

func checkPod(pod *corev1.Pod) field.ErrorList {
	return checkPodSpec(&pod.Spec, specPath, podSpecOptions{})
}

// Quota resource names without a domain (helper.IsStandardQuotaResourceName).
var standardQuotaResources = sets.New(
	"cpu", "memory", "ephemeral-storage",
	"requests.cpu", "requests.memory", "requests.storage", "requests.ephemeral-storage",
	"limits.cpu", "limits.memory", "limits.ephemeral-storage",
	"pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
	"persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
)

// Quota resources whose values must be integers (helper.IsIntegerResourceName).
var integerQuotaResources = sets.New(
	"pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
	"persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
)

var quotaScopes = []corev1.ResourceQuotaScope{
	corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating,
	corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort,
	corev1.ResourceQuotaScopePriorityClass, corev1.ResourceQuotaScopeCrossNamespacePodAffinity,
	corev1.ResourceQuotaScopeVolumeAttributesClass,
}

func checkResourceQuota(rq *corev1.ResourceQuota) field.ErrorList {
	var errs field.ErrorList
	hp := specPath.Child("hard")
	for _, name := range slices.Sorted(maps.Keys(rq.Spec.Hard)) {
		q := rq.Spec.Hard[name]
		fp := hp.Key(string(name))
		errs = append(errs, checkQuotaResourceName(string(name), fp)...)
		errs = append(errs, checkNonNegativeQuantity(q, fp)...)
		if integerQuotaResources.Has(string(name)) || strings.HasPrefix(string(name), "count/") || isExtendedResourceName(string(name)) {
			errs = append(errs, checkIntegerQuantity(q, fp)...)
		}
	}
	for i, s := range rq.Spec.Scopes {
		if !slices.Contains(quotaScopes, s) {
			errs = append(errs, field.NotSupported(specPath.Child("scopes").Index(i), s, quotaScopes))
		}
	}
	if sel := rq.Spec.ScopeSelector; sel != nil {
		for i, req := range sel.MatchExpressions {
			rp := specPath.Child("scopeSelector", "matchExpressions").Index(i)
			if !slices.Contains(quotaScopes, req.ScopeName) {
				errs = append(errs, field.NotSupported(rp.Child("scopeName"), req.ScopeName, quotaScopes))
			}
			switch req.Operator {
			case corev1.ScopeSelectorOpIn, corev1.ScopeSelectorOpNotIn:
				if len(req.Values) == 0 {
					errs = append(errs, field.Required(rp.Child("values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"))
				}
			case corev1.ScopeSelectorOpExists, corev1.ScopeSelectorOpDoesNotExist:
				if len(req.Values) != 0 {
					errs = append(errs, field.Invalid(rp.Child("values"), req.Values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"))
				}
			default:
				errs = append(errs, field.Invalid(rp.Child("operator"), req.Operator, "not a valid selector operator"))
			}
		}
	}
	return errs
}

func checkQuotaResourceName(name string, p *field.Path) field.ErrorList {
	if errs := checkResourceName(name, p); len(errs) > 0 {
		return errs
	}
	if !strings.Contains(name, "/") && !standardQuotaResources.Has(name) &&
		!strings.HasPrefix(name, corev1.ResourceHugePagesPrefix) && !strings.HasPrefix(name, corev1.ResourceRequestsHugePagesPrefix) {
		return field.ErrorList{field.Invalid(p, name, "must be a standard resource for quota")}
	}
	return nil
}

var limitTypes = []corev1.LimitType{corev1.LimitTypePod, corev1.LimitTypeContainer, corev1.LimitTypePersistentVolumeClaim}

func checkLimitRange(lr *corev1.LimitRange) field.ErrorList {
	var errs field.ErrorList
	for i, item := range lr.Spec.Limits {
		ip := specPath.Child("limits").Index(i)
		t := item.Type
		switch {
		case t == "":
			errs = append(errs, field.Required(ip.Child("type"), ""))
		case !strings.Contains(string(t), "/") && !slices.Contains(limitTypes, t):
			errs = append(errs, field.NotSupported(ip.Child("type"), t, limitTypes))
		}
		if t == corev1.LimitTypePod && (len(item.Default) > 0 || len(item.DefaultRequest) > 0) {
			errs = append(errs, field.Forbidden(ip, "may not specify `default` or `defaultRequest` when `type` is 'Pod'"))
		}
		lists := []struct {
			name string
			list corev1.ResourceList
		}{{"max", item.Max}, {"min", item.Min}, {"default", item.Default}, {"defaultRequest", item.DefaultRequest}, {"maxLimitRequestRatio", item.MaxLimitRequestRatio}}
		for _, l := range lists {
			for _, name := range slices.Sorted(maps.Keys(l.list)) {
				fp := ip.Child(l.name).Key(string(name))
				errs = append(errs, checkResourceName(string(name), fp)...)
				errs = append(errs, checkNonNegativeQuantity(l.list[name], fp)...)
			}
		}
		// min <= defaultRequest <= default <= max.
		order := []struct {
			name string
			list corev1.ResourceList
		}{{"min", item.Min}, {"defaultRequest", item.DefaultRequest}, {"default", item.Default}, {"max", item.Max}}
		for a := 0; a < len(order); a++ {
			for b := a + 1; b < len(order); b++ {
				for _, name := range slices.Sorted(maps.Keys(order[a].list)) {
					lo := order[a].list[name]
					if hi, ok := order[b].list[name]; ok && lo.Cmp(hi) > 0 {
						errs = append(errs, field.Invalid(ip.Child(order[a].name).Key(string(name)), lo.String(),
							fmt.Sprintf("%s value %s is greater than %s value %s", order[a].name, lo.String(), order[b].name, hi.String())))
					}
				}
			}
		}
		for _, name := range slices.Sorted(maps.Keys(item.MaxLimitRequestRatio)) {
			if r := item.MaxLimitRequestRatio[name]; r.Cmp(resource.MustParse("1")) < 0 {
				errs = append(errs, field.Invalid(ip.Child("maxLimitRequestRatio").Key(string(name)), r.String(), "ratio must be greater than or equal to 1"))
			}
		}
	}
	return errs
}

var serviceTypes = []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName}

func checkService(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	spec := &svc.Spec
	typ := spec.Type
	if typ == "" {
		typ = corev1.ServiceTypeClusterIP
	}
	if !slices.Contains(serviceTypes, typ) {
		errs = append(errs, field.NotSupported(specPath.Child("type"), spec.Type, serviceTypes))
	}
	headless := spec.ClusterIP == corev1.ClusterIPNone
	switch typ {
	case corev1.ServiceTypeExternalName:
		name := strings.TrimSuffix(spec.ExternalName, ".")
		if name == "" {
			errs = append(errs, field.Required(specPath.Child("externalName"), ""))
		} else {
			for _, msg := range utilvalidation.IsDNS1123Subdomain(name) {
				errs = append(errs, field.Invalid(specPath.Child("externalName"), spec.ExternalName, msg))
			}
		}
	default:
		if len(spec.Ports) == 0 && !headless {
			errs = append(errs, field.Required(specPath.Child("ports"), ""))
		}
	}
	if headless && (typ == corev1.ServiceTypeNodePort || typ == corev1.ServiceTypeLoadBalancer) {
		errs = append(errs, field.Invalid(specPath.Child("clusterIP"), spec.ClusterIP, "may not be set to 'None' for LoadBalancer or NodePort services"))
	}
	if spec.ClusterIP != "" && !headless && net.ParseIP(spec.ClusterIP) == nil {
		errs = append(errs, field.Invalid(specPath.Child("clusterIP"), spec.ClusterIP, "must be empty, 'None', or a valid IP address"))
	}

	portNames := sets.New[string]()
	type portKey struct {
		port  int32
		proto corev1.Protocol
	}
	seen := map[portKey]bool{}
	for i, port := range spec.Ports {
		pp := specPath.Child("ports").Index(i)
		if port.Name == "" {
			if len(spec.Ports) > 1 {
				errs = append(errs, field.Required(pp.Child("name"), ""))
			}
		} else {
			for _, msg := range utilvalidation.IsDNS1123Label(port.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), port.Name, msg))
			}
			if portNames.Has(port.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			portNames.Insert(port.Name)
		}
		for _, msg := range utilvalidation.IsValidPortNum(int(port.Port)) {
			errs = append(errs, field.Invalid(pp.Child("port"), port.Port, msg))
		}
		errs = append(errs, checkProtocol(port.Protocol, pp.Child("protocol"))...)
		proto := port.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		if k := (portKey{port.Port, proto}); seen[k] {
			errs = append(errs, field.Duplicate(pp, port))
		} else {
			seen[k] = true
		}
		errs = append(errs, checkPortOrName(port.TargetPort, pp.Child("targetPort"), false)...)
		if port.NodePort != 0 {
			if typ == corev1.ServiceTypeClusterIP || typ == corev1.ServiceTypeExternalName {
				errs = append(errs, field.Forbidden(pp.Child("nodePort"), fmt.Sprintf("may not be used when `type` is '%s'", typ)))
			}
			for _, msg := range utilvalidation.IsValidPortNum(int(port.NodePort)) {
				errs = append(errs, field.Invalid(pp.Child("nodePort"), port.NodePort, msg))
			}
		}
		if port.AppProtocol != nil {
			errs = append(errs, checkQualifiedName(*port.AppProtocol, pp.Child("appProtocol"))...)
		}
	}
	if typ != corev1.ServiceTypeExternalName {
		errs = append(errs, metav1validation.ValidateLabels(spec.Selector, specPath.Child("selector"))...)
	}
	switch spec.SessionAffinity {
	case "", corev1.ServiceAffinityNone, corev1.ServiceAffinityClientIP:
	default:
		errs = append(errs, field.NotSupported(specPath.Child("sessionAffinity"), spec.SessionAffinity, []corev1.ServiceAffinity{corev1.ServiceAffinityNone, corev1.ServiceAffinityClientIP}))
	}
	switch spec.ExternalTrafficPolicy {
	case "":
	case corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal:
		if typ != corev1.ServiceTypeNodePort && typ != corev1.ServiceTypeLoadBalancer {
			errs = append(errs, field.Invalid(specPath.Child("externalTrafficPolicy"), spec.ExternalTrafficPolicy, "may only be set for externally-accessible services"))
		}
	default:
		errs = append(errs, field.NotSupported(specPath.Child("externalTrafficPolicy"), spec.ExternalTrafficPolicy,
			[]corev1.ServiceExternalTrafficPolicy{corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal}))
	}
	if p := spec.InternalTrafficPolicy; p != nil && *p != corev1.ServiceInternalTrafficPolicyCluster && *p != corev1.ServiceInternalTrafficPolicyLocal {
		errs = append(errs, field.NotSupported(specPath.Child("internalTrafficPolicy"), *p,
			[]corev1.ServiceInternalTrafficPolicy{corev1.ServiceInternalTrafficPolicyCluster, corev1.ServiceInternalTrafficPolicyLocal}))
	}
	if p := spec.IPFamilyPolicy; p != nil {
		policies := []corev1.IPFamilyPolicy{corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack}
		if !slices.Contains(policies, *p) {
			errs = append(errs, field.NotSupported(specPath.Child("ipFamilyPolicy"), *p, policies))
		}
	}
	return errs
}

func checkQualifiedName(v string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range content.IsQualifiedName(v) {
		errs = append(errs, field.Invalid(p, v, msg))
	}
	return errs
}

// maxDataSize is the largest total size of a ConfigMap's or Secret's data.
const maxDataSize = 1 << 20

func checkConfigMap(cm *corev1.ConfigMap) field.ErrorList {
	var errs field.ErrorList
	size := 0
	for _, k := range slices.Sorted(maps.Keys(cm.Data)) {
		errs = append(errs, checkDataKey(k, field.NewPath("data").Key(k))...)
		size += len(k) + len(cm.Data[k])
	}
	for _, k := range slices.Sorted(maps.Keys(cm.BinaryData)) {
		errs = append(errs, checkDataKey(k, field.NewPath("binaryData").Key(k))...)
		if _, dup := cm.Data[k]; dup {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, "duplicate of key present in binaryData"))
		}
		size += len(k) + len(cm.BinaryData[k])
	}
	if size > maxDataSize {
		errs = append(errs, field.TooLong(field.NewPath(""), "", maxDataSize))
	}
	return errs
}

func checkDataKey(k string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range utilvalidation.IsConfigMapKey(k) {
		errs = append(errs, field.Invalid(p, k, msg))
	}
	return errs
}

func checkSecret(s *corev1.Secret) field.ErrorList {
	var errs field.ErrorList
	size := 0
	keys := sets.New[string]()
	for _, k := range slices.Sorted(maps.Keys(s.Data)) {
		errs = append(errs, checkDataKey(k, field.NewPath("data").Key(k))...)
		size += len(s.Data[k])
		keys.Insert(k)
	}
	for _, k := range slices.Sorted(maps.Keys(s.StringData)) {
		errs = append(errs, checkDataKey(k, field.NewPath("stringData").Key(k))...)
		if !keys.Has(k) {
			size += len(s.StringData[k])
		}
		keys.Insert(k)
	}
	if size > maxDataSize {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", maxDataSize))
	}
	value := func(k string) []byte {
		if v, ok := s.StringData[k]; ok {
			return []byte(v)
		}
		return s.Data[k]
	}
	requireKey := func(k string) {
		if !keys.Has(k) {
			errs = append(errs, field.Required(field.NewPath("data").Key(k), ""))
		}
	}
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			errs = append(errs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeDockercfg:
		requireKey(corev1.DockerConfigKey)
		if keys.Has(corev1.DockerConfigKey) && !json.Valid(value(corev1.DockerConfigKey)) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(corev1.DockerConfigKey), "<secret contents redacted>", "must be valid JSON"))
		}
	case corev1.SecretTypeDockerConfigJson:
		requireKey(corev1.DockerConfigJsonKey)
		if keys.Has(corev1.DockerConfigJsonKey) && !json.Valid(value(corev1.DockerConfigJsonKey)) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(corev1.DockerConfigJsonKey), "<secret contents redacted>", "must be valid JSON"))
		}
	case corev1.SecretTypeBasicAuth:
		if !keys.Has(corev1.BasicAuthUsernameKey) && !keys.Has(corev1.BasicAuthPasswordKey) {
			errs = append(errs, field.Required(field.NewPath("data").Key(corev1.BasicAuthUsernameKey), "either username or password is required"))
		}
	case corev1.SecretTypeSSHAuth:
		requireKey(corev1.SSHAuthPrivateKey)
	case corev1.SecretTypeTLS:
		requireKey(corev1.TLSCertKey)
		requireKey(corev1.TLSPrivateKeyKey)
	}
	return errs
}

var accessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod}

func checkPVC(pvc *corev1.PersistentVolumeClaim) field.ErrorList {
	return checkPVCSpec(&pvc.Spec, specPath)
}

func checkPVCSpec(spec *corev1.PersistentVolumeClaimSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(spec.AccessModes) == 0 {
		errs = append(errs, field.Required(p.Child("accessModes"), "at least 1 access mode is required"))
	}
	for _, m := range spec.AccessModes {
		if !slices.Contains(accessModes, m) {
			errs = append(errs, field.NotSupported(p.Child("accessModes"), m, accessModes))
		}
	}
	if slices.Contains(spec.AccessModes, corev1.ReadWriteOncePod) && len(spec.AccessModes) > 1 {
		errs = append(errs, field.Forbidden(p.Child("accessModes"), "may not use ReadWriteOncePod with other access modes"))
	}
	if spec.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	}
	storage, ok := spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		errs = append(errs, field.Required(p.Child("resources").Key(string(corev1.ResourceStorage)), ""))
	} else if storage.Sign() <= 0 {
		errs = append(errs, field.Invalid(p.Child("resources").Key(string(corev1.ResourceStorage)), storage.String(), "must be greater than zero"))
	}
	for _, l := range []struct {
		name string
		list corev1.ResourceList
	}{{"requests", spec.Resources.Requests}, {"limits", spec.Resources.Limits}} {
		for _, name := range slices.Sorted(maps.Keys(l.list)) {
			fp := p.Child("resources", l.name).Key(string(name))
			errs = append(errs, checkResourceName(string(name), fp)...)
			errs = append(errs, checkNonNegativeQuantity(l.list[name], fp)...)
		}
	}
	if m := spec.VolumeMode; m != nil && *m != corev1.PersistentVolumeBlock && *m != corev1.PersistentVolumeFilesystem {
		errs = append(errs, field.NotSupported(p.Child("volumeMode"), *m, []corev1.PersistentVolumeMode{corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem}))
	}
	if c := spec.StorageClassName; c != nil && *c != "" {
		for _, msg := range utilvalidation.IsDNS1123Subdomain(*c) {
			errs = append(errs, field.Invalid(p.Child("storageClassName"), *c, msg))
		}
	}
	return errs
}

// checkIntOrPercent checks an int-or-percent value such as maxUnavailable.
func checkIntOrPercent(v *intstr.IntOrString, p *field.Path, maxHundredPercent bool) field.ErrorList {
	if v == nil {
		return nil
	}
	if v.Type == intstr.Int {
		if v.IntVal < 0 {
			return field.ErrorList{field.Invalid(p, v.IntVal, "must be greater than or equal to 0")}
		}
		return nil
	}
	if msgs := utilvalidation.IsValidPercent(v.StrVal); len(msgs) > 0 {
		return field.ErrorList{field.Invalid(p, v.StrVal, strings.Join(msgs, ", "))}
	}
	pct, _ := intstr.GetScaledValueFromIntOrPercent(v, 100, false)
	if pct < 0 {
		return field.ErrorList{field.Invalid(p, v.StrVal, "must be greater than or equal to 0")}
	}
	if maxHundredPercent && pct > 100 {
		return field.ErrorList{field.Invalid(p, v.StrVal, "must not be greater than 100%")}
	}
	return nil
}

func isZeroIntOrPercent(v *intstr.IntOrString) bool {
	if v == nil {
		return false
	}
	if v.Type == intstr.Int {
		return v.IntVal == 0
	}
	pct, err := intstr.GetScaledValueFromIntOrPercent(v, 100, false)
	return err == nil && pct == 0
}
