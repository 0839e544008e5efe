package storetest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// PageSize is how many keys a listing returns at once.
const PageSize = 2

// Server is a fake object store over a directory.
type Server struct {
	*httptest.Server
	dir  string
	mu   sync.Mutex
	seen []string
}

// New serves dir; Close it when done.
func New(dir string) *Server {
	s := &Server{dir: dir}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Requests are the requests served so far, one line each: "s3 list
// BUCKET prefix=P token=T", "s3 get BUCKET KEY", "gcs list …", "gcs get
// BUCKET KEY alt=media".
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

func (s *Server) log(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, fmt.Sprintf(format, args...))
}

// keys lists bucket's keys below prefix, sorted.
func (s *Server) keys(bucket, prefix string) []string {
	root := filepath.Join(s.dir, bucket)
	var keys []string
	_ = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if k := filepath.ToSlash(rel); strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
		return nil
	})
	slices.Sort(keys)
	return keys
}

// page is the page of keys a token (an offset) starts.
func page(keys []string, token string) ([]string, string) {
	start, _ := strconv.Atoi(token)
	start = min(max(start, 0), len(keys))
	end := min(start+PageSize, len(keys))
	next := ""
	if end < len(keys) {
		next = strconv.Itoa(end)
	}
	return keys[start:end], next
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "read only", http.StatusMethodNotAllowed)
		return
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/storage/v1/b/"); ok {
		s.gcs(w, r, rest)
		return
	}
	s.s3(w, r)
}

func (s *Server) s3(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if q.Get("list-type") == "2" {
		s.log("s3 list %s prefix=%s token=%s", bucket, q.Get("prefix"), q.Get("continuation-token"))
		keys, next := page(s.keys(bucket, q.Get("prefix")), q.Get("continuation-token"))
		type content struct{ Key string }
		res := struct {
			XMLName               xml.Name `xml:"ListBucketResult"`
			Name                  string
			Prefix                string
			KeyCount              int
			IsTruncated           bool
			Contents              []content
			NextContinuationToken string `xml:",omitempty"`
		}{Name: bucket, Prefix: q.Get("prefix"), KeyCount: len(keys), IsTruncated: next != "", NextContinuationToken: next}
		for _, k := range keys {
			res.Contents = append(res.Contents, content{k})
		}
		w.Header().Set("Content-Type", "application/xml")
		_ = xml.NewEncoder(w).Encode(res)
		return
	}
	s.log("s3 get %s %s", bucket, key)
	b, err := os.ReadFile(filepath.Join(s.dir, bucket, filepath.FromSlash(key)))
	if err != nil {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>%s</Key></Error>", key)
		return
	}
	_, _ = w.Write(b)
}

func (s *Server) gcs(w http.ResponseWriter, r *http.Request, rest string) {
	q := r.URL.Query()
	bucket, obj, _ := strings.Cut(rest, "/o")
	if obj == "" {
		s.log("gcs list %s prefix=%s token=%s", bucket, q.Get("prefix"), q.Get("pageToken"))
		keys, next := page(s.keys(bucket, q.Get("prefix")), q.Get("pageToken"))
		type item struct {
			Name string `json:"name"`
		}
		res := struct {
			Items         []item `json:"items,omitempty"`
			NextPageToken string `json:"nextPageToken,omitempty"`
		}{NextPageToken: next}
		for _, k := range keys {
			res.Items = append(res.Items, item{k})
		}
		_ = json.NewEncoder(w).Encode(res)
		return
	}
	key := strings.TrimPrefix(obj, "/")
	s.log("gcs get %s %s alt=%s", bucket, key, q.Get("alt"))
	b, err := os.ReadFile(filepath.Join(s.dir, bucket, filepath.FromSlash(key)))
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error":{"code":404,"message":"No such object: %s/%s"}}`, bucket, key)
		return
	}
	_, _ = w.Write(b)
}
