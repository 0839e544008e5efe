package store

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"

	"golang.org/x/oauth2/google"

	"github.com/kiln-ml/kiln/lineage"
)

// gcsEndpoint is Cloud Storage's JSON API.
const gcsEndpoint = "https://storage.googleapis.com"

// gcsScope is all kiln asks of a bucket: reading it.
const gcsScope = "https://www.googleapis.com/auth/devstorage.read_only"

// GCS is a Cloud Storage bucket, read through the JSON API.
type GCS struct {
	bucket   string
	endpoint string
	// client makes the requests: with Application Default Credentials,
	// made on first use, so a spec whose records are never read from
	// Cloud Storage needs none.
	client func(context.Context) (*http.Client, error)
}

// NewGCS opens bucket. STORAGE_EMULATOR_HOST, as Google's own clients
// read it, points kiln at an emulator, without credentials.
func NewGCS(bucket string) *GCS {
	if h := os.Getenv("STORAGE_EMULATOR_HOST"); h != "" {
		if !strings.Contains(h, "://") {
			h = "http://" + h
		}
		return NewGCSAt(bucket, h, http.DefaultClient)
	}
	var once sync.Once
	var c *http.Client
	var cerr error
	return &GCS{bucket: bucket, endpoint: gcsEndpoint, client: func(ctx context.Context) (*http.Client, error) {
		once.Do(func() {
			// The client outlives the first request's context.
			c, cerr = google.DefaultClient(context.WithoutCancel(ctx), gcsScope)
		})
		if cerr != nil {
			return nil, fmt.Errorf("gs://%s: Google Application Default Credentials: %w", bucket, cerr)
		}
		return c, nil
	}}
}

// NewGCSAt opens bucket at endpoint with client (an emulator, a test).
func NewGCSAt(bucket, endpoint string, client *http.Client) *GCS {
	return &GCS{bucket: bucket, endpoint: strings.TrimSuffix(endpoint, "/"), client: func(context.Context) (*http.Client, error) { return client, nil }}
}

// Get implements lineage.Store: the object's media.
func (g *GCS) Get(ctx context.Context, key string) ([]byte, error) {
	u := g.endpoint + "/storage/v1/b/" + url.PathEscape(g.bucket) + "/o/" + url.PathEscape(key) + "?alt=media"
	b, err := g.do(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("gs://%s/%s: %w", g.bucket, key, err)
	}
	return b, nil
}

// List implements lineage.Store: every page of the objects below prefix.
func (g *GCS) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	token := ""
	for {
		q := url.Values{"prefix": {prefix}, "fields": {"items(name),nextPageToken"}}
		if token != "" {
			q.Set("pageToken", token)
		}
		b, err := g.do(ctx, g.endpoint+"/storage/v1/b/"+url.PathEscape(g.bucket)+"/o?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("listing gs://%s/%s: %w", g.bucket, prefix, err)
		}
		var page struct {
			Items         []struct{ Name string }
			NextPageToken string
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return nil, fmt.Errorf("listing gs://%s/%s: %w", g.bucket, prefix, err)
		}
		for _, it := range page.Items {
			keys = append(keys, it.Name)
		}
		if page.NextPageToken == "" {
			return keys, nil
		}
		token = page.NextPageToken
	}
}

// do GETs u: the body of a 200, fs.ErrNotExist for a 404, else an error
// with the API's message.
func (g *GCS) do(ctx context.Context, u string) ([]byte, error) {
	c, err := g.client(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fs.ErrNotExist
	case resp.StatusCode != http.StatusOK:
		var e struct {
			Error struct{ Message string }
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			msg = e.Error.Message
		}
		return nil, fmt.Errorf("%s: %s", resp.Status, msg)
	}
	return b, nil
}

var _ lineage.Store = (*GCS)(nil)
