package compiler

import "reflect"

// An environment's overrides change a few entries of a spec; checking the
// whole patched spec against #System again costs as much as evaluating the
// spec. #System is a struct of independent sections, and each entry of a
// section is checked by its own definition (#Training, #Serving, …), which
// refers to no other part of the spec. So the patched spec is valid when
// the entries (and other sections) the overrides changed are, and each
// one evaluates to the same value alone as within the whole: only those
// are unified with #System, with the required metadata, and their
// evaluated values (defaults filled in) replace the patched ones.

// entryMaps are #System's sections that map names to entries checked
// each on its own (`[name]: #Definition`).
var entryMaps = map[string]bool{
	"labels": true, "environments": true, "images": true, "datasets": true,
	"components": true, "training": true, "pipelines": true, "sweeps": true,
	"serving": true, "notebooks": true,
}

// requiredFields are #System's fields every partial document keeps, so the
// schema does not report them missing.
var requiredFields = []string{"name", "namespace"}

// changedParts returns the parts of the patched spec eff that differ from
// base: whole sections, or of an entry section the entries that differ,
// with the required fields. A part the overrides deleted is not there:
// removing an optional part leaves a valid spec, and a required field is
// missing from the result as it is from eff.
func changedParts(base, eff map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range requiredFields {
		if v, ok := eff[k]; ok {
			out[k] = v
		}
	}
	for k, v := range eff {
		old, had := base[k]
		if had && reflect.DeepEqual(old, v) {
			continue
		}
		em, isMap := v.(map[string]any)
		om, oldIsMap := old.(map[string]any)
		if !entryMaps[k] || !isMap || !oldIsMap {
			out[k] = v
			continue
		}
		entries := map[string]any{}
		for name, e := range em {
			if o, ok := om[name]; !ok || !reflect.DeepEqual(o, e) {
				entries[name] = e
			}
		}
		if len(entries) > 0 {
			out[k] = entries
		}
	}
	return out
}

// spliceParts puts the evaluated parts into eff: those of changed (what
// changedParts returned), and nothing else the schema adds to a partial
// document (such as a default for a section the overrides left alone).
func spliceParts(eff, changed, checked map[string]any) {
	for k, v := range changed {
		cm, isMap := checked[k].(map[string]any)
		em, effIsMap := eff[k].(map[string]any)
		vm, changedIsMap := v.(map[string]any)
		if !entryMaps[k] || !isMap || !effIsMap || !changedIsMap {
			eff[k] = checked[k]
			continue
		}
		for name := range vm {
			em[name] = cm[name]
		}
	}
}
