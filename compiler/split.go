package compiler

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

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
//     graph of the data only, exported to JSON and dropped;
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

// splitEnv names the environment variable that sets how specs are
// evaluated, for kiln's developers and tests: "off" evaluates every spec
// the one way; "check" evaluates each both ways and reports an internal
// error when the IR or the diagnostics differ (`make unit` runs every test
// so); anything else, split where the spec allows it.
const splitEnv = "KILN_SPLIT"

const (
	splitOff   = "off"
	splitCheck = "check"
)

func splitMode() string { return os.Getenv(splitEnv) }

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
	chunks, ok := splitChunks(data)
	if !ok {
		return cue.Value{}, nil, nil, false
	}
	c.chunks = len(chunks)
	checked := make([][]byte, len(chunks))
	workers := min(runtime.GOMAXPROCS(0), len(chunks))
	// Each worker parses the schema once, into an instance of its own:
	// build instances are not shared between goroutines.
	schemas := make(chan *build.Instance, workers)
	for range workers {
		inst, err := schemaInstance()
		if err != nil {
			return cue.Value{}, nil, nil, false
		}
		schemas <- inst
	}
	par.Each(workers, len(chunks), func(i int) {
		if ctx.Err() != nil {
			return // the one way reports it
		}
		inst := <-schemas
		defer func() { schemas <- inst }()
		checked[i] = checkChunk(inst, chunks[i])
	})
	if slices.ContainsFunc(checked, func(b []byte) bool { return b == nil }) {
		return cue.Value{}, nil, nil, false
	}
	baseJSON, ok = joinChunks(checked)
	if !ok {
		return cue.Value{}, nil, nil, false
	}
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

// splitChunks cuts the exported spec into JSON documents of at most
// chunkEntries entries, each with the system's required fields, in the
// order of sections and names; the last document holds everything else.
func splitChunks(data map[string]json.RawMessage) ([][]byte, bool) {
	var chunks [][]byte
	rest := map[string]json.RawMessage{}
	for _, k := range slices.Sorted(maps.Keys(data)) {
		var entries map[string]json.RawMessage
		if !chunked(k) || json.Unmarshal(data[k], &entries) != nil || len(entries) == 0 {
			rest[k] = data[k]
			continue
		}
		names := slices.Sorted(maps.Keys(entries))
		for start := 0; start < len(names); start += chunkEntries {
			sec := map[string]json.RawMessage{}
			for _, name := range names[start:min(start+chunkEntries, len(names))] {
				sec[name] = entries[name]
			}
			ch := map[string]json.RawMessage{k: writeObject(sec)}
			for _, f := range requiredFields {
				if v, ok := data[f]; ok {
					ch[f] = v
				}
			}
			chunks = append(chunks, writeObject(ch))
		}
	}
	return append(chunks, writeObject(rest)), true
}

// joinChunks puts the checked chunks together: the last one's fields (with
// what the schema adds at the top level), and every chunk's entries in
// their sections.
func joinChunks(checked [][]byte) ([]byte, bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(checked[len(checked)-1], &top) != nil {
		return nil, false
	}
	sections := map[string]map[string]json.RawMessage{}
	for _, ch := range checked[:len(checked)-1] {
		var fields map[string]json.RawMessage
		if json.Unmarshal(ch, &fields) != nil {
			return nil, false
		}
		for k, v := range fields {
			if !chunked(k) {
				continue
			}
			sec := sections[k]
			if sec == nil {
				sec = map[string]json.RawMessage{}
				if top[k] != nil && json.Unmarshal(top[k], &sec) != nil {
					return nil, false
				}
				sections[k] = sec
			}
			if json.Unmarshal(v, &sec) != nil {
				return nil, false
			}
		}
	}
	for k, sec := range sections {
		top[k] = writeObject(sec)
	}
	return writeObject(top), true
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
	files, err := fs.ReadDir(schema.FS, ".")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if filepath.Ext(f.Name()) != ".cue" {
			continue
		}
		src, err := fs.ReadFile(schema.FS, f.Name())
		if err != nil {
			return nil, err
		}
		if err := inst.AddFile(filepath.Join(schemaPkgDir, f.Name()), src); err != nil {
			return nil, err
		}
	}
	if err := inst.Complete(); err != nil {
		return nil, err
	}
	return inst, nil
}

// lightSchemaSource is the schema package with every definition top, built
// once from the embedded schema's declarations.
var lightSchemaSource = func() []byte {
	defs := map[string]bool{}
	files, _ := fs.ReadDir(schema.FS, ".")
	for _, f := range files {
		if filepath.Ext(f.Name()) != ".cue" {
			continue
		}
		src, _ := fs.ReadFile(schema.FS, f.Name())
		file, err := parser.ParseFile(f.Name(), src)
		if err != nil {
			continue // the real schema's build reports it
		}
		for _, d := range file.Decls {
			if fd, ok := d.(*ast.Field); ok {
				if id, ok := fd.Label.(*ast.Ident); ok && strings.HasPrefix(id.Name, "#") {
					defs[id.Name] = true
				}
			}
		}
	}
	var b strings.Builder
	b.WriteString("package schema\n")
	for _, name := range slices.Sorted(maps.Keys(defs)) {
		fmt.Fprintf(&b, "%s: _\n", name)
	}
	return []byte(b.String())
}()

// lightInstance returns the spec as parsed, with its import of the schema
// resolved to the light schema.
func lightInstance(spec *build.Instance) (*build.Instance, error) {
	sch := spec.LookupImport(schema.ImportPath)
	lightSchema := build.NewContext().NewInstance("", nil)
	name := filepath.Join(schemaPkgDir, "light.cue")
	if sch != nil && sch.Dir != "" {
		// Named where the schema is, so positions in it are the
		// schema's (isSchemaFile).
		name = filepath.Join(sch.Dir, "light.cue")
	}
	if err := lightSchema.AddFile(name, lightSchemaSource); err != nil {
		return nil, err
	}
	lightSchema.ImportPath = schema.ImportPath
	lightSchema.PkgName = "schema"
	if err := lightSchema.Complete(); err != nil {
		return nil, err
	}
	inst := build.NewContext().NewInstance(spec.Dir, func(_ token.Pos, path string) *build.Instance {
		if path == schema.ImportPath {
			return lightSchema
		}
		return nil
	})
	inst.ImportPath = spec.ImportPath
	inst.PkgName = spec.PkgName
	inst.Module = spec.Module
	inst.Root = spec.Root
	for _, f := range spec.Files {
		if err := inst.AddSyntax(f); err != nil {
			return nil, err
		}
	}
	if err := inst.Complete(); err != nil {
		return nil, err
	}
	return inst, nil
}

// dataLike reports whether the spec is data in the sense split evaluation
// needs: it imports no package but the schema and CUE's standard library,
// and its values are literals, structs, lists, references, interpolations,
// unifications (&) and arithmetic, with no default, disjunction, bound,
// comprehension, call, bottom, optional or required field, pattern
// constraint or ellipsis, each of which could make a value mean something
// else next to the schema's defaults than without them. A top-level
// #Policy is left out: it is a definition, never exported, and checked
// against the schema's policy on its own.
func dataLike(spec *build.Instance) bool {
	for _, imp := range spec.Imports {
		// CUE's standard library is built in and never listed here.
		if imp.ImportPath != schema.ImportPath {
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
