package compiler

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"

	"github.com/kiln-ml/kiln/schema"
)

// The schema bounds what it can (#Int32, #Percent, #EntryName), so that
// plain `cue vet` and editors catch out-of-range numbers and bad names as
// kiln does. CUE then reports them first, in its own words: "field not
// allowed" for a bad entry name, "invalid value 120 (out of bound <=100)"
// for a number. describeSchemaBound says the same thing the way kiln's Go
// checks would have, so a spec gets one message whichever catches it.

var outOfBoundRE = regexp.MustCompile(`^invalid value (.+) \(out of bound ([<>]=?)(-?[0-9.]+)\)$`)

// entrySections are the sections whose keys are #EntryName.
var entrySections = map[string]bool{
	"datasets": true, "components": true, "training": true, "pipelines": true,
	"sweeps": true, "serving": true, "notebooks": true,
}

// describeSchemaBound rewrites CUE's message for a value at labels (the
// error's path, unquoted) that breaks one of the schema's bounds.
func describeSchemaBound(labels []string, msg string) string {
	if msg == "field not allowed" {
		return entryNameMessage(labels, msg)
	}
	m := outOfBoundRE.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	switch m[2] + m[3] {
	case "<=" + strconv.Itoa(math.MaxInt32):
		return int32Message(m[1], "at most", math.MaxInt32)
	case ">=" + strconv.Itoa(math.MinInt32):
		return int32Message(m[1], "at least", math.MinInt32)
	}
	if desc, ok := schemaBounds()[m[2]+m[3]]; ok {
		return "invalid value " + m[1] + ": want " + desc
	}
	return msg
}

// int32Message is the message of bounds.go's int32 check.
func int32Message(value, side string, limit int) string {
	return fmt.Sprintf("%s is out of range: %s %d (Kubernetes stores counts such as replicas, ports and limits as 32-bit integers)", value, side, limit)
}

// entryNameMessage explains a field the schema refuses because its name is
// not an #EntryName, as checkNames words it; other fields keep msg.
func entryNameMessage(labels []string, msg string) string {
	switch {
	case len(labels) == 2 && entrySections[labels[0]] && !validEntryName(labels[1]):
		return fmt.Sprintf("invalid name %q: use at most %d lowercase letters, digits, '-' or '_', starting with a letter and ending with a letter or digit", labels[1], maxNameLen)
	case len(labels) == 4 && labels[0] == "pipelines" && labels[2] == "steps" && !validEntryName(labels[3]):
		return fmt.Sprintf("invalid step name %q: use lowercase letters, digits, '-' or '_', starting with a letter", labels[3])
	}
	return msg
}

func validEntryName(s string) bool { return nameRE.MatchString(s) && len(s) <= maxNameLen }

var (
	boundsOnce sync.Once
	bounds_    map[string]string // "<=100" -> description
)

// schemaBounds maps each numeric bound that only one of the schema's
// definitions uses to that definition's description, as schemaPatterns
// does for patterns: "<=100" is #Percent, "a share of traffic, from 0 to
// 100". Bounds several definitions share (>=0) say nothing specific and
// are left out.
func schemaBounds() map[string]string {
	boundsOnce.Do(func() {
		bounds_ = map[string]string{}
		defs, err := schemaDefinitions()
		if err != nil {
			return
		}
		count := map[string]int{}
		for _, d := range defs {
			if d.body != nil {
				continue
			}
			desc := describeDefinition(d)
			ast.Walk(d.expr, func(n ast.Node) bool {
				u, ok := n.(*ast.UnaryExpr)
				if !ok {
					return true
				}
				switch u.Op {
				case token.LSS, token.LEQ, token.GTR, token.GEQ:
					if lit, ok := u.X.(*ast.BasicLit); ok {
						key := u.Op.String() + lit.Value
						count[key]++
						bounds_[key] = desc
					}
				}
				return true
			}, nil)
		}
		for k, n := range count {
			if n > 1 {
				delete(bounds_, k)
			}
		}
	})
	return bounds_
}

// describeDefinition is how messages name what a definition wants: its
// documentation's first sentence without "#Name is ", and its name.
func describeDefinition(d definition) string {
	return strings.TrimSuffix(strings.TrimPrefix(firstSentence(d.doc), d.name+" is "), ".") + " (" + d.name + ")"
}

// specLabels returns CUE's path labels as the user wrote the names,
// from the spec's root: without the schema definition (#System) that
// errors found while unifying with it start with.
func specLabels(labels []string) []string {
	if len(labels) > 0 && labels[0] == schema.Definition {
		labels = labels[1:]
	}
	out := make([]string, len(labels))
	for i, l := range labels {
		if len(l) >= 2 && l[0] == '"' {
			if s, err := strconv.Unquote(l); err == nil {
				l = s
			}
		}
		out[i] = l
	}
	return out
}
