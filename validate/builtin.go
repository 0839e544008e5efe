package validate

import (
	"encoding/json"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"
)

// builtinKind describes a built-in kind that is decoded strictly into its
// k8s.io/api type and then checked.
type builtinKind struct {
	namespaced bool
	nameFn     apimachineryvalidation.ValidateNameFunc
	new        func() any
	check      func(obj any) field.ErrorList
}

func kind[T any](namespaced bool, nameFn apimachineryvalidation.ValidateNameFunc, check func(*T) field.ErrorList) *builtinKind {
	return &builtinKind{
		namespaced: namespaced,
		nameFn:     nameFn,
		new:        func() any { return new(T) },
		check:      func(obj any) field.ErrorList { return check(obj.(*T)) },
	}
}

var (
	nameIsDNSSubdomain = apimachineryvalidation.NameIsDNSSubdomain
	nameIsDNSLabel     = apimachineryvalidation.NameIsDNSLabel
	nameIsDNS1035Label = apimachineryvalidation.NameIsDNS1035Label
)

// nameIsPathSegment is the name rule of RBAC objects and HorizontalPodAutoscalers.
func nameIsPathSegment(name string, prefix bool) []string {
	if prefix {
		return content.IsPathSegmentPrefix(name)
	}
	return content.IsPathSegmentName(name)
}

func gvk(group, version, kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: group, Version: version, Kind: kind}
}

// builtins are the built-in kinds the validator knows, with the name rules the
// API server applies to each.
var builtins = map[schema.GroupVersionKind]*builtinKind{
	gvk("", "v1", "Namespace"):             kind(false, nameIsDNSLabel, checkNamespace),
	gvk("", "v1", "ResourceQuota"):         kind(true, nameIsDNSSubdomain, checkResourceQuota),
	gvk("", "v1", "LimitRange"):            kind(true, nameIsDNSSubdomain, checkLimitRange),
	gvk("", "v1", "ServiceAccount"):        kind(true, nameIsDNSSubdomain, checkServiceAccount),
	gvk("", "v1", "Service"):               kind(true, nameIsDNS1035Label, checkService),
	gvk("", "v1", "ConfigMap"):             kind(true, nameIsDNSSubdomain, checkConfigMap),
	gvk("", "v1", "Secret"):                kind(true, nameIsDNSSubdomain, checkSecret),
	gvk("", "v1", "PersistentVolumeClaim"): kind(true, nameIsDNSSubdomain, checkPVC),
	gvk("", "v1", "Pod"):                   kind(true, nameIsDNSSubdomain, checkPod),

	gvk("rbac.authorization.k8s.io", "v1", "Role"):               kind(true, nameIsPathSegment, checkRole),
	gvk("rbac.authorization.k8s.io", "v1", "ClusterRole"):        kind(false, nameIsPathSegment, checkClusterRole),
	gvk("rbac.authorization.k8s.io", "v1", "RoleBinding"):        kind(true, nameIsPathSegment, checkRoleBinding),
	gvk("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"): kind(false, nameIsPathSegment, checkClusterRoleBinding),

	gvk("apps", "v1", "Deployment"):  kind(true, nameIsDNSSubdomain, checkDeployment),
	gvk("apps", "v1", "StatefulSet"): kind(true, nameIsDNSLabel, checkStatefulSet),
	gvk("apps", "v1", "DaemonSet"):   kind(true, nameIsDNSSubdomain, checkDaemonSet),

	gvk("batch", "v1", "Job"):     kind(true, nameIsDNSSubdomain, checkJob),
	gvk("batch", "v1", "CronJob"): kind(true, nameIsDNSSubdomain, checkCronJob),

	gvk("autoscaling", "v2", "HorizontalPodAutoscaler"): kind(true, nameIsPathSegment, checkHPA),
	gvk("policy", "v1", "PodDisruptionBudget"):          kind(true, nameIsDNSSubdomain, checkPDB),
	gvk("networking.k8s.io", "v1", "NetworkPolicy"):     kind(true, nameIsDNSSubdomain, checkNetworkPolicy),
	gvk("networking.k8s.io", "v1", "Ingress"):           kind(true, nameIsDNSSubdomain, checkIngress),
	gvk("scheduling.k8s.io", "v1", "PriorityClass"):     kind(false, nameIsDNSSubdomain, checkPriorityClass),
}

// validateBuiltin decodes the JSON j strictly into the kind's type and checks
// it. u is the same object, decoded generically.
func validateBuiltin(j []byte, u *unstructured.Unstructured, bk *builtinKind) ([]string, field.ErrorList) {
	obj := bk.new()
	strictErrs, err := kjson.UnmarshalStrict(j, obj)
	if err != nil {
		return nil, locateDecodeErrors(u.Object, bk.new)
	}
	var unknown []string
	var errs field.ErrorList
	for _, se := range strictErrs {
		fe, ok := se.(kjson.FieldError)
		if !ok {
			errs = append(errs, field.Invalid(nil, field.OmitValueType{}, se.Error()))
			continue
		}
		p := fe.FieldPath()
		if strings.HasPrefix(se.Error(), "unknown field") {
			unknown = append(unknown, p)
		} else {
			errs = append(errs, &field.Error{Type: field.ErrorTypeDuplicate, Field: p, BadValue: field.OmitValueType{}, Detail: "duplicate field"})
		}
	}

	accessor, err := meta.Accessor(obj)
	if err != nil {
		return unknown, append(errs, field.InternalError(field.NewPath("metadata"), err))
	}
	if accessor.GetName() == "" && accessor.GetGenerateName() != "" {
		om := metav1.ObjectMeta{GenerateName: accessor.GetGenerateName()}
		fillGeneratedName(&om)
		accessor.SetName(om.Name)
	}
	errs = append(errs, apimachineryvalidation.ValidateObjectMetaAccessor(accessor, bk.namespaced, bk.nameFn, field.NewPath("metadata"))...)
	errs = append(errs, bk.check(obj)...)
	return unknown, errs
}

// locateDecodeErrors finds where a document that does not decode into its Go
// type goes wrong. The JSON decoder stops at the first error and does not name
// array indices (nor any path for errors such as malformed quantities), so each
// subtree is decoded on its own, inside an otherwise empty object, and the
// search descends into the subtrees that fail. The Go type is followed along to
// tell struct fields (spec.replicas) from map keys (spec.hard[cpu]).
func locateDecodeErrors(obj map[string]any, newObj func() any) field.ErrorList {
	try := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return kjson.UnmarshalCaseSensitivePreserveInts(b, newObj())
	}
	var errs field.ErrorList
	var locate func(p *field.Path, t reflect.Type, v any, wrap func(any) any)
	locate = func(p *field.Path, t reflect.Type, v any, wrap func(any) any) {
		found := false
		switch v := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				childWrap := func(x any) any { return wrap(map[string]any{k: x}) }
				if try(childWrap(v[k])) != nil {
					found = true
					ct, isMap := childType(t, k)
					cp := p.Child(k)
					if isMap {
						cp = p.Key(k)
					}
					locate(cp, ct, v[k], childWrap)
				}
			}
		case []any:
			for i, e := range v {
				childWrap := func(x any) any { return wrap([]any{x}) }
				if try(childWrap(e)) != nil {
					found = true
					locate(p.Index(i), elemType(t), e, childWrap)
				}
			}
		}
		if !found {
			err := try(wrap(v))
			if err == nil {
				return
			}
			var bad any = field.OmitValueType{}
			switch v.(type) {
			case map[string]any, []any:
			default:
				bad = v
			}
			errs = append(errs, field.Invalid(p, bad, decodeErrorDetail(err)))
		}
	}
	locate(nil, reflect.TypeOf(newObj()), obj, func(x any) any { return x })
	if len(errs) == 0 {
		errs = append(errs, field.Invalid(nil, field.OmitValueType{}, "does not decode into its Go type"))
	}
	return errs
}

// indirect strips pointers.
func indirect(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// childType returns the Go type of the JSON member key of a value of type t,
// and whether t is a map (so key is a map key rather than a field name).
// It returns nil when unknown.
func childType(t reflect.Type, key string) (reflect.Type, bool) {
	t = indirect(t)
	if t == nil {
		return nil, false
	}
	switch t.Kind() {
	case reflect.Map:
		return t.Elem(), true
	case reflect.Struct:
		return fieldType(t, key), false
	}
	return nil, false
}

// fieldType finds the struct field of t named key in JSON, looking into
// embedded structs as encoding/json does.
func fieldType(t reflect.Type, key string) reflect.Type {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			if et := indirect(f.Type); et.Kind() == reflect.Struct {
				if ft := fieldType(et, key); ft != nil {
					return ft
				}
			}
			continue
		}
		if name == key || (name == "" && f.Name == key) {
			return f.Type
		}
	}
	return nil
}

func elemType(t reflect.Type) reflect.Type {
	t = indirect(t)
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		return t.Elem()
	}
	return nil
}

var unmarshalTypeErrorRE = regexp.MustCompile(`^json: cannot unmarshal (.+) into Go (?:struct field \S+|value) of type (\S+)$`)

// decodeErrorDetail rewrites a JSON type error without its Go field path, which
// the caller reports in field.Path form.
func decodeErrorDetail(err error) string {
	msg := err.Error()
	if m := unmarshalTypeErrorRE.FindStringSubmatch(msg); m != nil {
		return "cannot decode " + m[1] + " into " + m[2]
	}
	return strings.TrimPrefix(msg, "json: ")
}

// quoteAll quotes each value, for messages.
func quoteAll(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}
