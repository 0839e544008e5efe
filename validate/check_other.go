package validate

import (
	"fmt"
	"net"
	"slices"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// RBAC (k8s.io/kubernetes/pkg/apis/rbac/validation).

func checkRole(r *rbacv1.Role) field.ErrorList {
	return checkPolicyRules(r.Rules, true)
}

func checkClusterRole(r *rbacv1.ClusterRole) field.ErrorList {
	errs := checkPolicyRules(r.Rules, false)
	if r.AggregationRule != nil {
		ap := field.NewPath("aggregationRule", "clusterRoleSelectors")
		if len(r.AggregationRule.ClusterRoleSelectors) == 0 {
			errs = append(errs, field.Required(ap, "at least one clusterRoleSelector required if aggregationRule is non-nil"))
		}
		for i := range r.AggregationRule.ClusterRoleSelectors {
			errs = append(errs, metav1validation.ValidateLabelSelector(&r.AggregationRule.ClusterRoleSelectors[i], metav1validation.LabelSelectorValidationOptions{}, ap.Index(i))...)
		}
	}
	return errs
}

func checkPolicyRules(rules []rbacv1.PolicyRule, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	for i, rule := range rules {
		rp := field.NewPath("rules").Index(i)
		if len(rule.Verbs) == 0 {
			errs = append(errs, field.Required(rp.Child("verbs"), "verbs must contain at least one value"))
		}
		if len(rule.NonResourceURLs) > 0 {
			if namespaced {
				errs = append(errs, field.Invalid(rp.Child("nonResourceURLs"), rule.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
			}
			if len(rule.APIGroups) > 0 || len(rule.Resources) > 0 || len(rule.ResourceNames) > 0 {
				errs = append(errs, field.Invalid(rp.Child("nonResourceURLs"), rule.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
			}
			continue
		}
		if len(rule.APIGroups) == 0 {
			errs = append(errs, field.Required(rp.Child("apiGroups"), "resource rules must supply at least one api group"))
		}
		if len(rule.Resources) == 0 {
			errs = append(errs, field.Required(rp.Child("resources"), "resource rules must supply at least one resource"))
		}
	}
	return errs
}

func checkRoleBinding(b *rbacv1.RoleBinding) field.ErrorList {
	return checkBinding(b.RoleRef, b.Subjects, true)
}

func checkClusterRoleBinding(b *rbacv1.ClusterRoleBinding) field.ErrorList {
	return checkBinding(b.RoleRef, b.Subjects, false)
}

func checkBinding(ref rbacv1.RoleRef, subjects []rbacv1.Subject, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	rp := field.NewPath("roleRef")
	if ref.APIGroup != rbacv1.GroupName {
		errs = append(errs, field.NotSupported(rp.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	kinds := []string{"ClusterRole"}
	if namespaced {
		kinds = []string{"Role", "ClusterRole"}
	}
	if !slices.Contains(kinds, ref.Kind) {
		errs = append(errs, field.NotSupported(rp.Child("kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(rp.Child("name"), ""))
	} else {
		for _, msg := range content.IsPathSegmentName(ref.Name) {
			errs = append(errs, field.Invalid(rp.Child("name"), ref.Name, msg))
		}
	}
	for i, s := range subjects {
		sp := field.NewPath("subjects").Index(i)
		if s.Name == "" {
			errs = append(errs, field.Required(sp.Child("name"), ""))
		}
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			if s.Name != "" {
				for _, msg := range apimachineryvalidation.ValidateServiceAccountName(s.Name, false) {
					errs = append(errs, field.Invalid(sp.Child("name"), s.Name, msg))
				}
			}
			if s.APIGroup != "" {
				errs = append(errs, field.NotSupported(sp.Child("apiGroup"), s.APIGroup, []string{""}))
			}
			if !namespaced && s.Namespace == "" {
				errs = append(errs, field.Required(sp.Child("namespace"), ""))
			}
			if s.Namespace != "" {
				for _, msg := range apimachineryvalidation.ValidateNamespaceName(s.Namespace, false) {
					errs = append(errs, field.Invalid(sp.Child("namespace"), s.Namespace, msg))
				}
			}
		case rbacv1.UserKind, rbacv1.GroupKind:
			if s.APIGroup != rbacv1.GroupName {
				errs = append(errs, field.NotSupported(sp.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
			}
		default:
			errs = append(errs, field.NotSupported(sp.Child("kind"), s.Kind, []string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
		}
	}
	return errs
}

// HorizontalPodAutoscaler (k8s.io/kubernetes/pkg/apis/autoscaling/validation).

func checkHPA(h *autoscalingv2.HorizontalPodAutoscaler) field.ErrorList {
	spec := &h.Spec
	var errs field.ErrorList
	errs = append(errs, checkCrossVersionObjectReference(spec.ScaleTargetRef, specPath.Child("scaleTargetRef"))...)
	if spec.MinReplicas != nil && *spec.MinReplicas < 1 {
		errs = append(errs, field.Invalid(specPath.Child("minReplicas"), *spec.MinReplicas, "must be greater than or equal to 1"))
	}
	if spec.MaxReplicas < 1 {
		errs = append(errs, field.Invalid(specPath.Child("maxReplicas"), spec.MaxReplicas, "must be greater than 0"))
	}
	if spec.MinReplicas != nil && spec.MaxReplicas < *spec.MinReplicas {
		errs = append(errs, field.Invalid(specPath.Child("maxReplicas"), spec.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	for i, m := range spec.Metrics {
		errs = append(errs, checkMetricSpec(m, specPath.Child("metrics").Index(i))...)
	}
	if b := spec.Behavior; b != nil {
		errs = append(errs, checkScalingRules(b.ScaleUp, specPath.Child("behavior", "scaleUp"))...)
		errs = append(errs, checkScalingRules(b.ScaleDown, specPath.Child("behavior", "scaleDown"))...)
	}
	return errs
}

func checkCrossVersionObjectReference(ref autoscalingv2.CrossVersionObjectReference, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if ref.Kind == "" {
		errs = append(errs, field.Required(p.Child("kind"), ""))
	} else {
		for _, msg := range content.IsPathSegmentName(ref.Kind) {
			errs = append(errs, field.Invalid(p.Child("kind"), ref.Kind, msg))
		}
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		for _, msg := range content.IsPathSegmentName(ref.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), ref.Name, msg))
		}
	}
	return errs
}

var metricSourceTypes = []autoscalingv2.MetricSourceType{
	autoscalingv2.ObjectMetricSourceType, autoscalingv2.PodsMetricSourceType, autoscalingv2.ResourceMetricSourceType,
	autoscalingv2.ExternalMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType,
}

func checkMetricSpec(m autoscalingv2.MetricSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	set := map[autoscalingv2.MetricSourceType]bool{
		autoscalingv2.ObjectMetricSourceType:            m.Object != nil,
		autoscalingv2.PodsMetricSourceType:              m.Pods != nil,
		autoscalingv2.ResourceMetricSourceType:          m.Resource != nil,
		autoscalingv2.ExternalMetricSourceType:          m.External != nil,
		autoscalingv2.ContainerResourceMetricSourceType: m.ContainerResource != nil,
	}
	n := 0
	for _, v := range set {
		if v {
			n++
		}
	}
	switch {
	case m.Type == "":
		return append(errs, field.Required(p.Child("type"), "must specify a metric source type"))
	case !slices.Contains(metricSourceTypes, m.Type):
		return append(errs, field.NotSupported(p.Child("type"), m.Type, metricSourceTypes))
	case !set[m.Type]:
		return append(errs, field.Required(p, "must populate information for the given metric source"))
	case n > 1:
		return append(errs, field.Forbidden(p, "must populate the given metric source only"))
	}
	switch m.Type {
	case autoscalingv2.ResourceMetricSourceType:
		if m.Resource.Name == "" {
			errs = append(errs, field.Required(p.Child("resource", "name"), "must specify a resource name"))
		}
		errs = append(errs, checkMetricTarget(m.Resource.Target, p.Child("resource", "target"), true)...)
	case autoscalingv2.ContainerResourceMetricSourceType:
		if m.ContainerResource.Name == "" {
			errs = append(errs, field.Required(p.Child("containerResource", "name"), "must specify a resource name"))
		}
		if m.ContainerResource.Container == "" {
			errs = append(errs, field.Required(p.Child("containerResource", "container"), "must specify a container"))
		}
		errs = append(errs, checkMetricTarget(m.ContainerResource.Target, p.Child("containerResource", "target"), true)...)
	case autoscalingv2.PodsMetricSourceType:
		errs = append(errs, checkMetricIdentifier(m.Pods.Metric, p.Child("pods", "metric"))...)
		errs = append(errs, checkMetricTarget(m.Pods.Target, p.Child("pods", "target"), false)...)
	case autoscalingv2.ObjectMetricSourceType:
		errs = append(errs, checkCrossVersionObjectReference(m.Object.DescribedObject, p.Child("object", "describedObject"))...)
		errs = append(errs, checkMetricIdentifier(m.Object.Metric, p.Child("object", "metric"))...)
		errs = append(errs, checkMetricTarget(m.Object.Target, p.Child("object", "target"), false)...)
	case autoscalingv2.ExternalMetricSourceType:
		errs = append(errs, checkMetricIdentifier(m.External.Metric, p.Child("external", "metric"))...)
		errs = append(errs, checkMetricTarget(m.External.Target, p.Child("external", "target"), false)...)
	}
	return errs
}

func checkMetricIdentifier(id autoscalingv2.MetricIdentifier, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if id.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), "must specify a metric name"))
	} else {
		for _, msg := range content.IsPathSegmentName(id.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), id.Name, msg))
		}
	}
	if id.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(id.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	}
	return errs
}

func checkMetricTarget(t autoscalingv2.MetricTarget, p *field.Path, utilizationAllowed bool) field.ErrorList {
	var errs field.ErrorList
	types := []autoscalingv2.MetricTargetType{autoscalingv2.UtilizationMetricType, autoscalingv2.ValueMetricType, autoscalingv2.AverageValueMetricType}
	switch t.Type {
	case "":
		errs = append(errs, field.Required(p.Child("type"), "must specify a metric target type"))
	case autoscalingv2.UtilizationMetricType:
		if !utilizationAllowed {
			errs = append(errs, field.Invalid(p.Child("type"), t.Type, "utilization is only supported for resource and container resource metrics"))
		}
		if t.AverageUtilization == nil {
			errs = append(errs, field.Required(p.Child("averageUtilization"), "must be set when target type is Utilization"))
		}
	case autoscalingv2.ValueMetricType:
		if t.Value == nil {
			errs = append(errs, field.Required(p.Child("value"), "must be set when target type is Value"))
		}
	case autoscalingv2.AverageValueMetricType:
		if t.AverageValue == nil {
			errs = append(errs, field.Required(p.Child("averageValue"), "must be set when target type is AverageValue"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("type"), t.Type, types))
	}
	if t.AverageUtilization != nil && *t.AverageUtilization < 1 {
		errs = append(errs, field.Invalid(p.Child("averageUtilization"), *t.AverageUtilization, "must be greater than 0"))
	}
	if t.Value != nil && t.Value.Sign() <= 0 {
		errs = append(errs, field.Invalid(p.Child("value"), t.Value.String(), "must be positive"))
	}
	if t.AverageValue != nil && t.AverageValue.Sign() <= 0 {
		errs = append(errs, field.Invalid(p.Child("averageValue"), t.AverageValue.String(), "must be positive"))
	}
	return errs
}

func checkScalingRules(r *autoscalingv2.HPAScalingRules, p *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	if w := r.StabilizationWindowSeconds; w != nil && (*w < 0 || *w > 3600) {
		errs = append(errs, field.Invalid(p.Child("stabilizationWindowSeconds"), *w, "must be between 0 and 3600"))
	}
	if sp := r.SelectPolicy; sp != nil {
		policies := []autoscalingv2.ScalingPolicySelect{autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect, autoscalingv2.DisabledPolicySelect}
		if !slices.Contains(policies, *sp) {
			errs = append(errs, field.NotSupported(p.Child("selectPolicy"), *sp, policies))
		}
	}
	for i, pol := range r.Policies {
		pp := p.Child("policies").Index(i)
		types := []autoscalingv2.HPAScalingPolicyType{autoscalingv2.PodsScalingPolicy, autoscalingv2.PercentScalingPolicy}
		if !slices.Contains(types, pol.Type) {
			errs = append(errs, field.NotSupported(pp.Child("type"), pol.Type, types))
		}
		if pol.Value <= 0 {
			errs = append(errs, field.Invalid(pp.Child("value"), pol.Value, "must be greater than zero"))
		}
		if pol.PeriodSeconds <= 0 || pol.PeriodSeconds > 1800 {
			errs = append(errs, field.Invalid(pp.Child("periodSeconds"), pol.PeriodSeconds, "must be greater than zero and less than or equal to 1800"))
		}
	}
	return errs
}

// PodDisruptionBudget (k8s.io/kubernetes/pkg/apis/policy/validation).

func checkPDB(pdb *policyv1.PodDisruptionBudget) field.ErrorList {
	spec := &pdb.Spec
	var errs field.ErrorList
	if spec.MinAvailable != nil && spec.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(specPath, spec, "minAvailable and maxUnavailable cannot be both set"))
	}
	errs = append(errs, checkIntOrPercent(spec.MinAvailable, specPath.Child("minAvailable"), true)...)
	errs = append(errs, checkIntOrPercent(spec.MaxUnavailable, specPath.Child("maxUnavailable"), true)...)
	if spec.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, specPath.Child("selector"))...)
	}
	if p := spec.UnhealthyPodEvictionPolicy; p != nil {
		policies := []policyv1.UnhealthyPodEvictionPolicyType{policyv1.IfHealthyBudget, policyv1.AlwaysAllow}
		if !slices.Contains(policies, *p) {
			errs = append(errs, field.NotSupported(specPath.Child("unhealthyPodEvictionPolicy"), *p, policies))
		}
	}
	return errs
}

// NetworkPolicy and Ingress (k8s.io/kubernetes/pkg/apis/networking/validation).

func checkNetworkPolicy(np *networkingv1.NetworkPolicy) field.ErrorList {
	spec := &np.Spec
	var errs field.ErrorList
	errs = append(errs, metav1validation.ValidateLabelSelector(&spec.PodSelector, metav1validation.LabelSelectorValidationOptions{}, specPath.Child("podSelector"))...)
	for i, rule := range spec.Ingress {
		rp := specPath.Child("ingress").Index(i)
		errs = append(errs, checkNetworkPolicyPorts(rule.Ports, rp.Child("ports"))...)
		errs = append(errs, checkNetworkPolicyPeers(rule.From, rp.Child("from"))...)
	}
	for i, rule := range spec.Egress {
		rp := specPath.Child("egress").Index(i)
		errs = append(errs, checkNetworkPolicyPorts(rule.Ports, rp.Child("ports"))...)
		errs = append(errs, checkNetworkPolicyPeers(rule.To, rp.Child("to"))...)
	}
	types := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	for i, t := range spec.PolicyTypes {
		if !slices.Contains(types, t) {
			errs = append(errs, field.NotSupported(specPath.Child("policyTypes").Index(i), t, types))
		}
	}
	if len(spec.PolicyTypes) > len(types) {
		errs = append(errs, field.Invalid(specPath.Child("policyTypes"), spec.PolicyTypes, "may not specify more than two policyTypes"))
	}
	return errs
}

func checkNetworkPolicyPorts(ports []networkingv1.NetworkPolicyPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, port := range ports {
		pp := p.Index(i)
		if port.Protocol != nil {
			errs = append(errs, checkProtocol(*port.Protocol, pp.Child("protocol"))...)
		}
		if port.Port != nil {
			errs = append(errs, checkPortOrName(*port.Port, pp.Child("port"), true)...)
		}
		if port.EndPort != nil {
			switch {
			case port.Port == nil:
				errs = append(errs, field.Required(pp.Child("port"), "must specify port when endPort is specified"))
			case port.Port.Type == intstr.String:
				errs = append(errs, field.Invalid(pp.Child("endPort"), *port.EndPort, "may not be specified when port is non-numeric"))
			case *port.EndPort < port.Port.IntVal:
				errs = append(errs, field.Invalid(pp.Child("endPort"), *port.EndPort, "must be greater than or equal to port"))
			}
			for _, msg := range utilvalidation.IsValidPortNum(int(*port.EndPort)) {
				errs = append(errs, field.Invalid(pp.Child("endPort"), *port.EndPort, msg))
			}
		}
	}
	return errs
}

func checkNetworkPolicyPeers(peers []networkingv1.NetworkPolicyPeer, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	opts := metav1validation.LabelSelectorValidationOptions{}
	for i, peer := range peers {
		pp := p.Index(i)
		n := 0
		if peer.PodSelector != nil {
			n++
			errs = append(errs, metav1validation.ValidateLabelSelector(peer.PodSelector, opts, pp.Child("podSelector"))...)
		}
		if peer.NamespaceSelector != nil {
			n++
			errs = append(errs, metav1validation.ValidateLabelSelector(peer.NamespaceSelector, opts, pp.Child("namespaceSelector"))...)
		}
		if peer.IPBlock != nil {
			if n > 0 {
				errs = append(errs, field.Forbidden(pp, "may not specify both ipBlock and another peer"))
			}
			n++
			errs = append(errs, checkIPBlock(peer.IPBlock, pp.Child("ipBlock"))...)
		}
		if n == 0 {
			errs = append(errs, field.Required(pp, "must specify a peer"))
		}
	}
	return errs
}

func checkIPBlock(b *networkingv1.IPBlock, p *field.Path) field.ErrorList {
	if b.CIDR == "" {
		return field.ErrorList{field.Required(p.Child("cidr"), "")}
	}
	_, cidr, err := net.ParseCIDR(b.CIDR)
	if err != nil {
		return field.ErrorList{field.Invalid(p.Child("cidr"), b.CIDR, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")}
	}
	var errs field.ErrorList
	cidrOnes, _ := cidr.Mask.Size()
	for i, ex := range b.Except {
		ep := p.Child("except").Index(i)
		_, exNet, err := net.ParseCIDR(ex)
		if err != nil {
			errs = append(errs, field.Invalid(ep, ex, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
			continue
		}
		exOnes, _ := exNet.Mask.Size()
		if !cidr.Contains(exNet.IP) || exOnes <= cidrOnes {
			errs = append(errs, field.Invalid(ep, ex, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}

func checkIngress(ing *networkingv1.Ingress) field.ErrorList {
	spec := &ing.Spec
	var errs field.ErrorList
	if c := spec.IngressClassName; c != nil {
		for _, msg := range utilvalidation.IsDNS1123Subdomain(*c) {
			errs = append(errs, field.Invalid(specPath.Child("ingressClassName"), *c, msg))
		}
	}
	if spec.DefaultBackend == nil && len(spec.Rules) == 0 {
		errs = append(errs, field.Invalid(specPath, spec.Rules, "either `defaultBackend` or `rules` must be specified"))
	}
	if spec.DefaultBackend != nil {
		errs = append(errs, checkIngressBackend(spec.DefaultBackend, specPath.Child("defaultBackend"))...)
	}
	for i, rule := range spec.Rules {
		rp := specPath.Child("rules").Index(i)
		if rule.Host != "" {
			errs = append(errs, checkIngressHost(rule.Host, rp.Child("host"))...)
		}
		if rule.HTTP == nil {
			continue
		}
		hp := rp.Child("http", "paths")
		if len(rule.HTTP.Paths) == 0 {
			errs = append(errs, field.Required(hp, ""))
		}
		for j, pth := range rule.HTTP.Paths {
			pp := hp.Index(j)
			types := []networkingv1.PathType{networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific}
			switch {
			case pth.PathType == nil:
				errs = append(errs, field.Required(pp.Child("pathType"), "pathType must be specified"))
			case !slices.Contains(types, *pth.PathType):
				errs = append(errs, field.NotSupported(pp.Child("pathType"), *pth.PathType, types))
			case *pth.PathType != networkingv1.PathTypeImplementationSpecific && !strings.HasPrefix(pth.Path, "/"):
				errs = append(errs, field.Invalid(pp.Child("path"), pth.Path, "must be an absolute path"))
			}
			errs = append(errs, checkIngressBackend(&pth.Backend, pp.Child("backend"))...)
		}
	}
	for i, tls := range spec.TLS {
		for j, host := range tls.Hosts {
			errs = append(errs, checkIngressHost(host, specPath.Child("tls").Index(i).Child("hosts").Index(j))...)
		}
	}
	return errs
}

func checkIngressHost(host string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if net.ParseIP(host) != nil {
		return field.ErrorList{field.Invalid(p, host, "must be a DNS name, not an IP address")}
	}
	msgs := utilvalidation.IsDNS1123Subdomain(host)
	if strings.HasPrefix(host, "*.") {
		msgs = utilvalidation.IsWildcardDNS1123Subdomain(host)
	}
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(p, host, msg))
	}
	return errs
}

func checkIngressBackend(b *networkingv1.IngressBackend, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case b.Service != nil && b.Resource != nil:
		return field.ErrorList{field.Invalid(p, b, "cannot set both resource and service backends")}
	case b.Service == nil && b.Resource == nil:
		return field.ErrorList{field.Invalid(p, b, "resource or service backend is required")}
	case b.Resource != nil:
		return nil
	}
	sp := p.Child("service")
	if b.Service.Name == "" {
		errs = append(errs, field.Required(sp.Child("name"), ""))
	} else {
		for _, msg := range utilvalidation.IsDNS1035Label(b.Service.Name) {
			errs = append(errs, field.Invalid(sp.Child("name"), b.Service.Name, msg))
		}
	}
	port := b.Service.Port
	switch {
	case port.Name != "" && port.Number != 0:
		errs = append(errs, field.Invalid(sp.Child("port"), port, "cannot set both port name & port number"))
	case port.Name != "":
		for _, msg := range utilvalidation.IsValidPortName(port.Name) {
			errs = append(errs, field.Invalid(sp.Child("port", "name"), port.Name, msg))
		}
	case port.Number != 0:
		for _, msg := range utilvalidation.IsValidPortNum(int(port.Number)) {
			errs = append(errs, field.Invalid(sp.Child("port", "number"), port.Number, msg))
		}
	default:
		errs = append(errs, field.Required(sp.Child("port"), "port name or number is required"))
	}
	return errs
}

// PriorityClass (k8s.io/kubernetes/pkg/apis/scheduling/validation).

// highestUserDefinablePriority is the highest priority a user-defined
// PriorityClass may have.
const highestUserDefinablePriority = 1000000000

func checkPriorityClass(pc *schedulingv1.PriorityClass) field.ErrorList {
	var errs field.ErrorList
	if strings.HasPrefix(pc.Name, "system-") {
		errs = append(errs, field.Forbidden(field.NewPath("metadata", "name"), "priority class names with 'system-' prefix are reserved"))
	}
	if pc.Value > highestUserDefinablePriority {
		errs = append(errs, field.Forbidden(field.NewPath("value"), fmt.Sprintf("maximum allowed value of a user defined priority is %v", highestUserDefinablePriority)))
	}
	if p := pc.PreemptionPolicy; p != nil {
		policies := []corev1.PreemptionPolicy{corev1.PreemptLowerPriority, corev1.PreemptNever}
		if !slices.Contains(policies, *p) {
			errs = append(errs, field.NotSupported(field.NewPath("preemptionPolicy"), *p, policies))
		}
	}
	return errs
}
