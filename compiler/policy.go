package compiler

import (
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/format"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/schema"
)

// Policy as code. A spec adopts an organisation's rules by declaring the
// definition #Policy in its package (schema/policy.cue documents it). The
// rules are CUE constraints, and CUE checks them: each governed value of
// an environment, after its overrides, is unified with the rule, and a
// value that does not satisfy it is reported at the value's position,
// naming the rule, with the rule's own position as related. The rules on
// what only rendering counts (the GPUs of a job, of an environment at
// worst) go to the IR as predicates (ir.PolicyRule), for render/policy.
// Definitions are not exported, so the policy is no part of the spec's
// values and needs no concrete value of its own.

// policyPath is the definition a spec declares its policy as.
const policyPath = "#Policy"

// renderedRules are the rules render/policy checks.
var renderedRules = []string{"gpusPerJob", "gpusPerEnvironment"}

// policy is the spec's #Policy.
type policy struct {
	// v is the spec's #Policy unified with the schema's.
	v cue.Value
}

// loadPolicy returns the spec's #Policy checked against the schema's, nil
// when the spec declares none. It reports whether the policy is usable.
func (c *compilation) loadPolicy() (*policy, bool) {
	user := c.user.LookupPath(cue.ParsePath(policyPath))
	if !user.Exists() {
		return nil, true
	}
	src, err := fs.ReadFile(schema.FS, "policy.cue")
	if err != nil {
		c.diags.Errorf(diag.Pos{}, "", "internal error: reading the schema's policy: %v", err)
		return nil, false
	}
	def := c.user.Context().CompileBytes(src, cue.Filename(filepath.Join(schemaPkgDir, "policy.cue"))).LookupPath(cue.ParsePath(policyPath))
	if err := def.Err(); err != nil {
		c.diags.Errorf(diag.Pos{}, "", "internal error: building the schema's policy: %v", err)
		return nil, false
	}
	v := def.Unify(user)
	if err := v.Validate(); err != nil {
		c.diags.Add(c.pos.convertErrors(err, c.src, "")...)
		return nil, false
	}
	return &policy{v: v}, true
}

// policyRule is one rule of the policy as it holds in one environment.
type policyRule struct {
	name string
	v    cue.Value
	// text is the constraint as the user wrote it ("a & b" when both
	// the rule for every environment and this environment's hold).
	text string
	// pos is where the rule is written: the environment's own when it
	// has one.
	pos diag.Pos
}

// rule returns the rule name in environment env, if the policy sets it.
func (c *compilation) policyRule(p *policy, name, env string) (policyRule, bool) {
	r := policyRule{name: name}
	var texts []string
	for _, path := range []cue.Path{
		cue.MakePath(cue.Str(name)),
		cue.MakePath(cue.Str("environments"), cue.Str(env), cue.Str(name)),
	} {
		v := p.v.LookupPath(path)
		if !v.Exists() {
			continue
		}
		if r.v.Exists() {
			r.v = r.v.Unify(v)
		} else {
			r.v = v
		}
		// The text and position of what the user wrote, not of the
		// schema's declaration of the rule.
		op, parts := v.Expr()
		if op != cue.AndOp {
			parts = []cue.Value{v}
		}
		for _, part := range parts {
			if isSchemaFile(part.Pos().Filename()) {
				continue
			}
			n := part.Source()
			if f, ok := n.(*ast.Field); ok {
				n = f.Value
			}
			if n == nil {
				continue
			}
			b, err := format.Node(n)
			if err != nil {
				continue
			}
			texts = append(texts, strings.Join(strings.Fields(string(b)), " "))
			r.pos = c.pos.pos(part.Pos())
		}
	}
	if !r.v.Exists() {
		return r, false
	}
	r.text = strings.Join(texts, " & ")
	if r.text == "" {
		b, _ := format.Node(r.v.Syntax())
		r.text = strings.Join(strings.Fields(string(b)), " ")
	}
	return r, true
}

// allows reports whether x satisfies the rule, and CUE's first complaint
// when it does not.
func (r policyRule) allows(x any) (bool, string) {
	u := r.v.Unify(r.v.Context().Encode(x))
	err := u.Validate(cue.Concrete(true))
	if err == nil {
		return true, ""
	}
	// Every complaint, each with the path inside the value (a label's
	// key) after the rule's.
	var msgs []string
	for _, e := range cueerrors.Errors(err) {
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		p := e.Path()
		for i, s := range p {
			if s == r.name && i+1 < len(p) {
				msg = strings.Join(p[i+1:], ".") + ": " + msg
				break
			}
		}
		if !slices.Contains(msgs, msg) {
			msgs = append(msgs, msg)
		}
	}
	msg := strings.Join(msgs, "; ")
	return false, msg
}

// checkPolicy checks one environment against the spec's policy and
// records in env the rules only rendering can check.
func (c *compilation) checkPolicy(p *policy, sys *ir.System, env *ir.Environment) diag.List {
	var diags diag.List
	envPath := ir.Path("environments", env.Name)
	breaks := func(r policyRule, path, what string, x any) {
		ok, why := r.allows(x)
		if ok {
			return
		}
		pos := env.Sources.Pos(path)
		verb := "breaks"
		if r.name == "labels" {
			verb = "break"
		}
		msg := fmt.Sprintf("%s %s policy rule %s: it must satisfy %s", what, verb, r.name, r.text)
		if why != "" && r.name == "labels" {
			msg += " (" + why + ")"
		}
		d := diag.Errorf(pos, path, "%s", msg)
		d.Envs = []string{env.Name}
		if r.pos.IsValid() {
			d.Related = []diag.Pos{r.pos}
		}
		diags.Add(d)
	}
	rule := func(name string) (policyRule, bool) {
		r, ok := c.policyRule(p, name, env.Name)
		if ok && r.v.Validate() != nil {
			// The rule for every environment and this one's
			// contradict each other: nothing could satisfy both.
			path := ir.Join(policyPath, "environments", env.Name, name)
			d := diag.Errorf(r.pos, path, "policy rule %s cannot be satisfied in environment %s: %s", name, env.Name, r.text)
			d.Envs = []string{env.Name}
			diags.Add(d)
			return r, false
		}
		return r, ok
	}

	if r, ok := rule("labels"); ok {
		labels := map[string]string{}
		maps.Copy(labels, sys.Labels)
		breaks(r, "labels", "the system's labels", labels)
	}
	if r, ok := rule("gpuQuota"); ok {
		breaks(r, ir.Join(envPath, "gpu", "quota"), fmt.Sprintf("gpu.quota %d", env.GPU.Quota), env.GPU.Quota)
	}
	products, hasProducts := rule("gpuProducts")
	if hasProducts {
		for i, prod := range env.GPU.Products {
			breaks(products, ir.Index(ir.Join(envPath, "gpu", "products"), i), fmt.Sprintf("GPU product %q", prod), prod)
		}
	}
	perPod, hasPerPod := rule("gpusPerPod")
	walkResources("", reflect.ValueOf(env.Spec), func(path string, r *ir.Resources) {
		if r.GPUs == 0 {
			return
		}
		if hasPerPod {
			breaks(perPod, ir.Join(path, "gpus"), fmt.Sprintf("%d GPUs per pod", r.GPUs), r.GPUs)
		}
		if hasProducts {
			switch {
			case r.GPUProduct != "":
				breaks(products, ir.Join(path, "gpuProduct"), fmt.Sprintf("GPU product %q", r.GPUProduct), r.GPUProduct)
			case env.GPU.DefaultProduct() == "":
				d := diag.Errorf(env.Sources.Pos(ir.Join(path, "gpus")), ir.Join(path, "gpus"), "asks for GPUs with no GPU product named (resources.gpuProduct or environments.%s.gpu.products), so its pods may run on any: that breaks policy rule gpuProducts, which allows %s", env.Name, products.text)
				d.Envs = []string{env.Name}
				if products.pos.IsValid() {
					d.Related = []diag.Pos{products.pos}
				}
				diags.Add(d)
			}
		}
	})
	if r, ok := rule("images"); ok {
		walkFields("", reflect.ValueOf(env.Spec), func(path, field string, v reflect.Value) {
			if field == "image" && v.Kind() == reflect.String && v.String() != "" {
				breaks(r, path, fmt.Sprintf("image %q", v.String()), v.String())
			}
		})
		// The image that builds images runs in the cluster too.
		for _, name := range slices.Sorted(maps.Keys(env.Spec.Builds)) {
			img := env.Spec.Builds[name].Builder
			breaks(r, ir.Path("images", name, "build", "builder"), fmt.Sprintf("image %q", img), img)
		}
	}
	if r, ok := rule("servingModes"); ok {
		for _, name := range slices.Sorted(maps.Keys(env.Spec.Serving)) {
			s := env.Spec.Serving[name]
			if s.Runtime != "kserve" || s.LLM != nil {
				continue
			}
			mode := s.DeploymentMode
			switch mode {
			case "Serverless":
				mode = "Knative"
			case "RawDeployment":
				mode = "Standard"
			}
			breaks(r, ir.Path("serving", name, "deploymentMode"), fmt.Sprintf("deploymentMode %q", mode), mode)
		}
	}
	for _, name := range renderedRules {
		r, ok := rule(name)
		if !ok {
			continue
		}
		env.Policy = append(env.Policy, ir.PolicyRule{Name: r.name, Pos: r.pos, Text: r.text, Allows: func(n int) bool {
			ok, _ := r.allows(n)
			return ok
		}})
	}
	return diags
}
