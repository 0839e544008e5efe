package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// HashLength is the length of the suffix ("-" and 8 hex digits) that
// content-named objects get.
const HashLength = 9

// ContentName is name with a hash of obj's content appended: its JSON
// with keys sorted, without the entry path kiln adds for reviewers. The
// same object always gets the same name; any other change to it, a patch
// included, gives it a new one.
func ContentName(name string, obj Object) (string, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return "", err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return "", err
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "name")
		if ann, ok := md["annotations"].(map[string]any); ok {
			delete(ann, AnnotationPath)
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		}
	}
	b, err = json.Marshal(m) // maps marshal with sorted keys
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return name + "-" + hex.EncodeToString(sum[:])[:HashLength-1], nil
}

// nameByContent renames the objects whose origin asks for it, once every
// transformer has run, so the hash covers the object as it is written.
func nameByContent(s *Set) error {
	for _, it := range s.Items() {
		if !it.Origin.ContentNamed {
			continue
		}
		name, err := ContentName(it.Object.GetName(), it.Object)
		if err != nil {
			return err
		}
		delete(s.items, it.Key())
		it.Object.SetName(name)
		s.items[it.Key()] = it
	}
	return nil
}
