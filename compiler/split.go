package compiler

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/kiln-ml/kiln/par"
	"github.com/kiln-ml/kiln/schema"
)

// Split evaluation. Evaluating a large spec as one CUE value with #System
// builds a graph of every entry unified with its definition, and the
// graph stays live until it is exported: for a spec of 1000 models about
// 250 MiB, most of kiln's peak memory, on one core. Most specs are data:
// entries written as literals and references to other fields of the spec
// (images.trainer), with no defaults, disjunctions, comprehensions or
// calls of their own. Such a spec means the same with or without the
// schema's defaults in reach, so it is evaluated in two steps instead:
//
//  1. the spec alone, with every definition of the schema package read as
//     top (_), so `schema.#System & {…}` is the user's struct: cheap, a
//     graph of the data only (kept for what the checks read of what the
//     user wrote: attributes, the policy, references to images), exported
//     to JSON;
//  2. that JSON, cut into chunks of whole entries (with the system's
//     required fields), each unified with #System in a context of its own,
//     in parallel, checked (concrete, final) and exported with the
//     schema's defaults filled in; the chunks' entries are put together.
//
// Step 2 rests on what environments' overrides rest on (partial.go): each
// entry of a section is checked by its own definition, which refers to no
// other part of the spec, so an entry evaluates to the same value alone
// as within the whole. Step 1 rests on the spec being data (dataLike):
// with no default or disjunction of its own, a value the user wrote
// unifies with the schema to itself plus the schema's defaults, and a
// reference to a field only the schema fills (a default) is an error in
// step 1. Any error in either step, or a spec that is not data, and the
// spec is evaluated the one way, which reports errors as it always has:
// split evaluation never decides that a spec is invalid, and a valid spec
// exports the same JSON either way (TestSplitEvaluationExportsTheSame
// holds every spec of the repository's tests to it).
//
// Environments' overrides go through step 2 too (checkChanged): what they
// change is data whatever the spec's form, and an entry that one
// environment's overrides made the same as another's (an image tag
// overridden alike in staging and prod) is checked once.

// splitEnv names the environment variable that sets how specs are
// evaluated, for kiln's developers and tests: "off" evaluates every spec
// the one way; "check" evaluates each both ways, small ones too, and
// reports an internal error when the IR or the diagnostics differ (`make
// unit` runs every test so); anything else, split where the spec allows
// it and is large enough (splitMinBytes).
const splitEnv = "KILN_SPLIT"

const (
	splitOff   = "off"
	splitCheck = "check"
)

func splitMode() string { return os.Getenv(splitEnv) }

// splitMinBytes is the size of CUE from which a spec is split: below it
// the graph is small, and split evaluation's fixed costs (the light pass,
// a context per chunk) cost more than they save. Measured on synthetic
// systems (2 cores): 20 models (16 KiB) 0.08 s of CPU as one value
// against 0.12 s split; 100 models (76 KiB) 0.31 against 0.34 s, but
// 0.24 s of wall time against 0.22; above that, split saves memory in
// proportion (565 against 330 MiB at 1000 models).
const splitMinBytes = 64 << 10

// specBytes is the size of the spec's .cue files and of the module
// packages it imports.
func specBytes(inst *build.Instance) int {
	n := 0
	for _, f := range inst.Files {
		if tf := f.Pos().File(); tf != nil {
			n += tf.Size()
		}
	}
	for _, imp := range inst.Imports {
		if imp.ImportPath != schema.ImportPath {
			n += specBytes(imp)
		}
	}
	return n
}

// chunkEntries is how many entries one chunk checks: small enough that
// the chunks being checked at once hold little memory, large enough that
// each context's fixed cost (the schema's graph) is spread thin.
const chunkEntries = 64

// splitEvaluate evaluates a spec that is data (dataLike) in two steps
// (see above). ok is false when the spec must be evaluated the one way:
// either step found a problem, which the one way reports.
func (c *compilation) splitEvaluate(ctx context.Context, specInst *build.Instance) (user cue.Value, baseJSON []byte, base map[string]any, ok bool) {
	light, err := lightInstance(specInst)
	if err != nil {
		return cue.Value{}, nil, nil, false
	}
	lctx := cuecontext.New(cuecontext.EvaluatorVersion(cuecontext.EvalStable))
	user = lctx.BuildInstance(light)
	if user.Err() != nil {
		return cue.Value{}, nil, nil, false
	}
	b, err := user.MarshalJSON()
	if err != nil {
		return cue.Value{}, nil, nil, false
	}
	// The JSON is cut and put together as text: each entry's value is
	// passed on as it was exported, never decoded and encoded again.
	var data map[string]json.RawMessage
	if err := json.Unmarshal(b, &data); err != nil {
		return cue.Value{}, nil, nil, false
	}
	if _, ok := data["environments"]; !ok {
		data["environments"] = json.RawMessage(`{"` + DefaultEnvironment + `":{}}`)
	}
	parts, chunks, ok := c.checkParts(ctx, data, false)
	if !ok {
		return cue.Value{}, nil, nil, false
	}
	c.chunks = chunks
	baseJSON = writeObject(parts)
	if base, err = toJSON(baseJSON); err != nil {
		return cue.Value{}, nil, nil, false
	}
	return user, baseJSON, base, true
}

// chunked reports whether the top-level field k is cut into chunks by
// entry: the sections of entries (environments, images and labels stay
// whole: they are few, and labels are not entries).
func chunked(k string) bool {
	return entryMaps[k] && k != "environments" && k != "images" && k != "labels"
}

// entryKey identifies an entry's value as checked in one environment: an
// entry checks to the same value wherever it is (partial.go), so another
// environment whose overrides make it the same is not checked again.
type entryKey struct {
	section, name, value string
}

// checkParts checks a system or part of one (its top-level fields, as
// exported or encoded JSON) against #System in chunks of at most
// chunkEntries entries, each with the system's required fields and in a
// CUE context of its own, in parallel; a last chunk holds the fields that
// are not entries. It returns the checked fields (defaults filled in) and
// how many chunks it checked; ok is false when any chunk is not valid.
// With memo, entries checked by an earlier call with memo are not checked
// again, and those checked now are remembered. The JSON is cut and put
// together as text: each value is passed on as it came, never decoded and
// encoded again.
func (c *compilation) checkParts(ctx context.Context, parts map[string]json.RawMessage, memo bool) (checked map[string]json.RawMessage, chunks int, ok bool) {
	type entry struct {
		key   entryKey
		value json.RawMessage
	}
	var pending []entry
	done := map[string]map[string]json.RawMessage{}
	rest := map[string]json.RawMessage{}
	for k, v := range parts {
		var entries map[string]json.RawMessage
		if !chunked(k) || json.Unmarshal(v, &entries) != nil || len(entries) == 0 {
			rest[k] = v
			continue
		}
		done[k] = map[string]json.RawMessage{}
		for name, value := range entries {
			key := entryKey{k, name, string(value)}
			if got, ok := c.checked[key]; memo && ok {
				done[k][name] = got
				continue
			}
			pending = append(pending, entry{key, value})
		}
	}
	slices.SortFunc(pending, func(a, b entry) int {
		return strings.Compare(a.key.section+"\x00"+a.key.name, b.key.section+"\x00"+b.key.name)
	})
	var docs [][]byte
	for start := 0; start < len(pending); start += chunkEntries {
		sections := map[string]map[string]json.RawMessage{}
		for _, e := range pending[start:min(start+chunkEntries, len(pending))] {
			if sections[e.key.section] == nil {
				sections[e.key.section] = map[string]json.RawMessage{}
			}
			sections[e.key.section][e.key.name] = e.value
		}
		doc := map[string]json.RawMessage{}
		for sec, entries := range sections {
			doc[sec] = writeObject(entries)
		}
		for _, f := range requiredFields {
			if v, ok := parts[f]; ok {
				doc[f] = v
			}
		}
		docs = append(docs, writeObject(doc))
	}
	docs = append(docs, writeObject(rest))
	out := make([][]byte, len(docs))
	workers := min(runtime.GOMAXPROCS(0), len(docs))
	// Each worker has the schema parsed into an instance of its own:
	// build instances are not shared between goroutines. They are kept
	// for the environments' checks.
	for len(c.schemas) < workers {
		inst, err := schemaInstance()
		if err != nil {
			return nil, 0, false
		}
		c.schemas = append(c.schemas, inst)
	}
	schemas := make(chan *build.Instance, workers)
	for _, inst := range c.schemas[:workers] {
		schemas <- inst
	}
	par.Each(workers, len(docs), func(i int) {
		if ctx.Err() != nil {
			return // the one way reports it
		}
		inst := <-schemas
		defer func() { schemas <- inst }()
		out[i] = checkChunk(inst, docs[i])
	})
	if slices.ContainsFunc(out, func(b []byte) bool { return b == nil }) {
		return nil, 0, false
	}
	// The last chunk's fields, with what the schema adds at the top
	// level; every other chunk's entries go into their sections.
	if json.Unmarshal(out[len(out)-1], &checked) != nil {
		return nil, 0, false
	}
	for _, doc := range out[:len(out)-1] {
		var fields map[string]json.RawMessage
		if json.Unmarshal(doc, &fields) != nil {
			return nil, 0, false
		}
		for k, v := range fields {
			if !chunked(k) || done[k] == nil {
				continue
			}
			var entries map[string]json.RawMessage
			if json.Unmarshal(v, &entries) != nil {
				return nil, 0, false
			}
			for name, value := range entries {
				done[k][name] = value
			}
		}
	}
	for _, e := range pending {
		if done[e.key.section][e.key.name] == nil {
			return nil, 0, false // a chunk lost an entry: never expected
		}
	}
	if memo {
		if c.checked == nil {
			c.checked = map[entryKey]json.RawMessage{}
		}
		for _, e := range pending {
			c.checked[e.key] = done[e.key.section][e.key.name]
		}
	}
	for k, entries := range done {
		if checked[k] != nil {
			// The schema gave the section a value of its own.
			var own map[string]json.RawMessage
			if json.Unmarshal(checked[k], &own) != nil {
				return nil, 0, false
			}
			for name, v := range own {
				if _, ok := entries[name]; !ok {
					entries[name] = v
				}
			}
		}
		checked[k] = writeObject(entries)
	}
	return checked, len(docs), true
}

// checkChanged checks the parts of the spec an environment's overrides
// changed (changedParts) against #System in chunks, remembering each entry
// checked for the other environments (checkParts). It returns nil when
// split evaluation is off or a chunk is not valid: the caller checks the
// parts as one value, which reports why.
func (c *compilation) checkChanged(ctx context.Context, changed map[string]any) ([]byte, error) {
	if !c.split {
		return nil, nil
	}
	parts := make(map[string]json.RawMessage, len(changed))
	for k, v := range changed {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		parts[k] = b
	}
	checked, _, ok := c.checkParts(ctx, parts, true)
	if !ok {
		return nil, nil
	}
	return writeObject(checked), nil
}

// writeObject writes fields as a JSON object, keys sorted.
func writeObject(fields map[string]json.RawMessage) []byte {
	n := 2
	for k, v := range fields {
		n += len(k) + len(v) + 4
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(fields)) {
		if i > 0 {
			b = append(b, ',')
		}
		key, _ := json.Marshal(k)
		b = append(b, key...)
		b = append(b, ':')
		b = append(b, fields[k]...)
	}
	return append(b, '}')
}

// checkChunk unifies a chunk with #System in a context of its own and
// returns it exported, nil when it is not valid.
func checkChunk(schemaInst *build.Instance, chunk []byte) []byte {
	cc := cuecontext.New(cuecontext.EvaluatorVersion(cuecontext.EvalStable))
	def := cc.BuildInstance(schemaInst).LookupPath(cue.MakePath(cue.Def("System")))
	if def.Err() != nil {
		return nil
	}
	v := def.Unify(cc.CompileBytes(chunk))
	if err := v.Validate(cue.Concrete(true), cue.Final()); err != nil {
		return nil
	}
	b, err := v.MarshalJSON()
	if err != nil {
		return nil
	}
	return b
}

// schemaInstance parses the embedded schema into a build instance.
func schemaInstance() (*build.Instance, error) {
	inst := build.NewContext().NewInstance("", nil)
	err := eachSchemaFile(func(name string, src []byte) error {
		return inst.AddFile(filepath.Join(schemaPkgDir, name), src)
	})
	if err != nil {
		return nil, err
	}
	if err := inst.Complete(); err != nil {
		return nil, err
	}
	return inst, nil
}

// lightSchemaSource is the schema package with every definition top, built
// once, when first needed, from the embedded schema's declarations.
var lightSchemaSource = sync.OnceValue(func() []byte {
	defs := map[string]bool{}
	// An error here is the real schema's too, which its build reports.
	_ = eachSchemaFile(func(name string, src []byte) error {
		file, err := parser.ParseFile(name, src)
		if err != nil {
			return nil
		}
		for _, d := range file.Decls {
			if fd, ok := d.(*ast.Field); ok {
				if id, ok := fd.Label.(*ast.Ident); ok && strings.HasPrefix(id.Name, "#") {
					defs[id.Name] = true
				}
			}
		}
		return nil
	})
	var b strings.Builder
	b.WriteString("package schema\n")
	for _, name := range slices.Sorted(maps.Keys(defs)) {
		fmt.Fprintf(&b, "%s: _\n", name)
	}
	return []byte(b.String())
})

// lightInstance returns the spec as parsed, with its imports of the
// schema resolved to the light schema, in its own packages too.
func lightInstance(spec *build.Instance) (*build.Instance, error) {
	sch := findImport(spec, schema.ImportPath)
	name := filepath.Join(schemaPkgDir, "light.cue")
	if sch != nil && sch.Dir != "" {
		// Named where the schema is, so positions in it are the
		// schema's (isSchemaFile).
		name = filepath.Join(sch.Dir, "light.cue")
	}
	// One build context, so each package is one instance wherever it
	// is imported.
	bctx := build.NewContext()
	lightSchema := bctx.NewInstance("", nil)
	if err := lightSchema.AddFile(name, lightSchemaSource()); err != nil {
		return nil, err
	}
	lightSchema.ImportPath = schema.ImportPath
	lightSchema.PkgName = "schema"
	if err := lightSchema.Complete(); err != nil {
		return nil, err
	}
	var light func(inst *build.Instance) (*build.Instance, error)
	light = func(inst *build.Instance) (*build.Instance, error) {
		out := bctx.NewInstance(inst.Dir, func(_ token.Pos, path string) *build.Instance {
			if path == schema.ImportPath {
				return lightSchema
			}
			imp := inst.LookupImport(path)
			if imp == nil {
				return nil // CUE's standard library
			}
			l, err := light(imp)
			if err != nil {
				return nil // the build fails, and the spec goes the one way
			}
			return l
		})
		out.ImportPath = inst.ImportPath
		out.PkgName = inst.PkgName
		out.Module = inst.Module
		out.Root = inst.Root
		for _, f := range inst.Files {
			if err := out.AddSyntax(f); err != nil {
				return nil, err
			}
		}
		if err := out.Complete(); err != nil {
			return nil, err
		}
		return out, nil
	}
	return light(spec)
}

// findImport returns the instance of path that spec imports, directly or
// through its own packages, or nil.
func findImport(spec *build.Instance, path string) *build.Instance {
	for _, imp := range spec.Imports {
		if imp.ImportPath == path {
			return imp
		}
		if found := findImport(imp, path); found != nil {
			return found
		}
	}
	return nil
}

// dataLike reports whether the spec is data in the sense split evaluation
// needs: its values, and those of the packages it imports (but the
// schema), are literals, structs, lists, references, interpolations,
// unifications (&) and arithmetic, with no default, disjunction, bound,
// comprehension, call, bottom, optional or required field, pattern
// constraint or ellipsis, each of which could make a value mean something
// else next to the schema's defaults than without them. A top-level
// #Policy is left out: it is a definition, never exported, and checked
// against the schema's policy on its own.
func dataLike(spec *build.Instance) bool {
	// CUE's standard library is built in and never listed in Imports.
	for _, imp := range spec.Imports {
		if imp.ImportPath != schema.ImportPath && !dataLike(imp) {
			return false
		}
	}
	return dataFiles(spec.Files)
}

// dataFiles reports whether the files' declarations are data (dataLike).
func dataFiles(files []*ast.File) bool {
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.Field); ok {
				if id, ok := fd.Label.(*ast.Ident); ok && id.Name == policyPath {
					continue
				}
			}
			if !dataNode(d) {
				return false
			}
		}
	}
	return true
}

// dataNode reports whether n and everything in it is data (dataLike).
func dataNode(n ast.Node) bool {
	ok := true
	ast.Walk(n, func(n ast.Node) bool {
		if !ok {
			return false
		}
		switch x := n.(type) {
		case *ast.Package, *ast.ImportDecl, *ast.ImportSpec, *ast.Attribute,
			*ast.CommentGroup, *ast.Comment, *ast.StructLit, *ast.BasicLit,
			*ast.Ident, *ast.SelectorExpr, *ast.IndexExpr, *ast.Interpolation,
			*ast.EmbedDecl, *ast.LetClause, *ast.ParenExpr:
		case *ast.Field:
			if x.Constraint != token.ILLEGAL {
				ok = false
				break
			}
			switch x.Label.(type) {
			case *ast.Ident, *ast.BasicLit:
			default:
				ok = false
			}
		case *ast.ListLit:
			for _, e := range x.Elts {
				if _, isEllipsis := e.(*ast.Ellipsis); isEllipsis {
					ok = false
				}
			}
		case *ast.UnaryExpr:
			// A negative number; *, bounds and ! are not data.
			ok = x.Op == token.SUB || x.Op == token.ADD
		case *ast.BinaryExpr:
			switch x.Op {
			case token.AND, token.ADD, token.SUB, token.MUL, token.QUO:
			default:
				ok = false
			}
		default:
			ok = false
		}
		return ok
	}, nil)
	return ok
}
