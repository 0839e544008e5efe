package validate

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// patchMarker marks JSON 6902 patch files (a YAML list of {op, path, value}) that
// are applied to the CRD file of the same base name before it is loaded.
const patchMarker = "validation_patches"

// crdVersion is one served version of a loaded CRD.
type crdVersion struct {
	file       string // file the CRD was read from, relative to the loaded directory
	crdName    string
	gvk        schema.GroupVersionKind
	namespaced bool
	// preserveUnknown is spec.preserveUnknownFields: no pruning at all.
	preserveUnknown bool
	hasStatus       bool
	scale           *apiextensions.CustomResourceSubresourceScale

	// structural is nil for a version without a schema.
	structural *structuralschema.Structural
	// internal is the (relaxed) schema in the internal API version, input of the
	// OpenAPI schema validator.
	internal *apiextensions.JSONSchemaProps

	// The OpenAPI validator and the CEL programs are built on first use: most
	// callers validate a few kinds out of the many loaded.
	once            sync.Once
	schemaValidator apiservervalidation.SchemaValidator
	celValidator    *cel.Validator
	initErr         error
}

func (cv *crdVersion) validators() (apiservervalidation.SchemaValidator, *cel.Validator, error) {
	cv.once.Do(func() {
		sv, _, err := apiservervalidation.NewSchemaValidator(cv.internal)
		if err != nil {
			cv.initErr = fmt.Errorf("%s: CRD %s version %s: building the schema validator: %w", cv.file, cv.crdName, cv.gvk.Version, err)
			return
		}
		cv.schemaValidator = sv
		if cv.structural != nil {
			// Returns nil when the schema has no x-kubernetes-validations rules.
			cv.celValidator = cel.NewValidator(cv.structural, true, celconfig.PerCallLimit)
		}
	})
	return cv.schemaValidator, cv.celValidator, cv.initErr
}

// Load reads every CRD (*.yaml/*.yml, multi-document, recursively) under dir. Notebook-style JSON6902 patch files
// (a YAML list of {op,path,value}) named *validation_patches*.yaml are applied to the CRD of the same base name
// (kubeflow.org_notebooks.validation_patches.yaml -> kubeflow.org_notebooks.yaml). Argo Workflows' non-structural nodes
// are relaxed in memory as the README says. Errors name the file.
//
// Seldon Core's SeldonDeployment, whose graph.children is made structural by an
// install-time patch that is not part of the CRD file, is relaxed likewise; every
// other CRD must be structural as it is (see relaxationFor).
//
// Documents that are not apiextensions.k8s.io/v1 CustomResourceDefinitions are
// ignored, so dir may also hold other manifests. Hidden directories are skipped.
// Two CRDs serving the same group/version/kind are an error. Only served
// versions are known to the validator.
func Load(dir string) (*Validator, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("loading CRDs: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("loading CRDs: %s is not a directory", dir)
	}

	var crdFiles, patchFiles []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !isYAMLFile(d.Name()) {
			return nil
		}
		if strings.Contains(d.Name(), patchMarker) {
			patchFiles = append(patchFiles, p)
		} else {
			crdFiles = append(crdFiles, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loading CRDs from %s: %w", dir, err)
	}
	sort.Strings(crdFiles)

	rel := func(p string) string {
		if r, err := filepath.Rel(dir, p); err == nil {
			return r
		}
		return p
	}

	// Patches, keyed by the CRD file they apply to.
	patches := map[string][]jsonpatch.Patch{}
	sort.Strings(patchFiles)
	for _, pf := range patchFiles {
		target := patchTarget(pf)
		if target == "" {
			return nil, fmt.Errorf("%s: cannot tell which CRD file this patch file applies to", rel(pf))
		}
		if _, err := os.Stat(target); err != nil {
			return nil, fmt.Errorf("%s: patch target %s: %w", rel(pf), rel(target), err)
		}
		raw, err := os.ReadFile(pf)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rel(pf), err)
		}
		j, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rel(pf), err)
		}
		patch, err := jsonpatch.DecodePatch(j)
		if err != nil {
			return nil, fmt.Errorf("%s: not a JSON 6902 patch list: %w", rel(pf), err)
		}
		patches[target] = append(patches[target], patch)
	}

	// Parse the files in parallel: the large CRDs take most of the time.
	type result struct {
		versions []*crdVersion
		err      error
	}
	results := make([]result, len(crdFiles))
	forEachParallel(len(crdFiles), func(i int) {
		vs, err := loadCRDFile(crdFiles[i], rel(crdFiles[i]), patches[crdFiles[i]])
		results[i] = result{vs, err}
	})

	v := &Validator{crds: map[schema.GroupVersionKind]*crdVersion{}}
	crdFile := map[string]string{} // CRD name -> file
	var errs []error
	for i, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		seen := map[string]bool{}
		for _, cv := range r.versions {
			if prev, ok := crdFile[cv.crdName]; ok && !seen[cv.crdName] {
				errs = append(errs, fmt.Errorf("%s: CRD %s is already defined in %s", rel(crdFiles[i]), cv.crdName, prev))
				continue
			}
			crdFile[cv.crdName] = cv.file
			seen[cv.crdName] = true
			if prev, ok := v.crds[cv.gvk]; ok {
				errs = append(errs, fmt.Errorf("%s: %s is already served by CRD %s in %s", cv.file, gvkString(cv.gvk), prev.crdName, prev.file))
				continue
			}
			v.crds[cv.gvk] = cv
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return v, nil
}

func isYAMLFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// patchTarget returns the CRD file that the patch file p applies to: p with the
// "validation_patches" part of its name (and the separator before it) removed.
func patchTarget(p string) string {
	base := filepath.Base(p)
	i := strings.Index(base, patchMarker)
	if i < 0 {
		return ""
	}
	prefix, suffix := base[:i], base[i+len(patchMarker):]
	if strings.HasPrefix(suffix, ".") || suffix == "" {
		prefix = strings.TrimRight(prefix, "._-")
	} else {
		suffix = strings.TrimLeft(suffix, "._-")
	}
	if prefix == "" || !isYAMLFile(prefix+suffix) {
		return ""
	}
	return filepath.Join(filepath.Dir(p), prefix+suffix)
}

// loadCRDFile reads the CRDs of one file. name is the file name used in errors.
func loadCRDFile(path, name string, patches []jsonpatch.Patch) ([]*crdVersion, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	docs, err := SplitYAML(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var crds [][]byte
	for i, doc := range docs {
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i+1, err)
		}
		var tm metav1.TypeMeta
		if err := kjson.UnmarshalCaseSensitivePreserveInts(j, &tm); err != nil {
			// Not an object (e.g. a list of patches): not a CRD.
			continue
		}
		if tm.Kind != "CustomResourceDefinition" || !strings.HasPrefix(tm.APIVersion, "apiextensions.k8s.io/") {
			continue
		}
		if tm.APIVersion != "apiextensions.k8s.io/v1" {
			return nil, fmt.Errorf("%s: document %d: %s CustomResourceDefinitions are not supported, only apiextensions.k8s.io/v1", name, i+1, tm.APIVersion)
		}
		crds = append(crds, j)
	}
	if len(patches) > 0 && len(crds) != 1 {
		return nil, fmt.Errorf("%s: JSON 6902 patches apply to a file with exactly one CRD, found %d", name, len(crds))
	}

	var out []*crdVersion
	for _, j := range crds {
		for _, p := range patches {
			if j, err = p.Apply(j); err != nil {
				return nil, fmt.Errorf("%s: applying validation patches: %w", name, err)
			}
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := kjson.UnmarshalCaseSensitivePreserveInts(j, crd); err != nil {
			return nil, fmt.Errorf("%s: decoding CRD: %w", name, err)
		}
		apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(crd)
		vs, err := crdVersions(crd, name)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

// crdVersions builds the structural schemas of the served versions of crd.
func crdVersions(crd *apiextensionsv1.CustomResourceDefinition, file string) ([]*crdVersion, error) {
	where := fmt.Sprintf("%s: CRD %s", file, crd.Name)
	if crd.Spec.Group == "" || crd.Spec.Names.Kind == "" {
		return nil, fmt.Errorf("%s: spec.group and spec.names.kind are required", where)
	}
	relax := relaxationFor(crd)
	var out []*crdVersion
	for i := range crd.Spec.Versions {
		ver := &crd.Spec.Versions[i]
		if !ver.Served {
			continue
		}
		cv := &crdVersion{
			file:            file,
			crdName:         crd.Name,
			gvk:             schema.GroupVersionKind{Group: crd.Spec.Group, Version: ver.Name, Kind: crd.Spec.Names.Kind},
			namespaced:      crd.Spec.Scope != apiextensionsv1.ClusterScoped,
			preserveUnknown: crd.Spec.PreserveUnknownFields,
		}
		if sr := ver.Subresources; sr != nil {
			cv.hasStatus = sr.Status != nil
			if sr.Scale != nil {
				cv.scale = &apiextensions.CustomResourceSubresourceScale{}
				if err := apiextensionsv1.Convert_v1_CustomResourceSubresourceScale_To_apiextensions_CustomResourceSubresourceScale(sr.Scale, cv.scale, nil); err != nil {
					return nil, fmt.Errorf("%s version %s: %w", where, ver.Name, err)
				}
			}
		}
		if ver.Schema != nil && ver.Schema.OpenAPIV3Schema != nil {
			if relax != nil {
				relax(ver.Schema.OpenAPIV3Schema)
			}
			internal := &apiextensions.CustomResourceValidation{}
			if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(ver.Schema, internal, nil); err != nil {
				return nil, fmt.Errorf("%s version %s: converting the schema: %w", where, ver.Name, err)
			}
			cv.internal = internal.OpenAPIV3Schema
			s, err := structuralschema.NewStructural(cv.internal)
			if err != nil {
				return nil, fmt.Errorf("%s version %s: schema is not structural: %w", where, ver.Name, err)
			}
			if !cv.preserveUnknown {
				if errs := structuralschema.ValidateStructural(nil, s); len(errs) > 0 {
					return nil, fmt.Errorf("%s version %s: schema is not structural: %w", where, ver.Name, errs.ToAggregate())
				}
			}
			// As the API server does: the defaults must not be shared, and defaults
			// of unknown fields are dropped.
			s = s.DeepCopy()
			if err := structuraldefaulting.PruneDefaults(s); err != nil {
				return nil, fmt.Errorf("%s version %s: pruning defaults: %w", where, ver.Name, err)
			}
			cv.structural = s
		}
		out = append(out, cv)
	}
	return out, nil
}

// Relaxations of upstream CRDs that are not structural as shipped. A real API
// server rejects such a CRD, so each is made structural in memory, touching
// only the offending nodes; everything else stays as strict as the files.
//   - Argo Workflows' "full" CRDs (see relaxArgoSchema).
//   - Seldon Core's SeldonDeployment: graph.children is `items: {}` (a recursive
//     type). Upstream's kustomization replaces it at install time with a JSON
//     6902 patch (config/crd_v1/patches/graph_children.yaml, ten explicit
//     levels) that is not in the CRD file; here the empty item schema accepts
//     any value instead.
func relaxationFor(crd *apiextensionsv1.CustomResourceDefinition) func(*apiextensionsv1.JSONSchemaProps) {
	switch {
	case crd.Spec.Group == "argoproj.io" && argoWorkflowsKinds[crd.Spec.Names.Kind]:
		return relaxArgoSchema
	case crd.Name == "seldondeployments.machinelearning.seldon.io":
		return relaxEmptySchemas
	}
	return nil
}

// argoWorkflowsKinds are the kinds of Argo Workflows' CRDs (group argoproj.io,
// shared with Argo CD, whose CRDs are structural and are not relaxed).
var argoWorkflowsKinds = map[string]bool{
	"Workflow":                true,
	"WorkflowTemplate":        true,
	"ClusterWorkflowTemplate": true,
	"CronWorkflow":            true,
	"WorkflowEventBinding":    true,
	"WorkflowTaskSet":         true,
	"WorkflowTaskResult":      true,
	"WorkflowArtifactGCTask":  true,
}

// relaxArgoSchema makes Argo Workflows' "full" CRD schemas structural, in memory:
//   - an array without items (templates[].steps[] is an array of arrays whose inner
//     array has no items) gets items that accept any value;
//   - a node without a type and without properties (dag.tasks[].inline) accepts
//     any value;
//   - a bare `type: object` without properties or additionalProperties
//     (templates[].plugin, volumeClaimTemplates[].metadata, archive.none, ...)
//     preserves its content instead of pruning all of it;
//   - withItems[] is Argo's Item, any JSON value (a string, a number, an
//     object, ...), but is declared `type: object`: its items accept any value.
//
// Each of these nodes is marked x-kubernetes-preserve-unknown-fields. The root
// metadata (validated by the API server itself) is left alone.
func relaxArgoSchema(root *apiextensionsv1.JSONSchemaProps) {
	walkSchema(root, func(name string, s *apiextensionsv1.JSONSchemaProps) {
		if name == "withItems" && s.Type == "array" {
			s.Items = &apiextensionsv1.JSONSchemaPropsOrArray{
				Schema: &apiextensionsv1.JSONSchemaProps{XPreserveUnknownFields: ptrTo(true)},
			}
			return
		}
		preserve := s.XPreserveUnknownFields != nil && *s.XPreserveUnknownFields
		switch {
		case s.XIntOrString || s.XEmbeddedResource || preserve:
		case s.Type == "" && len(s.Properties) == 0 && s.Items == nil && s.AdditionalProperties == nil:
			s.XPreserveUnknownFields = ptrTo(true)
		case s.Type == "object" && len(s.Properties) == 0 && s.AdditionalProperties == nil:
			s.XPreserveUnknownFields = ptrTo(true)
		case s.Type == "array" && s.Items == nil:
			s.Items = &apiextensionsv1.JSONSchemaPropsOrArray{
				Schema: &apiextensionsv1.JSONSchemaProps{XPreserveUnknownFields: ptrTo(true)},
			}
		}
		if s.Type == "" && len(s.Properties) > 0 && !s.XIntOrString {
			s.Type = "object"
		}
	})
}

// relaxEmptySchemas marks every empty schema node ({}) as accepting any value.
func relaxEmptySchemas(root *apiextensionsv1.JSONSchemaProps) {
	walkSchema(root, func(_ string, s *apiextensionsv1.JSONSchemaProps) {
		if reflect.DeepEqual(*s, apiextensionsv1.JSONSchemaProps{}) {
			s.XPreserveUnknownFields = ptrTo(true)
		}
	})
}

// walkSchema calls f on every node below root that describes a value
// (properties, items, additionalProperties), parents first, with the name of
// the property it describes ("" for items and additionalProperties). The root
// and its metadata, which the API server validates itself, are skipped.
func walkSchema(root *apiextensionsv1.JSONSchemaProps, f func(name string, s *apiextensionsv1.JSONSchemaProps)) {
	var walk func(name string, s *apiextensionsv1.JSONSchemaProps)
	walk = func(name string, s *apiextensionsv1.JSONSchemaProps) {
		f(name, s)
		for k, p := range s.Properties {
			walk(k, &p)
			s.Properties[k] = p
		}
		if s.Items != nil {
			if s.Items.Schema != nil {
				walk("", s.Items.Schema)
			}
			for i := range s.Items.JSONSchemas {
				walk("", &s.Items.JSONSchemas[i])
			}
		}
		if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
			walk("", s.AdditionalProperties.Schema)
		}
	}
	for k, p := range root.Properties {
		if k == "metadata" {
			continue
		}
		walk(k, &p)
		root.Properties[k] = p
	}
}

func ptrTo[T any](v T) *T { return &v }

func gvkString(gvk schema.GroupVersionKind) string {
	return gvk.GroupVersion().String() + ", " + gvk.Kind
}

// isBlank reports whether a YAML document holds only blank lines, comments and
// document markers.
func isBlank(doc []byte) bool {
	for _, line := range bytes.Split(doc, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' || bytes.Equal(t, []byte("---")) || bytes.Equal(t, []byte("...")) {
			continue
		}
		return false
	}
	return true
}
