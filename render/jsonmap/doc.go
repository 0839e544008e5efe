// Package jsonmap converts a Go value to its JSON form as decoded JSON
// values (map[string]any, []any, string, bool, json.Number, nil) without
// going through JSON text: the same values as json.Marshal followed by a
// json.Decoder with UseNumber, which is how render builds the map an
// object's YAML is written from.
//
// It exists for speed. Building a rendered object's map through JSON text
// costs a buffer, a parse and a copy of every string; walking the typed
// object costs neither. The walk follows encoding/json's documented rules
// (field names and tags, omitempty and omitzero, embedded structs,
// pointers, interfaces, maps with string keys), and hands anything it is
// not certain of to encoding/json itself, for that value only: types with
// their own MarshalJSON or MarshalText (resource quantities, times,
// int-or-strings, raw messages), floats, byte slices, strings that are not
// valid UTF-8, maps with other keys, and struct types whose fields it
// cannot name with certainty (the ",string" option, tag names with unusual
// characters, embedded pointers, fields an embedded struct promotes over
// others). The tests hold every object kiln renders to the round trip.
package jsonmap
