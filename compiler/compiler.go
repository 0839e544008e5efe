package compiler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

// schemaPathPrefix starts the paths of errors found by unifying with
// #System; users know the paths without it.
const schemaPathPrefix = "#System"

// DefaultEnvironment is the environment a spec without environments gets.
const DefaultEnvironment = "default"

// Options tune a compilation.
type Options struct {
	// Environments limits the result to these environments; all when empty.
	Environments []string
	// Overlay adds or replaces files of the spec directory, by name
	// relative to it. Tests and the fuzzer compile specs that exist only
	// in memory this way.
	Overlay map[string][]byte
	// Cwd is the directory positions are made relative to; the working
	// directory when empty.
	Cwd string
	// Stats, when set, receives where the time went (added to what it
	// holds).
	Stats *Stats
}

// Compile loads the spec in dir and returns its IR. When the returned list
// has errors the system is nil; warnings may come with a valid system.
func Compile(ctx context.Context, dir string, opts Options) (*ir.System, diag.List) {
	mode := splitMode()
	minBytes := splitMinBytes
	switch mode {
	case splitOff:
		minBytes = -1
	case splitCheck:
		minBytes = 0 // every spec, small ones too, both ways
	}
	sys, diags := compile(ctx, dir, opts, minBytes)
	if mode == splitCheck {
		// Both ways must agree (split.go); a difference is kiln's bug.
		// Not counted in the caller's stats: they say how the result
		// was evaluated.
		oneOpts := opts
		oneOpts.Stats = nil
		oneSys, oneDiags := compile(ctx, dir, oneOpts, -1)
		if !reflect.DeepEqual(sys, oneSys) || !reflect.DeepEqual(diags, oneDiags) {
			var d diag.List
			d.Errorf(diag.Pos{}, "", "internal error: %s: split evaluation gives another result than evaluating the spec as one value (%s=%s)", dir, splitEnv, splitCheck)
			return nil, d
		}
	}
	return sys, diags
}

// compile compiles the spec in dir, split (split.go) when its CUE is at
// least splitMin bytes, never when splitMin is negative.
func compile(ctx context.Context, dir string, opts Options, splitMin int) (*ir.System, diag.List) {
	c := &compilation{dir: dir, opts: opts, splitMin: splitMin}
	if c.pos.cwd = opts.Cwd; c.pos.cwd == "" {
		c.pos.cwd, _ = os.Getwd()
	}
	sys := c.run(ctx)
	diags := c.diags.Sort()
	if diags.HasErrors() {
		return nil, diags
	}
	return sys, diags
}

type compilation struct {
	dir  string
	opts Options
	// splitMin is the size from which a spec is split (split.go), -1
	// for never; split says whether this one is, and chunks how many
	// chunks it checked.
	splitMin int
	split    bool
	chunks   int
	// checked holds the entries environments' overrides changed, as
	// checked against #System, by their value (checkParts).
	checked map[entryKey]json.RawMessage
	// schemas are the schema parsed once per goroutine checking chunks.
	schemas []*build.Instance
	pos     positioner
	diags   diag.List
	// def is #System; every value, base or per environment, is unified
	// with it.
	def cue.Value
	// src holds the positions of the values the user wrote.
	src ir.Sources
	// envNames are all the spec's environments, compiled or not.
	envNames []string
	// user is the user's spec before unification with the schema.
	user cue.Value
	// imageRefs maps the CUE path of each image field of the user's spec
	// to the images entry it refers to, once an override needs it.
	imageRefs map[string]imageRef
}

func (c *compilation) run(ctx context.Context) *ir.System {
	stop := c.timer(loadPhase)
	specInst, schemaInst, err := loadInstances(c.dir, c.opts.Overlay)
	stop()
	var dangling *danglingLinkError
	if errors.As(err, &dangling) {
		c.diags.Errorf(diag.Pos{File: c.pos.rel(dangling.file)}, "", "%s", dangling.msg())
		return nil
	}
	if err != nil {
		c.diags.Errorf(diag.Pos{}, "", "%v", err)
		return nil
	}
	if specInst.Err != nil && len(specInst.BuildFiles)+len(specInst.InvalidFiles)+len(specInst.Files) == 0 {
		c.diags.Errorf(diag.Pos{File: c.pos.rel(mustAbs(c.dir))}, "", "no CUE files: a spec is one CUE package of .cue files")
		return nil
	}
	if specInst.Err != nil {
		c.diags.Add(c.pos.convertErrors(specInst.Err, nil, "")...)
		return nil
	}
	if schemaInst.Err != nil {
		c.diags.Errorf(diag.Pos{}, "", "internal error: loading the embedded schema: %v", schemaInst.Err)
		return nil
	}
	stop = c.timer(evaluatePhase)
	defer func() { stop() }()
	// The stable evaluator, whatever CUE_EXPERIMENT a user has set, so the
	// same spec always means the same thing.
	cctx := cuecontext.New(cuecontext.EvaluatorVersion(cuecontext.EvalStable))
	c.def = cctx.BuildInstance(schemaInst).LookupPath(cue.MakePath(cue.Def("System")))
	if err := c.def.Err(); err != nil {
		c.diags.Errorf(diag.Pos{}, "", "internal error: building the schema: %v", err)
		return nil
	}
	stop()
	stop = c.timer(loadPhase)
	if !c.checkLimits(specInst) {
		return nil
	}
	c.src = c.pos.collectSources(specInst.Files)
	stop()
	stop = c.timer(evaluatePhase)
	c.split = c.splitMin >= 0 && specBytes(specInst) >= c.splitMin
	split := c.split && dataLike(specInst)
	percent := evalGCPercent
	if split {
		percent = splitGCPercent
	}
	restoreGC := relaxGC(percent)
	defer restoreGC()
	var baseJSON []byte
	var base map[string]any
	if split {
		var user cue.Value
		if user, baseJSON, base, split = c.splitEvaluate(ctx, specInst); split {
			c.user = user
		}
	}
	if split {
		restoreGC()
		stop()
		if c.opts.Stats != nil {
			c.opts.Stats.Split++
			c.opts.Stats.Chunks += c.chunks
		}
	} else {
		if c.opts.Stats != nil {
			c.opts.Stats.OneValue++
		}
		if ctx.Err() != nil {
			c.diags.Errorf(diag.Pos{}, "", "%v", ctx.Err())
			return nil
		}
		if baseJSON = c.evaluate(ctx, cctx, specInst); baseJSON == nil {
			return nil
		}
		restoreGC()
		stop()
		stop = c.timer(decodePhase)
		var err error
		if base, err = toJSON(baseJSON); err != nil {
			c.diags.Errorf(diag.Pos{}, "", "internal error: %v", err)
			return nil
		}
		stop()
	}
	if ctx.Err() != nil {
		c.diags.Errorf(diag.Pos{}, "", "%v", ctx.Err())
		return nil
	}
	stop = c.timer(decodePhase)
	sys, envs := c.decodeSystem(baseJSON)
	stop()
	if sys == nil {
		return nil
	}
	stop = c.timer(checksPhase)
	c.checkOverrides(base)
	ok := c.checkEnvironmentNames(envs)
	stop()
	if !ok {
		return nil
	}
	c.envNames = slices.Sorted(maps.Keys(envs))
	for _, name := range c.selectEnvironments(envs) {
		if ctx.Err() != nil {
			c.diags.Errorf(diag.Pos{}, "", "%v", ctx.Err())
			return nil
		}
		env := envs[name]
		env.Name = name
		if env.Namespace == "" {
			env.Namespace = sys.Namespace
		}
		if !c.resolveEnvironment(ctx, cctx, env, base, baseJSON) {
			continue
		}
		sys.Environments = append(sys.Environments, env)
	}
	if c.diags.HasErrors() {
		return nil
	}
	stop = c.timer(checksPhase)
	c.checkSystem(sys, envs)
	c.check(sys)
	return sys
}

// evaluate evaluates the spec the one way: as one CUE value, unified
// with #System, and returns it exported, or nil after reporting why not.
// Every error of a spec is reported this way (split.go).
func (c *compilation) evaluate(ctx context.Context, cctx *cue.Context, specInst *build.Instance) []byte {
	user := cctx.BuildInstance(specInst)
	c.user = user
	if err := user.Err(); err != nil {
		// Err is the first error only; with the spec wrapped in
		// schema.#System & {…} (as the README and kiln init write it) the
		// schema's errors all surface here, so collect every one.
		if all := user.Validate(); all != nil {
			err = all
		}
		c.diags.Add(c.pos.convertErrors(err, c.src, "")...)
		return nil
	}
	if ctx.Err() != nil {
		c.diags.Errorf(diag.Pos{}, "", "%v", ctx.Err())
		return nil
	}
	v := user
	if !embedsSystem(specInst.Files) {
		v = c.def.Unify(user)
	}
	if !v.LookupPath(cue.ParsePath("environments")).Exists() {
		v = v.FillPath(cue.ParsePath("environments."+DefaultEnvironment), map[string]any{})
	}
	if err := v.Validate(cue.Concrete(true), cue.Final()); err != nil {
		c.diags.Add(c.pos.convertErrors(err, c.src, schemaPathPrefix)...)
		return nil
	}
	// One export: the base spec's JSON is decoded into the system's
	// metadata, into the plain values overrides patch, and into the spec
	// of every environment without overrides.
	b, err := v.MarshalJSON()
	if err != nil {
		c.diags.Errorf(diag.Pos{}, "", "internal error: %v", err)
		return nil
	}
	return b
}

// decodeSystem decodes the system's metadata and environments from the
// exported spec.
func (c *compilation) decodeSystem(b []byte) (*ir.System, map[string]*ir.Environment) {
	var doc struct {
		ir.System
		// The spec sections are decoded per environment, in
		// resolveEnvironment.
		Environments map[string]*ir.Environment `json:"environments"`
	}
	err := json.Unmarshal(b, &doc)
	if err != nil && c.reportHugeNumber(err, b, c.src) {
		return nil, nil
	}
	if err != nil {
		c.diags.Errorf(diag.Pos{}, "", "internal error: decoding the system: %v", err)
		return nil, nil
	}
	sys := doc.System
	sys.Dir = c.dir
	sys.Sources = c.src
	if abs, err := filepath.Abs(c.dir); err == nil {
		sys.SpecDir = c.pos.rel(abs)
	}
	return &sys, doc.Environments
}

// selectEnvironments returns the environment names to compile, sorted, and
// reports names asked for that the spec does not have.
func (c *compilation) selectEnvironments(envs map[string]*ir.Environment) []string {
	all := slices.Sorted(maps.Keys(envs))
	if len(c.opts.Environments) == 0 {
		return all
	}
	var out []string
	for _, name := range c.opts.Environments {
		if _, ok := envs[name]; !ok {
			c.diags.Errorf(diag.Pos{}, "environments", "no environment %q (the spec has %s)", name, quoteList(all))
			continue
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// resolveEnvironment applies env's overrides to the base spec (base, as
// plain values; baseJSON, as exported), checks the result against the
// schema and decodes it into env.Spec.
func (c *compilation) resolveEnvironment(ctx context.Context, cctx *cue.Context, env *ir.Environment, base map[string]any, baseJSON []byte) bool {
	stop := c.timer(environmentsPhase)
	defer func() { stop() }()
	envPath := ir.Path("environments", env.Name)
	src := maps.Clone(c.src)
	overrides, _ := base["environments"].(map[string]any)[env.Name].(map[string]any)["overrides"].(map[string]any)
	// An environment without overrides is the base spec: its exported
	// JSON is decoded as it is.
	b := baseJSON
	if len(overrides) > 0 {
		patch := clone(overrides).(map[string]any)
		// Overrides of entries the base lacks were reported by
		// checkOverrides; applying them would only add noise about the
		// fields such a half entry misses.
		for sec, entries := range patch {
			have, _ := base[sec].(map[string]any)
			if m, ok := entries.(map[string]any); ok && sec != "artifacts" && sec != "trainer" {
				for name := range m {
					if _, ok := have[name]; !ok {
						delete(m, name)
					}
				}
			}
		}
		baseImages, _ := base["images"].(map[string]any)
		overImages, _ := overrides["images"].(map[string]any)
		var eff map[string]any
		if len(overImages) > 0 {
			// An image override changes fields anywhere in the spec.
			eff = clone(base).(map[string]any)
			if c.imageRefs == nil {
				c.imageRefs = collectImageRefs(c.user)
			}
			substituteImageRefs(eff, c.imageRefs, env.Name, baseImages, overImages, false)
		} else {
			eff = copyAlong(base, patch)
		}
		applyOverrides(eff, patch, "", ir.Join(envPath, "overrides"), src)
		if len(overImages) > 0 {
			substituteImageRefs(eff, c.imageRefs, env.Name, baseImages, overImages, true)
		}
		// Only what the overrides changed needs the schema again: the
		// base was evaluated and validated against #System already.
		changed := changedParts(base, eff)
		pb, err := c.checkChanged(ctx, changed)
		if err != nil {
			c.diags.Errorf(diag.Pos{}, envPath, "internal error: %v", err)
			return false
		}
		if pb == nil {
			// As one value: the chunks found a problem, which this
			// reports (or split evaluation is off).
			if pb, err = json.Marshal(changed); err != nil {
				c.diags.Errorf(diag.Pos{}, envPath, "internal error: %v", err)
				return false
			}
			v := c.def.Unify(cctx.CompileBytes(pb))
			if err := v.Validate(cue.Concrete(true), cue.Final()); err != nil {
				for _, d := range c.pos.convertErrors(err, src, schemaPathPrefix) {
					d.Envs = []string{env.Name}
					c.diags.Add(d)
				}
				return false
			}
			if pb, err = v.MarshalJSON(); err != nil {
				c.diags.Errorf(diag.Pos{}, envPath, "internal error: %v", err)
				return false
			}
		}
		var checked map[string]any
		if checked, err = toJSON(pb); err == nil {
			spliceParts(eff, changed, checked)
			b, err = json.Marshal(eff)
		}
		if err != nil {
			c.diags.Errorf(diag.Pos{}, envPath, "internal error: %v", err)
			return false
		}
	}
	stop()
	stop = c.timer(decodePhase)
	var doc struct {
		ir.Spec
		// Images take two forms (decodeImages).
		Images json.RawMessage `json:"images"`
		// Metadata is decoded once, in decodeSystem.
		Name         json.RawMessage `json:"name"`
		Namespace    json.RawMessage `json:"namespace"`
		Owners       json.RawMessage `json:"owners"`
		Description  json.RawMessage `json:"description"`
		Labels       json.RawMessage `json:"labels"`
		GitOps       json.RawMessage `json:"gitops"`
		Environments json.RawMessage `json:"environments"`
	}
	// Unknown fields are an error: the IR and the schema must never drift.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		if c.reportHugeNumber(err, b, src) {
			return false
		}
		c.diags.Errorf(diag.Pos{}, envPath, "internal error: the IR does not match the schema: %v", err)
		return false
	}
	if err := decodeImages(doc.Images, &doc.Spec); err != nil {
		c.diags.Errorf(diag.Pos{}, envPath, "internal error: the IR does not match the schema: %v", err)
		return false
	}
	env.Spec = &doc.Spec
	env.Sources = src
	return true
}

// copyAlong returns base for applyOverrides to patch with patch: the
// objects patch merges into (those it names that are objects in both) are
// copies, the rest is shared with base, which the patching leaves as it
// is. An environment's overrides name a few entries of a large spec, and
// changedParts sees an entry that is still base's own at once
// (reflect.DeepEqual stops at a map that is the same map), where copying
// the whole spec and comparing it value by value cost more than checking
// what changed against the schema.
func copyAlong(base, patch map[string]any) map[string]any {
	out := maps.Clone(base)
	for k, pv := range patch {
		pm, pIsMap := pv.(map[string]any)
		bm, bIsMap := base[k].(map[string]any)
		if pIsMap && bIsMap {
			out[k] = copyAlong(bm, pm)
		}
	}
	return out
}

// toJSON decodes an exported value as plain JSON values, keeping numbers
// as CUE wrote them.
func toJSON(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

func quoteList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	var b bytes.Buffer
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", n)
	}
	return b.String()
}

func mustAbs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
