package compiler

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/kiln-ml/kiln/ir"
)

// The semantic checks walk the decoded IR by reflection, so a field added
// to the IR later is checked without a list to maintain. Several walks go
// over every value of every environment, and report almost none of them:
// the walk keeps the CUE path as a stack of labels and builds the string
// only for the values a check reports (building every path was a third of
// the checks' time on a large spec), and reads each struct type's fields
// once.

// irPath is the CUE path of the value a walk is at.
type irPath struct {
	root   string
	labels []string
}

// String returns the path as ir.Join writes it.
func (p *irPath) String() string {
	s := p.root
	for _, l := range p.labels {
		s = ir.Join(s, l)
	}
	return s
}

// irField is a field of an IR struct the walk follows, by its JSON name
// (the schema's name); an embedded struct without one adds its fields to
// the path of the struct that embeds it.
type irField struct {
	index    int
	name     string
	embedded bool
}

var irFieldCache sync.Map // reflect.Type -> []irField

func irFields(t reflect.Type) []irField {
	if fs, ok := irFieldCache.Load(t); ok {
		return fs.([]irField)
	}
	var fs []irField
	for i := range t.NumField() {
		fd := t.Field(i)
		name, _, _ := strings.Cut(fd.Tag.Get("json"), ",")
		if !fd.IsExported() || name == "-" {
			continue
		}
		if fd.Anonymous && name == "" {
			fs = append(fs, irField{index: i, embedded: true})
			continue
		}
		if name == "" {
			name = fd.Name
		}
		fs = append(fs, irField{index: i, name: name})
	}
	irFieldCache.Store(t, fs)
	return fs
}

// walkFields calls f with every value in v, the value at CUE path root,
// the path it is at and the name of the field holding it: exported
// fields by their JSON names, map entries by key (in order) and list
// elements by index. Lists of strings and bytes are values, not walked
// into. f must not keep at, which changes as the walk goes on.
func walkFields(root string, v reflect.Value, f func(at *irPath, field string, v reflect.Value)) {
	p := &irPath{root: root}
	var walk func(field string, v reflect.Value)
	walk = func(field string, v reflect.Value) {
		if !v.IsValid() {
			return
		}
		f(p, field, v)
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(field, v.Elem())
			}
		case reflect.Struct:
			for _, fd := range irFields(v.Type()) {
				if fd.embedded {
					walk(field, v.Field(fd.index))
					continue
				}
				p.labels = append(p.labels, fd.name)
				walk(fd.name, v.Field(fd.index))
				p.labels = p.labels[:len(p.labels)-1]
			}
		case reflect.Map:
			if v.Type().Key().Kind() != reflect.String {
				return
			}
			keys := v.MapKeys()
			slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
			for _, key := range keys {
				k := key.String()
				p.labels = append(p.labels, k)
				walk(k, v.MapIndex(key))
				p.labels = p.labels[:len(p.labels)-1]
			}
		case reflect.Slice, reflect.Array:
			if v.Type() == stringsType || v.Type().Elem().Kind() == reflect.Uint8 {
				return
			}
			for i := range v.Len() {
				p.labels = append(p.labels, strconv.Itoa(i))
				walk(field, v.Index(i))
				p.labels = p.labels[:len(p.labels)-1]
			}
		}
	}
	walk("", v)
}
