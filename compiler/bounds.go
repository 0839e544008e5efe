package compiler

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kiln-ml/kiln/ir"
)

// Values the schema accepts but Kubernetes does not. The schema's quantity
// pattern admits strings such as "1e99999999999999999999" that Kubernetes'
// own parser rejects, and CUE's integers are unbounded while the fields
// most counts become (replicas, ports, percentages, limits) are int32. Both
// are checked here, on the decoded IR, for every field of those types, so a
// field added to the schema later is covered without a list to maintain.

// quantityType is the IR's type for Kubernetes quantities.
var quantityType = reflect.TypeFor[ir.Quantity]()

// checkBounds reports every quantity Kubernetes cannot parse and every
// whole number outside int32 in the environment: its spec sections and the
// environment's own settings (GPU budget, quota).
func (k checker) checkBounds(sys *ir.System) {
	b := bounds{report: func(path, format string, args ...any) { k.errorf(path, format, args...) }}
	b.walk("", reflect.ValueOf(k.env.Spec))
	envPath := ir.Path("environments", k.env.Name)
	b.report = func(path, format string, args ...any) {
		k.diags.Errorf(sys.Sources.Pos(path), path, format, args...)
	}
	b.walk(envPath, reflect.ValueOf(k.env))
}

// checkSystemBounds checks the system's own settings (gitops), once.
func (c *compilation) checkSystemBounds(sys *ir.System) {
	b := bounds{report: func(path, format string, args ...any) {
		c.diags.Errorf(sys.Sources.Pos(path), path, format, args...)
	}}
	b.walk("", reflect.ValueOf(sys))
}

type bounds struct {
	report func(path, format string, args ...any)
}

// walk visits v, the value at CUE path, following exported fields by
// their JSON names (the schema's names), map entries by key and list
// elements by index.
func (b bounds) walk(path string, v reflect.Value) {
	walkFields(path, v, func(at *irPath, _ string, v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			if v.Type() != quantityType || v.String() == "" {
				return
			}
			if _, err := resource.ParseQuantity(v.String()); err != nil {
				b.report(at.String(), "%q is not a quantity Kubernetes accepts (%v); write a number with an optional suffix, such as 500m, 8, 64Gi or 1e3", v.String(), err)
			}
		case reflect.Int:
			// int64 fields in the IR (user and group IDs) are int64 in
			// Kubernetes too; int fields are int32 there.
			if n := v.Int(); n > math.MaxInt32 || n < math.MinInt32 {
				b.report(at.String(), "%d is out of range: at most %d (Kubernetes stores counts such as replicas, ports and limits as 32-bit integers)", n, math.MaxInt32)
			}
		}
	})
}

// reportHugeNumber turns a decoding failure on a whole number too large
// for Go's int (CUE's integers are unbounded) into the same out-of-range
// error checkBounds gives, at the number's position, instead of an
// internal error without one. doc is the JSON that failed to decode. It
// reports whether it recognised err.
func (c *compilation) reportHugeNumber(err error, doc []byte, src ir.Sources) bool {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return false
	}
	lit, ok := strings.CutPrefix(te.Value, "number ")
	if !ok {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return false
	}
	path, found := findNumber("", v, lit)
	if !found {
		return false
	}
	c.diags.Errorf(src.Pos(path), path, "%s is out of range: at most %d (Kubernetes stores counts such as replicas, ports and limits as 32-bit integers)", lit, math.MaxInt32)
	return true
}

// findNumber returns the CUE path of the first number (in key order)
// written as lit in v.
func findNumber(path string, v any, lit string) (string, bool) {
	switch v := v.(type) {
	case json.Number:
		return path, v.String() == lit
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		for _, k := range keys {
			if p, ok := findNumber(ir.Join(path, k), v[k], lit); ok {
				return p, true
			}
		}
	case []any:
		for i, e := range v {
			if p, ok := findNumber(ir.Index(path, i), e, lit); ok {
				return p, true
			}
		}
	}
	return "", false
}
