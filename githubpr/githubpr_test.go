package githubpr

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// request is what the fake GitHub saw.
type request struct {
	Method, Path, Query, Auth string
	Body                      map[string]any
}

// fakeGitHub implements the endpoints OpenOrUpdate uses, under /api/v3 as
// GitHub Enterprise Server serves them, and records every request.
func fakeGitHub(t *testing.T, existing, comments []map[string]any) (*httptest.Server, *[]request) {
	t.Helper()
	var seen []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization")}
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			if err := json.Unmarshal(b, &req.Body); err != nil {
				t.Errorf("%s %s: body is not JSON: %s", r.Method, r.URL.Path, b)
			}
		}
		seen = append(seen, req)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "GET" && r.URL.Path == "/api/v3/repos/acme/deploy/pulls":
			json.NewEncoder(w).Encode(existing)
		case r.Method == "POST" && r.URL.Path == "/api/v3/repos/acme/deploy/pulls":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"number": 7, "html_url": "https://github.example.com/acme/deploy/pull/7"}`)
		case r.Method == "PATCH" && strings.HasPrefix(r.URL.Path, "/api/v3/repos/acme/deploy/pulls/"):
			n := strings.TrimPrefix(r.URL.Path, "/api/v3/repos/acme/deploy/pulls/")
			fmt.Fprintf(w, `{"number": %s, "html_url": "https://github.example.com/acme/deploy/pull/%s"}`, n, n)
		case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/api/v3/repos/acme/deploy/issues/") && strings.HasSuffix(r.URL.Path, "/comments"):
			json.NewEncoder(w).Encode(comments)
		case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/comments"):
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"id": 1}`)
		case r.Method == "PATCH" && strings.HasPrefix(r.URL.Path, "/api/v3/repos/acme/deploy/issues/comments/"):
			fmt.Fprint(w, `{"id": 1}`)
		default:
			http.Error(w, `{"message": "Not Found"}`, http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func opts(url string) Options {
	return Options{
		BaseURL: url + "/",
		Token:   "gh-token",
		Owner:   "acme", Repo: "deploy",
		Head: "kiln/skin-lesion", Base: "main",
		Title: "kiln: render skin-lesion", Body: "Kiln-Spec-Revision: abc",
		Comment: "### summary",
	}
}

func TestOpensPullRequest(t *testing.T) {
	srv, seen := fakeGitHub(t, []map[string]any{}, nil)
	res, err := OpenOrUpdate(context.Background(), opts(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Number: 7, URL: "https://github.example.com/acme/deploy/pull/7", Created: true}); res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	want := []request{
		{Method: "GET", Path: "/api/v3/repos/acme/deploy/pulls", Query: "base=main&head=acme%3Akiln%2Fskin-lesion&state=open", Auth: "Bearer gh-token"},
		{Method: "POST", Path: "/api/v3/repos/acme/deploy/pulls", Auth: "Bearer gh-token", Body: map[string]any{
			"title": "kiln: render skin-lesion", "head": "kiln/skin-lesion", "base": "main", "body": "Kiln-Spec-Revision: abc",
		}},
		{Method: "POST", Path: "/api/v3/repos/acme/deploy/issues/7/comments", Auth: "Bearer gh-token", Body: map[string]any{"body": "### summary\n\n" + CommentMarker}},
	}
	if d := cmp.Diff(want, *seen); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
}

// An open pull request is updated; kiln's summary comment is edited in
// place when it has one, added when it has none.
func TestUpdatesPullRequest(t *testing.T) {
	others := []map[string]any{{"id": 40, "body": "LGTM"}}
	for name, tc := range map[string]struct {
		comments []map[string]any
		last     request
	}{
		"no summary yet": {others, request{Method: "POST", Path: "/api/v3/repos/acme/deploy/issues/12/comments", Auth: "Bearer gh-token",
			Body: map[string]any{"body": "### summary\n\n" + CommentMarker}}},
		"summary to edit": {append(others, map[string]any{"id": 41, "body": "### old\n\n" + CommentMarker}), request{Method: "PATCH", Path: "/api/v3/repos/acme/deploy/issues/comments/41", Auth: "Bearer gh-token",
			Body: map[string]any{"body": "### summary\n\n" + CommentMarker}}},
	} {
		t.Run(name, func(t *testing.T) {
			srv, seen := fakeGitHub(t, []map[string]any{{"number": 12}}, tc.comments)
			res, err := OpenOrUpdate(context.Background(), opts(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			if res.Number != 12 || res.Created {
				t.Errorf("result = %+v", res)
			}
			want := []request{
				{Method: "GET", Path: "/api/v3/repos/acme/deploy/pulls", Query: "base=main&head=acme%3Akiln%2Fskin-lesion&state=open", Auth: "Bearer gh-token"},
				{Method: "PATCH", Path: "/api/v3/repos/acme/deploy/pulls/12", Auth: "Bearer gh-token", Body: map[string]any{
					"title": "kiln: render skin-lesion", "body": "Kiln-Spec-Revision: abc",
				}},
				{Method: "GET", Path: "/api/v3/repos/acme/deploy/issues/12/comments", Query: "per_page=100", Auth: "Bearer gh-token"},
				tc.last,
			}
			if d := cmp.Diff(want, *seen); d != "" {
				t.Errorf("requests (-want +got):\n%s", d)
			}
		})
	}
}

func TestErrorsNameTheStep(t *testing.T) {
	srv, _ := fakeGitHub(t, nil, nil)
	o := opts(srv.URL)
	o.Repo = "missing"
	_, err := OpenOrUpdate(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "listing pull requests of acme/missing") || !strings.Contains(err.Error(), "404") {
		t.Errorf("err = %v", err)
	}
	o.Token = ""
	if _, err := OpenOrUpdate(context.Background(), o); err == nil || !strings.Contains(err.Error(), "GITHUB_TOKEN") {
		t.Errorf("no token: err = %v", err)
	}
}

func TestParseRepo(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/acme/deploy.git":           "acme/deploy",
		"https://github.example.com/acme/deploy":       "acme/deploy",
		"git@github.com:acme/deploy.git":               "acme/deploy",
		"ssh://git@github.com/acme/deploy.git":         "acme/deploy",
		"https://x-access-token@github.com/acme/d.git": "acme/d",
	} {
		o, r, err := ParseRepo(in)
		if err != nil || o+"/"+r != want {
			t.Errorf("ParseRepo(%q) = %q, %q, %v; want %s", in, o, r, err, want)
		}
	}
	if _, _, err := ParseRepo("deploy"); err == nil {
		t.Error("ParseRepo(deploy) succeeded")
	}
}
