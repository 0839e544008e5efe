package kustomize

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

// Build runs `kustomize build dir` over files (paths relative to the output
// root, as render.Files returns them) in memory and returns the resources.
func Build(files map[string][]byte, dir string) (resmap.ResMap, error) {
	fs := filesys.MakeFsInMemory()
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if err := fs.WriteFile("/"+p, files[p]); err != nil {
			return nil, err
		}
	}
	return run(fs, "/"+dir)
}

func run(fs filesys.FileSystem, dir string) (resmap.ResMap, error) {
	opts := krusty.MakeDefaultOptions()
	// No plugins, no network, no helm: only kustomize's built-ins.
	opts.PluginConfig = types.DisabledPluginConfig()
	return krusty.MakeKustomizer(opts).Run(fs, dir)
}

// Patcher applies an environment's kustomize patches to its objects.
type Patcher struct{}

// Name implements render.Renderer.
func (Patcher) Name() string { return "kustomize" }

// Render implements render.Renderer: it checks each patch's shape, so a
// patch with neither or both of merge and ops is reported even when
// another renderer fails.
func (Patcher) Render(c *render.Context) diag.List {
	for _, name := range slices.Sorted(maps.Keys(c.Env.Patches)) {
		p := c.Env.Patches[name]
		path := patchPath(c.Env, name)
		switch {
		case p.Merge == nil && p.Ops == nil:
			c.Errorf(path, "patch %s has neither merge (a strategic merge patch) nor ops (a JSON patch); set one of them", name)
		case p.Merge != nil && p.Ops != nil:
			c.Errorf(path, "patch %s has both merge and ops; split it into two patches", name)
		}
	}
	return nil
}

func patchPath(env *ir.Environment, name string) string {
	return ir.Path("environments", env.Name, "patches", name)
}

const patchDir = "/env"

// Transform implements render.Transformer.
func (Patcher) Transform(c *render.Context) diag.List {
	if len(c.Env.Patches) == 0 {
		return nil
	}
	names := slices.Sorted(maps.Keys(c.Env.Patches))
	for _, name := range names {
		if p := c.Env.Patches[name]; (p.Merge == nil) == (p.Ops == nil) {
			return nil // reported by Render
		}
	}
	items := c.Set.Items()
	fs := filesys.MakeFsInMemory()
	var resources []string
	// kustomize parses every object it is given, which costs more than
	// the rest of rendering: give it only objects of the kinds the
	// patches target (kustomize's kind selectors are anchored regexps).
	kinds := targetKinds(c.Env.Patches)
	for i, it := range items {
		if kinds != nil && !kinds.MatchString(it.GVK().Kind) {
			continue
		}
		b, err := render.Marshal(it.Object)
		if err != nil {
			c.Errorf(ir.Path("environments", c.Env.Name), "internal error: %v", err)
			return nil
		}
		f := fmt.Sprintf("r%04d.yaml", i)
		if err := fs.WriteFile(patchDir+"/"+f, b); err != nil {
			c.Errorf(ir.Path("environments", c.Env.Name), "internal error: %v", err)
			return nil
		}
		resources = append(resources, f)
	}

	if len(resources) == 0 {
		// No object has a kind any patch targets. After an earlier
		// error, that may be its consequence: say nothing more.
		if c.Failed() {
			return nil
		}
		for _, name := range names {
			c.Errorf(ir.Join(patchPath(c.Env, name), "target"), "patch %s matches no object in environment %s; %s", name, c.Env.Name, candidates(items, c.Env.Patches[name].Target.Kind))
		}
		return nil
	}

	// Which objects each patch selects, before any is applied:
	// kustomize skips a target that matches nothing without a word.
	base, err := kustomizeWith(fs, resources, nil)
	if err != nil {
		c.Errorf(ir.Path("environments", c.Env.Name), "internal error: kustomize build of the rendered objects: %v", err)
		return nil
	}
	var patches []types.Patch
	ok := true
	for _, name := range names {
		p := c.Env.Patches[name]
		path := patchPath(c.Env, name)
		sel := selector(p.Target)
		matched, err := base.Select(sel)
		if err != nil {
			c.Errorf(ir.Join(path, "target"), "bad target: %v", err)
			ok = false
			continue
		}
		if len(matched) == 0 {
			if c.Failed() {
				// Perhaps the object the earlier error is about.
				ok = false
				continue
			}
			c.Errorf(ir.Join(path, "target"), "patch %s matches no object in environment %s; %s", name, c.Env.Name, candidates(items, p.Target.Kind))
			ok = false
			continue
		}
		text, err := patchText(p)
		if err != nil {
			c.Errorf(path, "%v", err)
			ok = false
			continue
		}
		patches = append(patches, types.Patch{Patch: text, Target: &sel})
	}
	if !ok {
		return nil
	}
	out, err := kustomizeWith(fs, resources, patches)
	if err != nil {
		// One patch at a time, so the error names the patch that failed.
		for i, name := range names {
			if _, err := kustomizeWith(fs, resources, patches[:i+1]); err != nil {
				c.Errorf(patchPath(c.Env, name), "patch %s does not apply: %v", name, oneLine(err))
				return nil
			}
		}
		c.Errorf(ir.Path("environments", c.Env.Name, "patches"), "the patches do not apply together: %v", oneLine(err))
		return nil
	}
	for _, r := range out.Resources() {
		b, err := r.MarshalJSON()
		if err != nil {
			c.Errorf(ir.Path("environments", c.Env.Name, "patches"), "internal error: %v", err)
			return nil
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(b); err != nil {
			c.Errorf(ir.Path("environments", c.Env.Name, "patches"), "a patched object is not a Kubernetes object: %v", err)
			return nil
		}
		if !c.Set.Replace(u) {
			c.Errorf(ir.Path("environments", c.Env.Name, "patches"), "the patches change the kind, namespace or name of %s %s; patches may change an object, not which object it is", u.GetKind(), u.GetName())
			return nil
		}
	}
	return nil
}

// kustomizeWith builds the rendered objects with patches.
func kustomizeWith(fs filesys.FileSystem, resources []string, patches []types.Patch) (resmap.ResMap, error) {
	k := types.Kustomization{
		TypeMeta:  types.TypeMeta{APIVersion: types.KustomizationVersion, Kind: types.KustomizationKind},
		Resources: resources,
		Patches:   patches,
	}
	b, err := yaml.Marshal(k)
	if err != nil {
		return nil, err
	}
	if err := fs.WriteFile(patchDir+"/kustomization.yaml", b); err != nil {
		return nil, err
	}
	return run(fs, patchDir)
}

// targetKinds matches the kinds the patches target; nil when a patch
// targets any kind (by name or labels alone).
func targetKinds(patches map[string]*ir.Patch) *regexp.Regexp {
	var alts []string
	for _, name := range slices.Sorted(maps.Keys(patches)) {
		k := patches[name].Target.Kind
		if k == "" {
			return nil
		}
		if _, err := regexp.Compile(k); err != nil {
			return nil // reported as a bad target
		}
		alts = append(alts, "(?:"+k+")")
	}
	return regexp.MustCompile("^(?:" + strings.Join(alts, "|") + ")$")
}

func selector(t ir.PatchTarget) types.Selector {
	return types.Selector{
		ResId: resid.ResId{
			Gvk:       resid.Gvk{Group: t.Group, Version: t.Version, Kind: t.Kind},
			Name:      t.Name,
			Namespace: t.Namespace,
		},
		LabelSelector:      t.LabelSelector,
		AnnotationSelector: t.AnnotationSelector,
	}
}

// patchText is the patch as kustomize reads it: a strategic merge patch
// gets a placeholder identity (kustomize takes the target's), a JSON patch
// is the list of operations.
func patchText(p *ir.Patch) (string, error) {
	if p.Ops != nil {
		return string(p.Ops), nil
	}
	var body map[string]any
	if err := json.Unmarshal(p.Merge, &body); err != nil {
		return "", fmt.Errorf("merge must be an object: %v", err)
	}
	md, _ := body["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
	}
	if _, ok := md["name"]; !ok {
		md["name"] = "kiln-patch"
	}
	body["metadata"] = md
	if _, ok := body["kind"]; !ok {
		body["kind"] = p.Target.Kind
	}
	if _, ok := body["apiVersion"]; !ok {
		body["apiVersion"] = cmp.Or(strings.Trim(p.Target.Group+"/"+p.Target.Version, "/"), "v1")
	}
	b, err := yaml.Marshal(body)
	return string(b), err
}

// candidates names the objects of a kind, to help fix a target.
func candidates(items []render.Item, kind string) string {
	var names []string
	for _, it := range items {
		if it.GVK().Kind == kind {
			names = append(names, it.Object.GetName())
		}
	}
	if len(names) == 0 {
		kinds := map[string]bool{}
		for _, it := range items {
			kinds[it.GVK().Kind] = true
		}
		return fmt.Sprintf("it renders no %s (kinds: %s)", kind, strings.Join(slices.Sorted(maps.Keys(kinds)), ", "))
	}
	return fmt.Sprintf("the %s objects are %s", kind, strings.Join(names, ", "))
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
