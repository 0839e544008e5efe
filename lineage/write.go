package lineage

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Inputs are what the exit handler hands `kiln lineage record`: values
// kiln knew when it rendered the pipeline, and Argo expressions the
// controller resolved. An expression Argo could not resolve (the output
// of a step that never ran) arrives as written, {{…}}, and counts as
// absent.
type Inputs struct {
	System, Namespace, Environment, Pipeline string
	// RunName, RunUID, Phase and Started are {{workflow.name}},
	// {{workflow.uid}}, {{workflow.status}} and
	// {{workflow.creationTimestamp}}.
	RunName, RunUID, Phase, Started string
	// Finished is when the record is written.
	Finished time.Time
	// SpecDigest is the rendered pipeline's digest.
	SpecDigest string
	// Datasets are name=URI pairs.
	Datasets []string
	// Parameters are name=value pairs.
	Parameters []string
	// Outputs are step.output=value pairs.
	Outputs []string
	// Promotions are the JSON results of promote steps (`kiln promote
	// --result`), as step=JSON.
	Promotions []string
	// URI is where the record is stored.
	URI string
	// Images are the images the run built, as NAME=REF@DIGEST, the
	// digest being the build step's output.
	Images []string

	// A sweep's run names the sweep instead of a pipeline, with its
	// search: the algorithm, the objective (Goal: maximize or minimize;
	// Target, a number, may be empty), History (the JSON history of
	// trials the sweep's bookkeeping keeps, {{…}} when no round was
	// recorded) and Best (the best trial's name, as the sweep's summary
	// picked it).
	Sweep, Algorithm, Objective, Goal, Target string
	History, Best                             string
}

// Unresolved reports whether v is an Argo expression left as written.
func Unresolved(v string) bool {
	return strings.Contains(v, "{{") && strings.Contains(v, "}}")
}

// Build makes the record of a run from its inputs. Malformed pairs are
// errors: they come from kiln's own rendering, not from a user. A
// promotion that is not the JSON kiln promote writes is kept in Outputs
// as written (STEP.promotion): the record of a run matters more than
// its form.
func Build(in Inputs) (*Record, error) {
	r := &Record{
		APIVersion:  APIVersion,
		Kind:        Kind,
		URI:         in.URI,
		System:      in.System,
		Namespace:   in.Namespace,
		Environment: in.Environment,
		Pipeline:    in.Pipeline,
		Run:         Run{Name: in.RunName, UID: resolved(in.RunUID), Phase: phase(in.Phase)},
		Spec:        Spec{Digest: in.SpecDigest},
		Datasets:    []Dataset{},
		Parameters:  map[string]string{},
		Metrics:     map[string]float64{},
		Outputs:     map[string]string{},
		Models:      []Model{},
		Promotions:  []Promotion{},
	}
	if t, err := time.Parse(time.RFC3339, in.Started); err == nil {
		r.Run.StartedAt = t.UTC()
	}
	if !in.Finished.IsZero() {
		r.Run.FinishedAt = in.Finished.UTC().Truncate(time.Second)
	}
	pairs, err := flagPairs(in)
	if err != nil {
		return nil, err
	}
	for _, d := range pairs["--dataset"] {
		r.Datasets = append(r.Datasets, Dataset{Name: d.name, URI: d.value, Version: version(d.value)})
	}
	slices.SortFunc(r.Datasets, func(a, b Dataset) int { return cmp.Compare(a.Name, b.Name) })
	if in.Sweep != "" {
		if err := r.sweep(in); err != nil {
			return nil, err
		}
	}
	for _, p := range pairs["--param"] {
		if !Unresolved(p.value) {
			r.Parameters[p.name] = p.value
		}
	}
	for _, o := range pairs["--output"] {
		key, v := o.name, o.value
		step, out, ok := strings.Cut(key, ".")
		if !ok || step == "" || out == "" || strings.Contains(out, ".") {
			return nil, fmt.Errorf("--output %s: want step.output=VALUE", o.given)
		}
		if Unresolved(v) || v == "" {
			continue
		}
		v = strings.TrimSpace(v)
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			r.Metrics[key] = f
			continue
		}
		if IsStorageURI(v) {
			r.Models = append(r.Models, Model{URI: v, Step: step, Output: out})
			continue
		}
		r.Outputs[key] = v
	}
	for _, p := range pairs["--promotion"] {
		step, v := p.name, p.value
		if Unresolved(v) || strings.TrimSpace(v) == "" {
			continue // the step did not run, or failed before it promoted
		}
		var pr Promotion
		if err := json.Unmarshal([]byte(v), &pr); err != nil || pr.Serving == "" || pr.ModelURI == "" {
			// Not what kiln promote --result writes: kept as written
			// rather than lose the run's record over it.
			r.Outputs[step+".promotion"] = v
			continue
		}
		pr.Step = step
		r.Promotions = append(r.Promotions, pr)
		if !slices.ContainsFunc(r.Models, func(m Model) bool { return m.URI == pr.ModelURI }) {
			r.Models = append(r.Models, Model{URI: pr.ModelURI, Step: step})
		}
		if r.Spec.Revision == "" {
			r.Spec.Revision = pr.Commit
		}
	}
	for _, im := range pairs["--image"] {
		name, v := im.name, im.value
		// The digest follows the last '@': a ref may hold none, a
		// registry host may hold a port (host:5000/repo:tag).
		i := strings.LastIndex(v, "@")
		if i <= 0 {
			return nil, fmt.Errorf("--image %s: want NAME=REF@DIGEST", im.given)
		}
		img := Image{Name: name, Ref: v[:i]}
		if d := strings.TrimSpace(v[i+1:]); d != "" && !Unresolved(d) {
			img.Digest = d
		}
		r.Images = append(r.Images, img)
	}
	slices.SortFunc(r.Images, func(a, b Image) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(r.Models, func(a, b Model) int {
		return cmp.Or(cmp.Compare(a.Step, b.Step), cmp.Compare(a.Output, b.Output), cmp.Compare(a.URI, b.URI))
	})
	slices.SortFunc(r.Promotions, func(a, b Promotion) int { return cmp.Compare(a.Step, b.Step) })
	return r, nil
}

// history is what a sweep's bookkeeping (selector.py) keeps of its
// trials: the fields the record takes.
type history struct {
	Trials []struct {
		Name       string                     `json:"name"`
		Status     string                     `json:"status"`
		Parameters map[string]json.RawMessage `json:"parameters"`
		Metrics    map[string]float64         `json:"metrics"`
		Models     map[string]string          `json:"models"`
	} `json:"trials"`
	Reason string `json:"reason"`
}

// sweep fills in a sweep's search from its inputs. The best trial's
// parameters, metrics and models are the record's own, so the record of
// a sweep reads like that of a pipeline run that trained the best model.
func (r *Record) sweep(in Inputs) error {
	sw := &Sweep{Name: in.Sweep, Algorithm: in.Algorithm, Objective: Objective{Metric: in.Objective, Goal: in.Goal}, Trials: []Trial{}}
	if in.Goal != "maximize" && in.Goal != "minimize" {
		return fmt.Errorf("--goal %s: want maximize or minimize", in.Goal)
	}
	if t := strings.TrimSpace(in.Target); t != "" && !Unresolved(t) {
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return fmt.Errorf("--target %s: %w", t, err)
		}
		sw.Objective.Target = &f
	}
	if h := strings.TrimSpace(in.History); h != "" && !Unresolved(h) {
		var hist history
		if err := json.Unmarshal([]byte(h), &hist); err != nil {
			return fmt.Errorf("the sweep's history is not JSON: %w", err)
		}
		sw.Stopped = hist.Reason
		for _, t := range hist.Trials {
			tr := Trial{Name: t.Name, Status: t.Status, Parameters: map[string]string{}, Metrics: t.Metrics}
			if tr.Metrics == nil {
				tr.Metrics = map[string]float64{}
			}
			for k, v := range t.Parameters {
				tr.Parameters[k] = scalar(v)
			}
			for _, k := range slices.Sorted(maps.Keys(t.Models)) {
				step, out, _ := strings.Cut(k, ".")
				tr.Models = append(tr.Models, Model{URI: t.Models[k], Step: step, Output: out})
			}
			sw.Trials = append(sw.Trials, tr)
		}
	}
	if b := strings.TrimSpace(in.Best); b != "" && !Unresolved(b) {
		i := slices.IndexFunc(sw.Trials, func(t Trial) bool { return t.Name == b })
		if i < 0 {
			return fmt.Errorf("--best %s: no such trial in the sweep's history", b)
		}
		sw.Best = b
		maps.Copy(r.Parameters, sw.Trials[i].Parameters)
		for k, v := range sw.Trials[i].Metrics {
			r.Metrics[b+"."+k] = v
		}
		// The best trial's models are what the sweep produced.
		r.Models = append(r.Models, sw.Trials[i].Models...)
	}
	r.Sweep = sw
	return nil
}

// scalar is a JSON value as a parameter's text: a string unquoted,
// anything else as written.
func scalar(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

// Marshal is the record as it is stored: indented, keys in a fixed order.
func (r *Record) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// flagPair is one value of a repeatable NAME=VALUE flag: split, and as
// given (for messages).
type flagPair struct{ name, value, given string }

// flagPairs splits the values of Build's repeatable NAME=VALUE flags, by
// flag name, before any is used: one malformed value is an error naming
// its flag, whichever kind it is.
func flagPairs(in Inputs) (map[string][]flagPair, error) {
	out := map[string][]flagPair{}
	for _, f := range []struct {
		flag   string
		values []string
	}{
		{"--dataset", in.Datasets}, {"--param", in.Parameters}, {"--output", in.Outputs},
		{"--promotion", in.Promotions}, {"--image", in.Images},
	} {
		for _, s := range f.values {
			k, v, ok := strings.Cut(s, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("%s %s: want NAME=VALUE", f.flag, s)
			}
			out[f.flag] = append(out[f.flag], flagPair{k, v, s})
		}
	}
	return out, nil
}

func resolved(v string) string {
	if Unresolved(v) {
		return ""
	}
	return v
}

// phase maps Argo's workflow status onto the record's phases.
func phase(s string) string {
	switch s {
	case "Succeeded", "Failed", "Error":
		return s
	}
	return "Unknown"
}

// version is the version a dataset URI pins, if any: an S3 versionId, a
// GCS generation (gs://b/o#123), a Hugging Face revision (hf://repo@rev,
// hf://repo:rev).
func version(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	switch u.Scheme {
	case "s3":
		return u.Query().Get("versionId")
	case "gs":
		if _, err := strconv.ParseInt(u.Fragment, 10, 64); err == nil {
			return u.Fragment
		}
	case "hf":
		rest := strings.TrimPrefix(uri, "hf://")
		if i := strings.LastIndexAny(rest, "@:"); i > 0 && i < len(rest)-1 {
			return rest[i+1:]
		}
	}
	return ""
}
