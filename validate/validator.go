package validate

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiextensionsvalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/api/operation"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"sigs.k8s.io/yaml"
)

// Validator checks objects against a set of CRDs and the built-in core types.
// It is safe for concurrent use.
type Validator struct {
	crds map[schema.GroupVersionKind]*crdVersion
}

// documentPath is the "field path" of problems with a document as a whole.
const documentPath = "<document>"

// Validate checks one object given as YAML or JSON bytes (a single document). It returns every problem found,
// sorted, each as a string starting with the field path, e.g. `spec.pytorchReplicaSpecs.Worker.replicas: Invalid value: ...`.
// A nil/empty result means the object is accepted.
//
// An object of a kind that neither a loaded CRD nor the built-in types serve
// yields the single problem "no CRD or built-in type for <apiVersion>, Kind=<kind>".
//
// Workflows, WorkflowTemplates and CronWorkflows are also checked by Argo's
// own validator in lint mode; templateRefs resolve to nothing here, so use
// ValidateAll for objects that refer to each other.
func (v *Validator) Validate(doc []byte) []string {
	return v.validate(doc, nil)
}

func (v *Validator) validate(doc []byte, tmpls templates) []string {
	u, j, problems := decode(doc)
	if problems != nil {
		return problems
	}
	gvk := u.GroupVersionKind()
	var errs field.ErrorList
	var unknown []string
	if cv, ok := v.crdFor(gvk); ok {
		unknown, errs = validateCustomResource(u, cv)
		errs = append(errs, embeddedPodErrors(u.Object)...)
	} else if bk, ok := builtins[gvk]; ok {
		unknown, errs = validateBuiltin(j, u, bk)
	} else {
		// Without Argo's CRDs, Argo's own validator still knows its kinds.
		if isArgo(gvk) {
			if problems := argoProblems(j, gvk.Kind, tmpls); problems != nil {
				return problems
			}
		}
		return []string{fmt.Sprintf("no CRD or built-in type for %s, Kind=%s", u.GetAPIVersion(), u.GetKind())}
	}
	out := formatProblems(unknown, errs)
	if len(out) == 0 && isArgo(gvk) {
		out = argoProblems(j, gvk.Kind, tmpls)
	}
	return out
}

func (v *Validator) crdFor(gvk schema.GroupVersionKind) (*crdVersion, bool) {
	if v == nil {
		return nil, false
	}
	cv, ok := v.crds[gvk]
	return cv, ok
}

// ValidateAll validates several documents, keyed by a name such as a file name,
// concurrently. The result has an entry only for documents with problems.
// A value that holds several YAML documents is split and each document is
// validated; its problems are then prefixed with "document N: ".
func (v *Validator) ValidateAll(docs map[string][]byte) map[string][]string {
	names := make([]string, 0, len(docs))
	for name := range docs {
		names = append(names, name)
	}
	sort.Strings(names)
	var all [][]byte
	for _, name := range names {
		if parts, err := SplitYAML(docs[name]); err == nil {
			all = append(all, parts...)
		}
	}
	tmpls := workflowTemplates(all)
	results := make([][]string, len(names))
	forEachParallel(len(names), func(i int) {
		results[i] = v.validateStream(docs[names[i]], tmpls)
	})
	out := map[string][]string{}
	for i, name := range names {
		if len(results[i]) > 0 {
			out[name] = results[i]
		}
	}
	return out
}

func (v *Validator) validateStream(stream []byte, tmpls templates) []string {
	parts, err := SplitYAML(stream)
	if err != nil {
		return []string{documentPath + ": " + err.Error()}
	}
	switch len(parts) {
	case 0:
		return []string{documentPath + ": empty document"}
	case 1:
		return v.validate(parts[0], tmpls)
	}
	var out []string
	for i, p := range parts {
		for _, problem := range v.validate(p, tmpls) {
			out = append(out, fmt.Sprintf("document %d: %s", i+1, problem))
		}
	}
	return out
}

// Kinds lists the group/version/kinds the validator knows (CRD-served versions plus the core kinds it strictly decodes), sorted, formatted "group/version, Kind".
// The core group has no group part: "v1, Namespace".
func (v *Validator) Kinds() []string {
	var out []string
	if v != nil {
		for gvk := range v.crds {
			out = append(out, gvkString(gvk))
		}
	}
	for gvk := range builtins {
		out = append(out, gvkString(gvk))
	}
	sort.Strings(out)
	return out
}

// FindCRDDir walks up from start to the directory holding go.mod and returns <that>/../shared/crds, or $KILN_TEST_CRDS if set; ok=false if the directory does not exist.
func FindCRDDir(start string) (dir string, ok bool) {
	if env := os.Getenv("KILN_TEST_CRDS"); env != "" {
		return env, isDir(env)
	}
	d, err := filepath.Abs(start)
	if err != nil {
		return "", false
	}
	for {
		if st, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && !st.IsDir() {
			dir = filepath.Join(filepath.Dir(d), "shared", "crds")
			return dir, isDir(dir)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", false
		}
		d = parent
	}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// decode parses one YAML or JSON document the way the API server does: YAML is
// converted to JSON (duplicate keys are errors, as with fieldValidation=Strict)
// and the JSON is decoded by unstructured.UnstructuredJSONScheme, which keeps
// integers as int64. It returns the object and its JSON, or the problems.
func decode(doc []byte) (*unstructured.Unstructured, []byte, []string) {
	if isBlank(doc) {
		return nil, nil, []string{documentPath + ": empty document"}
	}
	if parts, err := SplitYAML(doc); err == nil && len(parts) > 1 {
		return nil, nil, []string{fmt.Sprintf("%s: expected a single YAML document, found %d", documentPath, len(parts))}
	}
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, nil, []string{documentPath + ": " + oneLine(err.Error())}
	}
	j = bytes.TrimSpace(j)
	if len(j) == 0 || j[0] != '{' {
		return nil, nil, []string{documentPath + ": must be an object with apiVersion and kind"}
	}
	// Check apiVersion and kind first, for messages better than the decoder's.
	var tm struct {
		APIVersion any `json:"apiVersion"`
		Kind       any `json:"kind"`
	}
	if err := yaml.Unmarshal(j, &tm); err != nil {
		return nil, nil, []string{documentPath + ": " + err.Error()}
	}
	var problems []string
	for _, f := range []struct {
		name string
		v    any
	}{{"apiVersion", tm.APIVersion}, {"kind", tm.Kind}} {
		switch s, isString := f.v.(string); {
		case f.v == nil || (isString && s == ""):
			problems = append(problems, field.Required(field.NewPath(f.name), "").Error())
		case !isString:
			problems = append(problems, field.Invalid(field.NewPath(f.name), f.v, "must be a string").Error())
		}
	}
	if problems != nil {
		return nil, nil, problems
	}
	u := &unstructured.Unstructured{}
	if _, _, err := unstructured.UnstructuredJSONScheme.Decode(j, nil, u); err != nil {
		return nil, nil, []string{documentPath + ": " + err.Error()}
	}
	if _, err := schema.ParseGroupVersion(u.GetAPIVersion()); err != nil {
		return nil, nil, []string{field.Invalid(field.NewPath("apiVersion"), u.GetAPIVersion(), err.Error()).Error()}
	}
	return u, j, nil
}

// oneLine joins the lines of a multi-line message such as the YAML parser's.
func oneLine(msg string) string {
	return strings.Join(strings.Fields(msg), " ")
}

// validateCustomResource validates u against one served CRD version as the API
// server's create handler and strategy do. It returns the unknown (pruned) field
// paths and the validation errors.
func validateCustomResource(u *unstructured.Unstructured, cv *crdVersion) ([]string, field.ErrorList) {
	ctx := context.Background()
	obj := u.Object
	s := cv.structural

	// Decoding: metadata is decoded strictly into ObjectMeta, defaults are
	// applied, unknown fields are pruned (and reported) and embedded resources
	// are coerced.
	meta, _, unknown, err := objectmeta.GetObjectMetaWithOptions(obj, objectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		return unknown, field.ErrorList{field.Invalid(field.NewPath("metadata"), obj["metadata"], err.Error())}
	}
	if meta == nil {
		meta = &metav1.ObjectMeta{}
	}
	if s != nil {
		structuraldefaulting.Default(obj, s)
	}
	if !cv.preserveUnknown && s != nil {
		unknown = append(unknown, pruning.PruneWithOptions(obj, s, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
		structuraldefaulting.PruneNonNullableNullsWithoutDefaults(obj, s)
	}
	if ferr, paths := objectmeta.CoerceWithOptions(nil, obj, s, false, objectmeta.CoerceOptions{ReturnUnknownFieldPaths: true}); ferr != nil {
		return unknown, field.ErrorList{ferr}
	} else {
		unknown = append(unknown, paths...)
	}

	// Creation: the registry generates a name from generateName, and drops the
	// status when the status subresource is enabled.
	fillGeneratedName(meta)
	if err := objectmeta.SetObjectMeta(obj, meta); err != nil {
		return unknown, field.ErrorList{field.InternalError(field.NewPath("metadata"), err)}
	}
	if cv.hasStatus {
		delete(obj, "status")
	}

	schemaValidator, celValidator, err := cv.validators()
	if err != nil {
		return unknown, field.ErrorList{field.InternalError(nil, err)}
	}

	// customResourceStrategy.Validate.
	var errs field.ErrorList
	errs = append(errs, apimachineryvalidation.ValidateObjectMetaDeclaratively(ctx, operation.Create, meta, nil, cv.namespaced,
		apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"), utilfeature.DefaultFeatureGate.Enabled(features.DeclarativeValidationBeta))...)
	errs = append(errs, apiextensionsvalidation.ValidateCustomResource(nil, obj, schemaValidator)...)
	for _, e := range validateScaleSpec(obj, cv) {
		// A replica count of the wrong type is already reported by the schema.
		if !hasErrorAt(errs, e.Field) {
			errs = append(errs, e)
		}
	}
	errs = append(errs, objectmeta.Validate(ctx, nil, obj, s, false)...)
	if s != nil {
		errs = append(errs, listtype.ValidateListSetsAndMaps(nil, s, obj)...)
	}
	if celValidator != nil {
		if blocking, ferr := hasBlockingErr(errs); blocking {
			errs = append(errs, ferr)
		} else {
			celErrs, _ := celValidator.Validate(ctx, nil, s, obj, nil, celconfig.RuntimeCELCostBudget)
			errs = append(errs, celErrs...)
		}
	}
	return unknown, errs
}

// hasBlockingErr mirrors the API server: CEL rules are not evaluated on an
// object that already failed in a way that could make the rules fail to run.
func hasBlockingErr(errs field.ErrorList) (bool, *field.Error) {
	for _, err := range errs {
		switch err.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true, field.Invalid(nil, field.OmitValueType{}, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")
		}
	}
	return false, nil
}

func hasErrorAt(errs field.ErrorList, path string) bool {
	for _, e := range errs {
		if e.Field == path {
			return true
		}
	}
	return false
}

// validateScaleSpec checks the spec replicas path of the scale subresource.
func validateScaleSpec(obj map[string]any, cv *crdVersion) field.ErrorList {
	if cv.scale == nil {
		return nil
	}
	p := strings.TrimPrefix(cv.scale.SpecReplicasPath, ".")
	fp := field.NewPath(p)
	v, found, _ := unstructured.NestedFieldNoCopy(obj, strings.Split(p, ".")...)
	if !found {
		return nil
	}
	replicas, ok := v.(int64)
	switch {
	case !ok:
		// The schema validation reports the type.
		return field.ErrorList{field.Invalid(fp, v, "should be an integer: it is the replica count of the scale subresource")}
	case replicas < 0:
		return field.ErrorList{field.Invalid(fp, replicas, "should be a non-negative integer")}
	case replicas > 1<<31-1:
		return field.ErrorList{field.Invalid(fp, replicas, "should be less than or equal to 2147483647")}
	}
	return nil
}

// generatedSuffix stands in for the 5 random characters the API server appends
// to generateName; it is fixed so that messages are reproducible.
const generatedSuffix = "x7b2k"

// fillGeneratedName sets the name of an object that has only generateName, as
// names.SimpleNameGenerator does (the base is cut to leave room for the suffix).
func fillGeneratedName(meta *metav1.ObjectMeta) {
	if meta.Name != "" || meta.GenerateName == "" {
		return
	}
	base := meta.GenerateName
	const maxBase = 63 - len(generatedSuffix)
	if len(base) > maxBase {
		base = base[:maxBase]
	}
	meta.Name = base + generatedSuffix
}

// formatProblems renders unknown field paths and field errors as sorted,
// de-duplicated strings that start with the field path.
func formatProblems(unknown []string, errs field.ErrorList) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, p := range unknown {
		add(p + ": unknown field")
	}
	for _, e := range errs {
		if e == nil {
			continue
		}
		if e.Field == "" || e.Field == "<nil>" {
			add(documentPath + ": " + e.ErrorBody())
		} else {
			add(e.Error())
		}
	}
	sort.Strings(out)
	return out
}
