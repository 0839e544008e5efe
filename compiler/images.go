package compiler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"

	"github.com/kiln-ml/kiln/ir"
)

// Image overrides follow references, not values. CUE resolves
// image: images.trainer before environments are applied, so kiln records,
// from the spec as the user wrote it, which images.X each image field
// refers to; an override of images.X then changes exactly those fields,
// and never a field that names another image or a literal with the same
// value.

// imageRef is what an image field of the user's spec refers to.
type imageRef struct {
	// name is the images entry the field refers to; "" for none.
	name string
	// known is false when the field's expression is too involved to tell
	// (images.a + "-debug", a comprehension): the field then follows an
	// override only if its value is that of exactly one images entry.
	known bool
}

// collectImageRefs walks the user's spec for fields named image and
// records, by CUE path, the images entry each refers to.
func collectImageRefs(user cue.Value) map[string]imageRef {
	refs := map[string]imageRef{}
	var walk func(path string, v cue.Value)
	walk = func(path string, v cue.Value) {
		switch v.IncompleteKind() {
		case cue.StructKind:
			it, err := v.Fields()
			if err != nil {
				return
			}
			for it.Next() {
				sel := it.Selector()
				if sel.Type() != cue.StringLabel {
					continue
				}
				label := sel.Unquoted()
				child := ir.Join(path, label)
				if label == "image" && it.Value().IncompleteKind() == cue.StringKind {
					refs[child] = imageRefOf(it.Value())
					continue
				}
				walk(child, it.Value())
			}
		case cue.ListKind:
			it, err := v.List()
			if err != nil {
				return
			}
			for i := 0; it.Next(); i++ {
				walk(ir.Index(path, i), it.Value())
			}
		}
	}
	walk("", user)
	return refs
}

// imageRefOf tells which images entry v refers to.
func imageRefOf(v cue.Value) imageRef {
	if root, p := v.ReferencePath(); root.Exists() {
		sels := p.Selectors()
		// images.X, or images.X.ref of the long form.
		long := len(sels) == 3 && sels[2].Type() == cue.StringLabel && sels[2].Unquoted() == "ref"
		if (len(sels) == 2 || long) && sels[0].Type() == cue.StringLabel && sels[0].Unquoted() == "images" && sels[1].Type() == cue.StringLabel {
			return imageRef{name: sels[1].Unquoted(), known: true}
		}
		return imageRef{}
	}
	switch op, args := v.Expr(); op {
	case cue.NoOp:
		// A literal (or a value CUE has already folded).
		return imageRef{known: true}
	case cue.AndOp:
		for _, a := range args {
			if r := imageRefOf(a); r.known && r.name != "" {
				return r
			}
		}
	}
	return imageRef{}
}

// substituteImageRefs gives every image field of doc (the effective spec of
// env, as JSON values) that refers to an overridden images entry the
// override's image. base is the base spec's images, over the
// environment's image overrides. When overridden is true, doc already has
// the environment's overrides applied and only the fields the overrides
// themselves set (by reference) are substituted; otherwise only the base
// spec's fields are.
func substituteImageRefs(doc map[string]any, refs map[string]imageRef, env string, baseImages, over map[string]any, overridden bool) {
	overPrefix := ir.Path("environments", env, "overrides") + "."
	// A field whose reference is unknown follows an override only when
	// its value belongs to exactly one images entry.
	byValue := map[string][]string{}
	for name, img := range baseImages {
		if s, ok := imageRefValue(img); ok {
			byValue[s] = append(byValue[s], name)
		}
	}
	for _, path := range slices.Sorted(maps.Keys(refs)) {
		r := refs[path]
		target := path
		if strings.HasPrefix(path, "environments.") {
			rest, ok := strings.CutPrefix(path, overPrefix)
			if !ok || !overridden {
				continue
			}
			target = rest
		} else if overridden {
			continue
		}
		labels := splitPath(target)
		cur, ok := getJSON(doc, labels)
		s, isString := cur.(string)
		if !ok || !isString {
			continue
		}
		name := r.name
		if !r.known {
			if owners := byValue[s]; len(owners) == 1 {
				name = owners[0]
			}
		}
		if name == "" {
			continue
		}
		if img, ok := imageRefValue(over[name]); ok {
			setJSON(doc, labels, img)
		}
	}
}

// splitPath splits a CUE path as ir writes it into its labels, unquoted.
func splitPath(path string) []string {
	var labels []string
	for p := path; p != ""; p = ir.Parent(p) {
		label := strings.TrimPrefix(p[len(ir.Parent(p)):], ".")
		if u, err := strconv.Unquote(label); err == nil {
			label = u
		}
		labels = append(labels, label)
	}
	slices.Reverse(labels)
	return labels
}

func getJSON(v any, labels []string) (any, bool) {
	for _, l := range labels {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[l]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(l)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func setJSON(doc any, labels []string, val any) {
	parent, ok := getJSON(doc, labels[:len(labels)-1])
	if !ok {
		return
	}
	last := labels[len(labels)-1]
	switch c := parent.(type) {
	case map[string]any:
		c[last] = val
	case []any:
		if i, err := strconv.Atoi(last); err == nil && i >= 0 && i < len(c) {
			c[i] = val
		}
	}
}

// imageRefValue is the reference an images entry (or an override of
// one) gives, in either form: "repo:tag", or {ref: "repo:tag", …}. An
// override of the long form that leaves ref alone gives none.
func imageRefValue(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case map[string]any:
		s, ok := v["ref"].(string)
		return s, ok
	}
	return "", false
}

// decodeImages decodes the images section, whose entries are a reference
// or the long form, into the refs of spec.Images and the builds of
// spec.Builds. Unknown fields are an error, as for the rest of the IR.
func decodeImages(raw json.RawMessage, spec *ir.Spec) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		b := entries[name]
		var ref string
		if json.Unmarshal(b, &ref) == nil {
			if spec.Images == nil {
				spec.Images = map[string]string{}
			}
			spec.Images[name] = ref
			continue
		}
		var long ir.BuiltImage
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&long); err != nil {
			return fmt.Errorf("images.%s: %w", name, err)
		}
		if spec.Images == nil {
			spec.Images = map[string]string{}
		}
		spec.Images[name] = long.Ref
		if long.Build != nil {
			long.Build.Ref = long.Ref
			if spec.Builds == nil {
				spec.Builds = map[string]*ir.ImageBuild{}
			}
			spec.Builds[name] = long.Build
		}
	}
	return nil
}
