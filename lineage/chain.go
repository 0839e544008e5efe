package lineage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/ir"
)

// Formats are the forms `kiln lineage` prints.
var Formats = []string{"text", "json", "mermaid"}

// Chain is what one environment serves as one serving entry, each
// version traced back to the run that produced it.
type Chain struct {
	Environment string `json:"environment"`
	System      string `json:"system"`
	Namespace   string `json:"namespace"`
	Serving     string `json:"serving"`
	// Endpoint is the exposed host, else the in-cluster address.
	Endpoint string    `json:"endpoint"`
	Versions []Version `json:"versions"`
}

// Version is one model version served: the stable one or the canary.
type Version struct {
	Track   string `json:"track"`
	Percent int    `json:"percent"`
	Model   string `json:"model"`
	// Lineage is the record URI the spec names for the model; empty
	// when it names none (a model promoted by hand).
	Lineage string  `json:"lineage,omitempty"`
	Record  *Record `json:"record,omitempty"`
	// Problem says why the record could not be read.
	Problem string `json:"problem,omitempty"`
}

// Source reads records by URI.
type Source struct {
	// Dir holds a copy of the artifact repository's bucket: s3://b/k
	// and gs://b/k are read from Dir/k.
	Dir string
}

// ErrNoStore is a record in object storage with no copy to read it from.
var ErrNoStore = errors.New("kiln reads records from a local copy of the bucket: pass --records DIR (made with 'aws s3 sync s3://BUCKET DIR' or 'gcloud storage rsync -r gs://BUCKET DIR')")

// Read loads the record at uri: file://, or s3:// and gs:// from Dir.
func (s Source) Read(uri string) (*Record, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, err
	}
	var name string
	switch u.Scheme {
	case "file":
		name = filepath.FromSlash(u.Path)
	case "s3", "gs":
		if s.Dir == "" {
			return nil, ErrNoStore
		}
		name = filepath.Join(s.Dir, filepath.FromSlash(strings.TrimPrefix(u.Path, "/")))
	default:
		return nil, fmt.Errorf("%s: want s3://, gs:// or file://", uri)
	}
	b, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no record at %s (has the run ended? its exit handler writes it)", name)
	}
	if err != nil {
		return nil, err
	}
	return Decode(b)
}

// Decode reads a stored record, refusing another apiVersion or kind and
// unknown fields.
func Decode(b []byte) (*Record, error) {
	var head struct{ APIVersion, Kind string }
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, err
	}
	if head.APIVersion != APIVersion || head.Kind != Kind {
		return nil, fmt.Errorf("not a %s %s record (apiVersion %q, kind %q)", APIVersion, Kind, head.APIVersion, head.Kind)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Trace builds the chains of sys's serving entries (of serving alone,
// if not empty), environment by environment, reading each version's
// record from src. A record that cannot be read is a Problem of its
// version, not an error: the others still show.
func Trace(sys *ir.System, serving string, src Source) []Chain {
	var out []Chain
	for _, env := range sys.Environments {
		for _, name := range slices.Sorted(maps.Keys(env.Spec.Serving)) {
			if serving != "" && name != serving {
				continue
			}
			sv := env.Spec.Serving[name]
			c := Chain{Environment: env.Name, System: sys.Name, Namespace: env.Namespace, Serving: name, Endpoint: endpoint(env, name, sv)}
			stable := Version{Track: "stable", Percent: 100, Model: sv.Model.StorageURI, Lineage: sv.Model.Lineage}
			if sv.Canary != nil {
				stable.Percent = sv.Canary.Stable()
			}
			c.Versions = append(c.Versions, stable)
			if cn := sv.Canary; cn != nil {
				c.Versions = append(c.Versions, Version{Track: "canary", Percent: cn.Percent, Model: cn.StorageURI, Lineage: cn.Lineage})
			}
			for i := range c.Versions {
				v := &c.Versions[i]
				if v.Lineage == "" {
					continue
				}
				r, err := src.Read(v.Lineage)
				if err != nil {
					v.Problem = err.Error()
					continue
				}
				v.Record = r
			}
			out = append(out, c)
		}
	}
	return out
}

func endpoint(env *ir.Environment, name string, sv *ir.Serving) string {
	if e := sv.Expose; e != nil && e.Host != "" {
		return e.Host + strings.TrimSuffix(e.Path, "/")
	}
	return strings.ReplaceAll(name, "_", "-") + "." + env.Namespace + ".svc.cluster.local"
}

// Write prints chains in format: text, json or mermaid.
func Write(w io.Writer, chains []Chain, format string) error {
	switch format {
	case "json":
		if chains == nil {
			chains = []Chain{}
		}
		b, err := json.MarshalIndent(struct {
			Chains []Chain `json:"chains"`
		}{chains}, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	case "mermaid":
		return writeMermaid(w, chains)
	case "text":
		return writeText(w, chains)
	}
	return fmt.Errorf("unknown format %q", format)
}

func writeText(w io.Writer, chains []Chain) error {
	var b strings.Builder
	for i, c := range chains {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s: %s/%s at %s\n", c.Environment, c.System, c.Serving, c.Endpoint)
		for _, v := range c.Versions {
			fmt.Fprintf(&b, "  %s %d%%: %s\n", v.Track, v.Percent, v.Model)
			switch {
			case v.Lineage == "":
				b.WriteString("    no lineage record: the spec names none (promoted without --lineage)\n")
				continue
			case v.Record == nil:
				fmt.Fprintf(&b, "    record   %s\n", v.Lineage)
				fmt.Fprintf(&b, "    unreadable: %s\n", v.Problem)
				continue
			}
			r := v.Record
			fmt.Fprintf(&b, "    record   %s\n", v.Lineage)
			run := fmt.Sprintf("%s of %s, %s", r.Run.Name, r.Of(), r.Run.Phase)
			if !r.Run.StartedAt.IsZero() {
				run += ", " + r.Run.StartedAt.Format("2006-01-02 15:04")
				if !r.Run.FinishedAt.IsZero() {
					run += " to " + r.Run.FinishedAt.Format("2006-01-02 15:04")
				}
				run += " UTC"
			}
			fmt.Fprintf(&b, "    run      %s\n", run)
			if r.Spec.Digest != "" || r.Spec.Revision != "" {
				var spec []string
				if r.Spec.Digest != "" {
					spec = append(spec, r.Spec.Digest)
				}
				if r.Spec.Revision != "" {
					spec = append(spec, "commit "+r.Spec.Revision)
				}
				fmt.Fprintf(&b, "    spec     %s\n", strings.Join(spec, ", "))
			}
			for _, d := range r.Datasets {
				s := d.Name + " " + d.URI
				if d.Version != "" {
					s += " (version " + d.Version + ")"
				}
				fmt.Fprintf(&b, "    data     %s\n", s)
			}
			if sw := r.Sweep; sw != nil {
				fmt.Fprintf(&b, "    search   %s\n", searchLine(sw))
			}
			if len(r.Parameters) > 0 {
				var ps []string
				for _, k := range slices.Sorted(maps.Keys(r.Parameters)) {
					ps = append(ps, k+"="+r.Parameters[k])
				}
				fmt.Fprintf(&b, "    params   %s\n", strings.Join(ps, " "))
			}
			if len(r.Metrics) > 0 {
				var ms []string
				for _, k := range slices.Sorted(maps.Keys(r.Metrics)) {
					ms = append(ms, fmt.Sprintf("%s=%g", k, r.Metrics[k]))
				}
				fmt.Fprintf(&b, "    metrics  %s\n", strings.Join(ms, " "))
			}
			for _, p := range r.Promotions {
				if p.ModelURI != v.Model {
					continue
				}
				s := "by step " + p.Step
				if p.PullRequest != "" {
					s += ", pull request " + p.PullRequest
				} else if p.Commit != "" {
					s += ", commit " + p.Commit
				}
				fmt.Fprintf(&b, "    promoted %s\n", s)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// searchLine sums up a sweep's search: the algorithm, the trials, the
// best one and why it stopped.
func searchLine(sw *Sweep) string {
	ok := 0
	for _, t := range sw.Trials {
		if t.Status == "Succeeded" {
			ok++
		}
	}
	s := fmt.Sprintf("%s, %s %s, %d trials (%d succeeded)", sw.Algorithm, sw.Objective.Goal, sw.Objective.Metric, len(sw.Trials), ok)
	if sw.Best != "" {
		s += ", best " + sw.Best
	}
	if sw.Stopped != "" {
		s += ": " + sw.Stopped
	}
	return s
}

// writeMermaid draws dataset → run → model → endpoint, one subgraph per
// environment. Node ids are numbered in the order nodes first appear, so
// no two URIs can share one.
func writeMermaid(w io.Writer, chains []Chain) error {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	ids := map[string]string{}
	edges := map[string]bool{}
	// node declares the node for key once and returns its id.
	node := func(key, shape string) string {
		if id, ok := ids[key]; ok {
			return id
		}
		id := fmt.Sprintf("n%d", len(ids)+1)
		ids[key] = id
		fmt.Fprintf(&b, "    %s%s\n", id, shape)
		return id
	}
	edge := func(from, label, to string) {
		if k := from + ">" + to; !edges[k] {
			edges[k] = true
			if label != "" {
				fmt.Fprintf(&b, "    %s -->|%s| %s\n", from, quote(label), to)
			} else {
				fmt.Fprintf(&b, "    %s --> %s\n", from, to)
			}
		}
	}
	var envs []string
	for _, c := range chains {
		if !slices.Contains(envs, c.Environment) {
			envs = append(envs, c.Environment)
		}
	}
	for i, env := range envs {
		fmt.Fprintf(&b, "  subgraph env%d[%s]\n", i+1, quote(env))
		for _, c := range chains {
			if c.Environment != env {
				continue
			}
			ep := node(env+"\x00serving\x00"+c.Serving, "(["+quote(c.Serving+"<br/>"+c.Endpoint)+"])")
			for _, v := range c.Versions {
				m := node(env+"\x00model\x00"+v.Model, "["+quote(v.Model)+"]")
				edge(m, fmt.Sprintf("%s %d%%", v.Track, v.Percent), ep)
				if v.Record == nil {
					continue
				}
				r := v.Record
				what := r.Pipeline
				if r.Sweep != nil {
					what = r.Of()
				}
				run := node(env+"\x00run\x00"+r.Run.Name, "["+quote("run "+r.Run.Name+"<br/>"+what+", "+r.Run.Phase)+"]")
				edge(run, "", m)
				for _, d := range r.Datasets {
					edge(node(env+"\x00data\x00"+d.URI, "[("+quote(d.Name+"<br/>"+d.URI)+")]"), "", run)
				}
			}
		}
		b.WriteString("  end\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// quote is a Mermaid label in quotes; " becomes #quot;.
func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, "#quot;") + `"` }
