package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

// Op is what happened to a file or an object.
type Op string

// The operations, in the order reports list them.
const (
	Added   Op = "added"
	Changed Op = "changed"
	Removed Op = "removed"
)

// File is one file that differs.
type File struct {
	Path string
	Op   Op
	// Unified is the unified diff of the file, "a/" and "b/" prefixed.
	Unified string
}

// ObjectID names a Kubernetes object within an output tree.
type ObjectID struct {
	// Env is the environment: the first element of the file's path.
	Env       string
	Group     string
	Kind      string
	Namespace string
	Name      string
}

func (id ObjectID) String() string {
	k := id.Kind
	if id.Group != "" {
		k += "." + id.Group
	}
	if id.Namespace != "" {
		return fmt.Sprintf("%s: %s %s/%s", id.Env, k, id.Namespace, id.Name)
	}
	return fmt.Sprintf("%s: %s %s", id.Env, k, id.Name)
}

func (id ObjectID) compare(o ObjectID) int {
	for _, c := range [][2]string{{id.Env, o.Env}, {id.Kind, o.Kind}, {id.Group, o.Group}, {id.Namespace, o.Namespace}, {id.Name, o.Name}} {
		if n := strings.Compare(c[0], c[1]); n != 0 {
			return n
		}
	}
	return 0
}

// Object is one object that differs.
type Object struct {
	ObjectID
	Op Op
	// OldPath and NewPath are the files holding the object before and
	// after; one is empty for an addition or a removal.
	OldPath, NewPath string
	// Entry is the CUE path of the spec entry the object was rendered
	// from (its kiln.dev/path annotation, the new object's when both
	// have one); "" for objects without one.
	Entry string
}

// EntryAnnotation names the spec entry an object was rendered from. The
// renderers set it; diff only reads it, to group changes by entry.
const EntryAnnotation = "kiln.dev/path"

// Count is a number before and after.
type Count struct {
	Before, After int64
}

// Report is the difference between two trees.
type Report struct {
	Files   []File
	Objects []Object
	// Kinds counts objects per kind (Kind or Kind.group), over all
	// environments, for every kind present before or after.
	Kinds map[string]Count
	// GPUs sums GPU requests per environment and resource name
	// (nvidia.com/gpu, nvidia.com/mig-1g.10gb, ...): env -> resource -> count.
	GPUs map[string]map[string]Count
	// Budgets is the fresh render's summed GPU demand per environment
	// and resource, sorted; the caller fills it in (it comes from the
	// spec, not from the compared files).
	Budgets []Budget
}

// Changed reports whether the trees differ at all.
func (r *Report) Changed() bool { return len(r.Files) > 0 }

type parsed struct {
	id   ObjectID
	path string
	// canon is the object re-encoded as JSON, so that only content
	// counts, not the file's layout.
	canon []byte
	gpus  map[string]int64
	entry string
}

// Compare compares the old tree with the new one. Files that are not YAML
// objects (kustomization.yaml, which has no name) take part in the file
// diff only. A file that cannot be parsed is compared as text.
func Compare(old, new map[string][]byte) *Report {
	r := &Report{Kinds: map[string]Count{}, GPUs: map[string]map[string]Count{}}
	for _, p := range slices.Sorted(maps.Keys(mergeKeys(old, new))) {
		a, inA := old[p]
		b, inB := new[p]
		switch {
		case !inA:
			r.Files = append(r.Files, File{Path: p, Op: Added, Unified: unified(p, nil, b, false, true)})
		case !inB:
			r.Files = append(r.Files, File{Path: p, Op: Removed, Unified: unified(p, a, nil, true, false)})
		case !bytes.Equal(a, b):
			r.Files = append(r.Files, File{Path: p, Op: Changed, Unified: unified(p, a, b, true, true)})
		}
	}
	before, after := objects(old), objects(new)
	byID := func(l []parsed) map[ObjectID]parsed {
		m := map[ObjectID]parsed{}
		for _, o := range l {
			m[o.id] = o
		}
		return m
	}
	bm, am := byID(before), byID(after)
	var ids []ObjectID
	for id := range bm {
		ids = append(ids, id)
	}
	for id := range am {
		if _, ok := bm[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, ObjectID.compare)
	for _, id := range ids {
		b, inB := bm[id]
		a, inA := am[id]
		switch {
		case !inB:
			r.Objects = append(r.Objects, Object{ObjectID: id, Op: Added, NewPath: a.path, Entry: a.entry})
		case !inA:
			r.Objects = append(r.Objects, Object{ObjectID: id, Op: Removed, OldPath: b.path, Entry: b.entry})
		case !bytes.Equal(a.canon, b.canon):
			entry := a.entry
			if entry == "" {
				entry = b.entry
			}
			r.Objects = append(r.Objects, Object{ObjectID: id, Op: Changed, OldPath: b.path, NewPath: a.path, Entry: entry})
		}
	}
	tally := func(l []parsed, after bool) {
		for _, o := range l {
			k := o.id.Kind
			if o.id.Group != "" {
				k += "." + o.id.Group
			}
			c := r.Kinds[k]
			env := r.GPUs[o.id.Env]
			if env == nil {
				env = map[string]Count{}
				r.GPUs[o.id.Env] = env
			}
			if after {
				c.After++
			} else {
				c.Before++
			}
			r.Kinds[k] = c
			for res, n := range o.gpus {
				g := env[res]
				if after {
					g.After += n
				} else {
					g.Before += n
				}
				env[res] = g
			}
		}
	}
	tally(before, false)
	tally(after, true)
	return r
}

func mergeKeys(a, b map[string][]byte) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// objects parses every YAML document with a kind and a name.
func objects(tree map[string][]byte) []parsed {
	var out []parsed
	for _, p := range slices.Sorted(maps.Keys(tree)) {
		if !strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, ".yml") {
			continue
		}
		env, _, _ := strings.Cut(p, "/")
		for _, doc := range splitDocs(tree[p]) {
			var m map[string]any
			if err := yaml.Unmarshal(doc, &m); err != nil || m == nil {
				continue
			}
			kind, _ := m["kind"].(string)
			apiVersion, _ := m["apiVersion"].(string)
			md, _ := m["metadata"].(map[string]any)
			name, _ := md["name"].(string)
			if kind == "" || name == "" {
				continue
			}
			ns, _ := md["namespace"].(string)
			group := ""
			if g, _, ok := strings.Cut(apiVersion, "/"); ok {
				group = g
			}
			canon, _ := json.Marshal(m)
			ann, _ := md["annotations"].(map[string]any)
			entry, _ := ann[EntryAnnotation].(string)
			out = append(out, parsed{
				entry: entry,
				id:    ObjectID{Env: env, Group: group, Kind: kind, Namespace: ns, Name: name},
				path:  p,
				canon: canon,
				gpus:  GPURequests(m),
			})
		}
	}
	return out
}

// splitDocs splits a YAML stream at "---" lines.
func splitDocs(b []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if t := bytes.TrimRight(line, " \t\r\n"); bytes.Equal(t, []byte("---")) {
			docs = append(docs, bytes.Clone(cur.Bytes()))
			cur.Reset()
			continue
		}
		cur.Write(line)
	}
	return append(docs, cur.Bytes())
}

// unified is the unified diff of one file, with three lines of context.
func unified(p string, a, b []byte, hasA, hasB bool) string {
	return unifiedN(p, a, b, hasA, hasB, 3)
}

// unifiedContext is the diff of a file present on both sides with n lines
// of context.
func unifiedContext(p string, a, b []byte, n int) string {
	return unifiedN(p, a, b, true, true, n)
}

func unifiedN(p string, a, b []byte, hasA, hasB bool, context int) string {
	from, to := "a/"+p, "b/"+p
	if !hasA {
		from = "/dev/null"
	}
	if !hasB {
		to = "/dev/null"
	}
	s, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: lines(a), B: lines(b), FromFile: from, ToFile: to, Context: context,
	})
	if err != nil {
		// difflib only fails writing to its buffer.
		panic(err)
	}
	return s
}

// lines splits b into lines that keep their "\n"; a last line without one
// gets the marker diff(1) prints, so the difference is visible.
func lines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	l := difflib.SplitLines(string(b))
	// SplitLines appends "\n" to the last element; a file ending in a
	// newline therefore gets an empty last line, which we drop.
	if last := l[len(l)-1]; last == "\n" {
		l = l[:len(l)-1]
	} else {
		l[len(l)-1] = strings.TrimSuffix(last, "\n") + "\n\\ No newline at end of file\n"
	}
	return l
}

// GPUResource reports whether name is a GPU resource counted in the summary.
func GPUResource(name string) bool {
	return name == "nvidia.com/gpu" || strings.HasPrefix(name, "nvidia.com/mig-")
}

// GPURequests sums the GPUs an object asks for, per resource name: for each
// container (any map with a "resources" map holding requests or limits) the
// larger of its request and limit, times the replicas of the nearest
// enclosing replica spec ("replicas", or "minReplicas" for autoscaled
// components such as KServe predictors; 1 when there is none). Training job
// replica specs (pytorchReplicaSpecs.Worker.replicas, ...), Deployments and
// InferenceServices are all covered by that rule. Templates of workflows
// and sweeps count once each, including the jobs their resource templates
// create (the manifest text is parsed): they are what one run asks for at
// most per step, not a sum over time.
func GPURequests(obj map[string]any) map[string]int64 {
	out := map[string]int64{}
	walkGPUs(obj, 1, out)
	if len(out) == 0 {
		return nil
	}
	return out
}

func walkGPUs(v any, replicas int64, out map[string]int64) {
	switch v := v.(type) {
	case map[string]any:
		if n, ok := intValue(v["replicas"]); ok {
			replicas = n
		} else if n, ok := intValue(v["minReplicas"]); ok && n > 0 {
			replicas = n
		}
		if res, ok := v["resources"].(map[string]any); ok {
			per := map[string]int64{}
			for _, key := range []string{"requests", "limits"} {
				m, _ := res[key].(map[string]any)
				for name, q := range m {
					if !GPUResource(name) {
						continue
					}
					if n, ok := quantity(q); ok && n > per[name] {
						per[name] = n
					}
				}
			}
			for name, n := range per {
				out[name] += n * replicas
			}
		}
		// An Argo resource template carries the object it creates (a
		// training job, typically the largest GPU user) as YAML text.
		if m, ok := v["manifest"].(string); ok {
			var obj map[string]any
			if yaml.Unmarshal([]byte(m), &obj) == nil {
				walkGPUs(obj, 1, out)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if k == "resources" || k == "status" {
				continue
			}
			walkGPUs(v[k], replicas, out)
		}
	case []any:
		for _, e := range v {
			walkGPUs(e, replicas, out)
		}
	}
}

func intValue(v any) (int64, bool) {
	switch v := v.(type) {
	case float64:
		return int64(v), true
	case int64:
		return v, true
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	}
	return 0, false
}

func quantity(v any) (int64, bool) {
	switch v := v.(type) {
	case string:
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return 0, false
		}
		return q.Value(), true
	default:
		return intValue(v)
	}
}

// Budget is an environment's summed demand for one GPU resource: what
// long-running entries hold, the most one run (or scale-up) adds, every
// entry at its peak at once, and the quota.
type Budget struct {
	Env, Resource             string
	Held, Largest, All, Quota int
}

// How a Budget fits its quota.
const (
	FitsNoQuota = "no quota"                // the environment sets no GPU quota
	Fits        = "fits"                    // every entry at its peak at once fits
	FitsInTurns = "fits if runs take turns" // what is held and the largest run fit, not all at once
	DoesNotFit  = "does not fit"            // what is held and the largest run exceed the quota
)

// Fit says how b fits its quota: one of the Fit* constants.
func (b Budget) Fit() string {
	switch {
	case b.Quota <= 0:
		return FitsNoQuota
	case b.Held+b.Largest > b.Quota:
		return DoesNotFit
	case b.All > b.Quota:
		return FitsInTurns
	}
	return Fits
}
