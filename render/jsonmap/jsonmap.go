package jsonmap

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Map returns v's JSON form as a map: what decoding json.Marshal(v) into
// a map[string]any with UseNumber gives. v's JSON must be an object (or
// null, which gives a nil map).
func Map(v any) (map[string]any, error) {
	x, err := Of(v)
	if err != nil {
		return nil, err
	}
	switch x := x.(type) {
	case map[string]any:
		return x, nil
	case nil:
		return nil, nil
	default:
		return nil, fmt.Errorf("jsonmap: %T is not a JSON object", v)
	}
}

// Of returns v's JSON form as decoded JSON values: what decoding
// json.Marshal(v) into an any with UseNumber gives.
func Of(v any) (any, error) {
	return value(reflect.ValueOf(v))
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	isZeroerType      = reflect.TypeFor[interface{ IsZero() bool }]()
)

// owns caches ownEncoding: looking methods up is slow, and every value
// asks.
var owns sync.Map // reflect.Type -> bool

// ownEncoding reports whether encoding/json encodes a value of type t
// with a method of t's (or, for an addressable value, *t's) rather than
// by its kind.
func ownEncoding(t reflect.Type) bool {
	if own, ok := owns.Load(t); ok {
		return own.(bool)
	}
	own := lookupOwnEncoding(t)
	owns.Store(t, own)
	return own
}

func lookupOwnEncoding(t reflect.Type) bool {
	if t.Implements(marshalerType) || t.Implements(textMarshalerType) {
		return true
	}
	if t.Kind() != reflect.Pointer {
		p := reflect.PointerTo(t)
		return p.Implements(marshalerType) || p.Implements(textMarshalerType)
	}
	return false
}

// viaJSON is the fallback: encoding/json encodes v, in the same
// addressability it would have met v in, and the text is decoded.
func viaJSON(v reflect.Value) (any, error) {
	var x any
	if v.CanAddr() && v.Kind() != reflect.Pointer {
		x = v.Addr().Interface()
	} else {
		x = v.Interface()
	}
	b, err := json.Marshal(x)
	if err != nil {
		return nil, err
	}
	// Most values that encode themselves are scalars (quantities,
	// int-or-strings, times): their text is read here, as the decoder
	// would, without one.
	switch c := b[0]; {
	case c == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b):
		// No escapes and valid UTF-8 (which the decoder would
		// repair): the string is the text between the quotes.
		return string(b[1 : len(b)-1]), nil
	case c == '-' || c >= '0' && c <= '9':
		return json.Number(b), nil
	case string(b) == "true", string(b) == "false":
		return string(b) == "true", nil
	case string(b) == "null":
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

func value(v reflect.Value) (any, error) {
	if !v.IsValid() {
		return nil, nil
	}
	t := v.Type()
	if ownEncoding(t) {
		if t.Kind() == reflect.Pointer && v.IsNil() {
			return nil, nil
		}
		return viaJSON(v)
	}
	switch t.Kind() {
	case reflect.Bool:
		return v.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return json.Number(strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return json.Number(strconv.FormatUint(v.Uint(), 10)), nil
	case reflect.String:
		s := v.String()
		if !utf8.ValidString(s) {
			return viaJSON(v)
		}
		return s, nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		return value(v.Elem())
	case reflect.Struct:
		return structValue(v)
	case reflect.Map:
		if v.IsNil() {
			return nil, nil
		}
		if t.Key().Kind() != reflect.String {
			return viaJSON(v)
		}
		m := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			k := it.Key().String()
			if !utf8.ValidString(k) {
				return viaJSON(v)
			}
			e, err := value(it.Value())
			if err != nil {
				return nil, err
			}
			m[k] = e
		}
		return m, nil
	case reflect.Slice:
		if v.IsNil() {
			return nil, nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return viaJSON(v) // base64, or a slice of a type with its own encoding
		}
		return list(v)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return viaJSON(v)
		}
		return list(v)
	default:
		// Floats, complex numbers, channels, functions: encoding/json's
		// formatting, or its error.
		return viaJSON(v)
	}
}

func list(v reflect.Value) (any, error) {
	l := make([]any, v.Len())
	for i := range l {
		e, err := value(v.Index(i))
		if err != nil {
			return nil, err
		}
		l[i] = e
	}
	return l, nil
}

func structValue(v reflect.Value) (any, error) {
	info := fieldsOf(v.Type())
	if info.fallback {
		return viaJSON(v)
	}
	// The fields that are written are counted first: most of an API
	// type's fields are usually omitted, and a map sized for all of them
	// would be several times too large.
	var buf [64]reflect.Value
	vals := buf[:0]
	for i := range info.fields {
		f := &info.fields[i]
		fv := v.FieldByIndex(f.index)
		if f.omitEmpty && empty(fv) || f.omitZero && zero(fv, f.zeroTest) {
			fv = reflect.Value{}
		}
		vals = append(vals, fv)
	}
	n := 0
	for _, fv := range vals {
		if fv.IsValid() {
			n++
		}
	}
	m := make(map[string]any, n)
	for i, fv := range vals {
		if !fv.IsValid() {
			continue
		}
		e, err := value(fv)
		if err != nil {
			return nil, err
		}
		m[info.fields[i].name] = e
	}
	return m, nil
}

// empty is omitempty's test.
func empty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0 // -0 too
	}
	return false
}

// How omitzero tells a field's zero value (zeroTest).
const (
	zeroValue     = iota // the type's zero value
	zeroMethod           // the type's IsZero
	zeroPtrMethod        // *T's IsZero, T's a value of type T
)

// zeroTest is how omitzero tests a value of type t.
func zeroTest(t reflect.Type) int {
	switch {
	case t.Implements(isZeroerType):
		return zeroMethod
	case t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(isZeroerType):
		return zeroPtrMethod
	}
	return zeroValue
}

// zero is omitzero's test: the type's IsZero method when it has one,
// else the zero value.
func zero(v reflect.Value, test int) bool {
	switch test {
	case zeroMethod:
		if k := v.Kind(); (k == reflect.Pointer || k == reflect.Interface) && v.IsNil() {
			return true
		}
		return v.Interface().(interface{ IsZero() bool }).IsZero()
	case zeroPtrMethod:
		if !v.CanAddr() {
			c := reflect.New(v.Type()).Elem()
			c.Set(v)
			v = c
		}
		return v.Addr().Interface().(interface{ IsZero() bool }).IsZero()
	}
	return v.IsZero()
}

// field is a JSON field of a struct type.
type field struct {
	name                string
	index               []int
	omitEmpty, omitZero bool
	zeroTest            int
}

// structInfo is what encoding a struct type needs: its fields, or that
// it goes through encoding/json.
type structInfo struct {
	fields   []field
	fallback bool
}

var structs sync.Map // reflect.Type -> *structInfo

func fieldsOf(t reflect.Type) *structInfo {
	if info, ok := structs.Load(t); ok {
		return info.(*structInfo)
	}
	info := &structInfo{}
	fields, ok := collect(t, nil, map[reflect.Type]bool{})
	if ok {
		seen := map[string]bool{}
		for _, f := range fields {
			if seen[f.name] {
				// Two fields of one name: encoding/json's dominance
				// rules decide; leave it to them.
				ok = false
				break
			}
			seen[f.name] = true
		}
	}
	if ok {
		info.fields = fields
	} else {
		info.fallback = true
	}
	structs.Store(t, info)
	return info
}

// collect lists the JSON fields of struct type t, whose fields are at
// index in the outermost struct; embedded structs without a name promote
// their fields. ok is false when the type is not one this package names
// with certainty.
func collect(t reflect.Type, index []int, visiting map[reflect.Type]bool) (fields []field, ok bool) {
	if visiting[t] {
		return nil, false
	}
	visiting[t] = true
	defer delete(visiting, t)
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if !simpleName(name) {
			return nil, false
		}
		var omitEmpty, omitZero bool
		for opt := range strings.SplitSeq(opts, ",") {
			switch opt {
			case "omitempty":
				omitEmpty = true
			case "omitzero":
				omitZero = true
			case "", "inline":
				// inline means nothing to encoding/json: an embedded
				// struct without a name is promoted anyway.
			default:
				return nil, false // ",string" and options yet unknown
			}
		}
		idx := append(append([]int(nil), index...), i)
		switch {
		case sf.Anonymous && name != "" && !sf.IsExported():
			// encoding/json keeps some unexported embedded fields
			// that are named by a tag; this package does not guess.
			return nil, false
		case sf.Anonymous && name == "":
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				return nil, false
			}
			if ft.Kind() == reflect.Struct {
				if ownEncoding(ft) {
					// A promoted MarshalJSON encodes the whole struct.
					return nil, false
				}
				inner, ok := collect(ft, idx, visiting)
				if !ok {
					return nil, false
				}
				fields = append(fields, inner...)
				continue
			}
			if !sf.IsExported() {
				continue
			}
		case !sf.IsExported():
			continue
		}
		if name == "" {
			name = sf.Name
		}
		f := field{name: name, index: idx, omitEmpty: omitEmpty, omitZero: omitZero}
		if omitZero {
			f.zeroTest = zeroTest(sf.Type)
		}
		fields = append(fields, f)
	}
	return fields, true
}

// simpleName reports whether a tag's name is one encoding/json takes as
// it is: letters, digits and a little punctuation (it ignores names with
// some other characters, and this package does not guess which).
func simpleName(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '_' || r == '-' || r == '.' || r == '/' || r == '$' || r == '@':
		default:
			return false
		}
	}
	return true
}
