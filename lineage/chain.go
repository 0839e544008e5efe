package lineage

import (
	"bytes"
	"context"
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
	// Found: the spec names no record, and Lineage is the one found
	// among the environment's records that produced the model.
	Found bool `json:"found,omitempty"`
	// Problem says why the record could not be read.
	Problem string `json:"problem,omitempty"`
}

// Store is a bucket of object storage, read.
type Store interface {
	// Get reads the object at key: an error wrapping fs.ErrNotExist
	// when there is none, an error naming the bucket and key otherwise.
	Get(ctx context.Context, key string) ([]byte, error)
	// List lists the keys below prefix, every page of them.
	List(ctx context.Context, prefix string) ([]string, error)
}

// Source reads records by URI.
type Source struct {
	// Dir holds a copy of the artifact repository's bucket: s3://b/k
	// and gs://b/k are read from Dir/k. It wins over Bucket.
	Dir string
	// Bucket opens the bucket of an s3:// or gs:// URI (scheme "s3" or
	// "gs"); nil when kiln may read records from Dir only.
	Bucket func(ctx context.Context, scheme, bucket string) (Store, error)
}

// ErrNoStore is a record in object storage with no copy to read it from.
var ErrNoStore = errors.New("kiln reads records from a local copy of the bucket: pass --records DIR (made with 'aws s3 sync s3://BUCKET DIR' or 'gcloud storage rsync -r gs://BUCKET DIR')")

// store is the bucket of an object storage URI's scheme and host, or
// the local copy of it.
func (s Source) store(ctx context.Context, scheme, bucket string) (Store, error) {
	switch {
	case s.Dir != "":
		return dirStore(s.Dir), nil
	case s.Bucket == nil:
		return nil, ErrNoStore
	}
	return s.Bucket(ctx, scheme, bucket)
}

// Read loads the record at uri: file://, or s3:// and gs:// from the
// bucket (or its copy in Dir).
func (s Source) Read(ctx context.Context, uri string) (*Record, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, err
	}
	var b []byte
	switch u.Scheme {
	case "file":
		name := filepath.FromSlash(u.Path)
		b, err = os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("no record at %s (has the run ended? its exit handler writes it)", name)
		}
	case "s3", "gs":
		st, serr := s.store(ctx, u.Scheme, u.Host)
		if serr != nil {
			return nil, serr
		}
		b, err = st.Get(ctx, strings.TrimPrefix(u.Path, "/"))
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("no record at %s (has the run ended? its exit handler writes it)", where(s.Dir, uri, u))
		}
	default:
		return nil, fmt.Errorf("%s: want s3://, gs:// or file://", uri)
	}
	if err != nil {
		return nil, err
	}
	return Decode(b)
}

// where names the place a record was looked for: the file in the copy
// of the bucket, or the URI.
func where(dir, uri string, u *url.URL) string {
	if dir != "" {
		return filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(u.Path, "/")))
	}
	return uri
}

// dirStore is a local copy of a bucket: key k is the file DIR/k.
type dirStore string

func (d dirStore) Get(_ context.Context, key string) ([]byte, error) {
	return os.ReadFile(filepath.Join(string(d), filepath.FromSlash(key)))
}

func (d dirStore) List(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	err := filepath.WalkDir(string(d), func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(string(d), p)
		if k := filepath.ToSlash(rel); err == nil && strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
		return err
	})
	return keys, err
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
// version, not an error: the others still show. With search, a version
// whose spec names no record gets the newest record among the
// environment's runs (in its artifact repository) that produced its
// model, if any.
func Trace(ctx context.Context, sys *ir.System, serving string, src Source, search bool) []Chain {
	var out []Chain
	for _, env := range sys.Environments {
		var runs []found // the environment's records, listed once
		listed := false
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
					if !search {
						continue
					}
					if !listed {
						var err error
						runs, err = src.records(ctx, sys, env)
						if err != nil {
							v.Problem = err.Error()
							continue
						}
						listed = true
					}
					if f := producer(runs, v.Model); f != nil {
						v.Lineage, v.Record, v.Found = f.uri, f.r, true
					}
					continue
				}
				r, err := src.Read(ctx, v.Lineage)
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

// found is a record and where it is stored.
type found struct {
	uri string
	r   *Record
}

// records reads every record of sys's runs in env's artifact
// repository: the keys below <keyPrefix>/lineage/<namespace>/<system>/.
// One that cannot be read is passed over.
func (s Source) records(ctx context.Context, sys *ir.System, env *ir.Environment) ([]found, error) {
	var scheme, bucket, prefix string
	switch r := env.Spec.Artifacts; {
	case r != nil && r.S3 != nil:
		scheme, bucket, prefix = "s3", r.S3.Bucket, r.S3.KeyPrefix
	case r != nil && r.GCS != nil:
		scheme, bucket, prefix = "gs", r.GCS.Bucket, r.GCS.KeyPrefix
	default:
		return nil, fmt.Errorf("environment %s has no artifact repository to search for records", env.Name)
	}
	st, err := s.store(ctx, scheme, bucket)
	if err != nil {
		return nil, err
	}
	keys, err := st.List(ctx, SystemKeys(prefix, env.Namespace, sys.Name))
	if err != nil {
		return nil, err
	}
	var out []found
	for _, k := range keys {
		if !strings.HasSuffix(k, ".json") {
			continue
		}
		b, err := st.Get(ctx, k)
		if err != nil {
			continue
		}
		if r, err := Decode(b); err == nil {
			out = append(out, found{uri: scheme + "://" + bucket + "/" + k, r: r})
		}
	}
	return out, nil
}

// producer is the newest of runs that produced or promoted model.
func producer(runs []found, model string) *found {
	var best *found
	for i, f := range runs {
		if !slices.ContainsFunc(f.r.Models, func(m Model) bool { return m.URI == model }) {
			continue
		}
		if best == nil || f.r.Run.FinishedAt.After(best.r.Run.FinishedAt) ||
			f.r.Run.FinishedAt.Equal(best.r.Run.FinishedAt) && f.uri > best.uri {
			best = &runs[i]
		}
	}
	return best
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
			case v.Lineage == "" && v.Problem != "":
				fmt.Fprintf(&b, "    no lineage record named, and none found: %s\n", v.Problem)
				continue
			case v.Lineage == "":
				b.WriteString("    no lineage record: the spec names none (promoted without --lineage)\n")
				continue
			case v.Record == nil:
				fmt.Fprintf(&b, "    record   %s\n", v.Lineage)
				fmt.Fprintf(&b, "    unreadable: %s\n", v.Problem)
				continue
			}
			r := v.Record
			if v.Found {
				fmt.Fprintf(&b, "    record   %s (found: the newest run that produced the model; the spec names none)\n", v.Lineage)
			} else {
				fmt.Fprintf(&b, "    record   %s\n", v.Lineage)
			}
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
