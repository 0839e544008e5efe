package promote

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-ml/kiln/compiler"
)

// envSpec has dev, prod and staging; prod's model is its own override,
// and the base entry has no canary.
const envSpec = `schema.#System & {
	name:      "mini"
	namespace: "ml"
	owners: ["a@b.example"]
	environments: {
		dev: {}
		prod: {
			production: true
			overrides: serving: clf: model: storageUri: "s3://m/p1"
		}
		staging: {}
	}
	serving: clf: {
		model: {format: "sklearn", storageUri: "s3://m/v1"}
		resources: {cpu: "1", memory: "1Gi"}
	}
}
`

// served compiles dir and says what each environment serves.
func served(t *testing.T, dir string) map[string]string {
	t.Helper()
	sys, diags := compiler.Compile(context.Background(), dir, compiler.Options{Cwd: dir})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	out := map[string]string{}
	for _, env := range sys.Environments {
		sv := env.Spec.Serving["clf"]
		s := sv.Model.StorageURI
		if c := sv.Canary; c != nil {
			s += fmt.Sprintf(" canary %s %d%%", c.StorageURI, c.Percent)
		}
		out[env.Name] = s
	}
	return out
}

func editsOf(res *Result) []string {
	var out []string
	for _, e := range res.Edits {
		out = append(out, e.Pos.String()+": "+e.What)
	}
	return out
}

func TestPromoteEnvironments(t *testing.T) {
	withCanary := strings.Replace(envSpec, "\t\tresources: {cpu", "\t\tcanary: {storageUri: \"s3://m/c1\", percent: 5}\n\t\tresources: {cpu", 1)
	for _, tc := range []struct {
		name   string
		src    string
		envs   []string
		canary *int
		// want is the file after the header, or "" for the source
		// with the replacements in edit.
		want   string
		edit   []string
		edits  []string
		served map[string]string
	}{{
		// prod's model is prod's own override: its literal changes,
		// byte for byte, and nothing else does.
		name:  "own override edited in place",
		src:   envSpec,
		envs:  []string{"prod"},
		edit:  []string{`storageUri: "s3://m/p1"`, `storageUri: "s3://m/v9"`},
		edits: []string{`s.cue:13:48: serving.clf.model.storageUri: "s3://m/p1" -> "s3://m/v9"`},
		served: map[string]string{
			"dev": "s3://m/v1", "prod": "s3://m/v9", "staging": "s3://m/v1",
		},
	}, {
		// dev's model is the base's, which staging shares: dev gets
		// an override, the base stays.
		name: "base value gets an override",
		src:  envSpec,
		envs: []string{"dev"},
		edit: []string{"\t\tdev: {}\n", "\t\tdev: {\n\t\t\toverrides: serving: clf: model: storageUri: \"s3://m/v9\"\n\t\t}\n"},
		edits: []string{
			`s.cue:10:3: environments.dev: added overrides: serving: clf: model: storageUri: "s3://m/v9"`,
		},
		served: map[string]string{
			"dev": "s3://m/v9", "prod": "s3://m/p1", "staging": "s3://m/v1",
		},
	}, {
		name:   "canary for one environment",
		src:    envSpec,
		envs:   []string{"prod"},
		canary: pct(10),
		edit: []string{`overrides: serving: clf: model: storageUri: "s3://m/p1"`, `overrides: serving: clf: {
				model: storageUri: "s3://m/p1"
				canary: {
					storageUri: "s3://m/v9"
					percent:    10
				}
			}`},
		edits: []string{`s.cue:13:24: environments.prod.overrides.serving.clf: added canary: {storageUri: "s3://m/v9", percent: 10}`},
		served: map[string]string{
			"dev": "s3://m/v1", "prod": "s3://m/p1 canary s3://m/v9 10%", "staging": "s3://m/v1",
		},
	}, {
		// The base's canary is staging's too: prod deletes it with
		// null.
		name: "canary in the base removed for one environment",
		src:  withCanary,
		envs: []string{"prod"},
		edit: []string{`overrides: serving: clf: model: storageUri: "s3://m/p1"`, `overrides: serving: clf: {
				model: storageUri: "s3://m/v9"
				canary: null
			}`},
		edits: []string{
			"s.cue:13:24: environments.prod.overrides.serving.clf: added canary: null",
			`s.cue:13:48: serving.clf.model.storageUri: "s3://m/p1" -> "s3://m/v9"`,
		},
		served: map[string]string{
			"dev": "s3://m/v1 canary s3://m/c1 5%", "prod": "s3://m/v9", "staging": "s3://m/v1 canary s3://m/c1 5%",
		},
	}, {
		// The base's canary changes for staging alone: the fields
		// that differ get an override.
		name:   "canary in the base changed for one environment",
		src:    withCanary,
		envs:   []string{"staging"},
		canary: pct(20),
		edit: []string{"\t\tstaging: {}\n", `		staging: {
			overrides: serving: clf: canary: {
				storageUri: "s3://m/v9"
				percent:    20
			}
		}
`},
		served: map[string]string{
			"dev": "s3://m/v1 canary s3://m/c1 5%", "prod": "s3://m/p1 canary s3://m/c1 5%", "staging": "s3://m/v1 canary s3://m/v9 20%",
		},
	}, {
		// Every environment selected: the same edits as without -e.
		name:  "all environments edit the base",
		src:   envSpec,
		envs:  []string{"dev", "prod", "staging"},
		edit:  []string{`"s3://m/p1"`, `"s3://m/v9"`, `"s3://m/v1"`, `"s3://m/v9"`},
		edits: []string{`s.cue:13:48: serving.clf.model.storageUri: "s3://m/p1" -> "s3://m/v9"`, `s.cue:18:42: serving.clf.model.storageUri: "s3://m/v1" -> "s3://m/v9"`},
		served: map[string]string{
			"dev": "s3://m/v9", "prod": "s3://m/v9", "staging": "s3://m/v9",
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := spec(t, map[string]string{"s.cue": tc.src})
			res, err := Apply(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v9", Canary: tc.canary, Environments: tc.envs})
			if err != nil {
				t.Fatal(err)
			}
			want := strings.NewReplacer(tc.edit...).Replace(tc.src)
			if d := cmp.Diff(want, read(t, dir, "s.cue")); d != "" {
				t.Errorf("file (-want +got):\n%s", d)
			}
			if tc.edits != nil {
				if d := cmp.Diff(tc.edits, editsOf(res)); d != "" {
					t.Errorf("edits (-want +got):\n%s", d)
				}
			}
			if d := cmp.Diff(tc.served, served(t, dir)); d != "" {
				t.Errorf("served (-want +got):\n%s", d)
			}
			// Promoting again changes nothing.
			res, err = Plan(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v9", Canary: tc.canary, Environments: tc.envs})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Files) != 0 {
				t.Errorf("promoting again changes %v: %v", res.Files, editsOf(res))
			}
		})
	}
}

func TestPromoteUnknownEnvironment(t *testing.T) {
	limited := strings.Replace(envSpec, "\t\tresources: {cpu", "\t\tenvironments: [\"prod\", \"staging\"]\n\t\tresources: {cpu", 1)
	for _, tc := range []struct {
		src  string
		envs []string
		want string
	}{
		{envSpec, []string{"prod", "qa"}, `the spec has no environment "qa" (it has "dev", "prod", "staging")`},
		{limited, []string{"dev", "prod"}, `serving entry "clf" is not in environment "dev" (it is in "prod", "staging")`},
	} {
		dir := spec(t, map[string]string{"s.cue": tc.src})
		_, err := Apply(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v9", Environments: tc.envs})
		var re *RequestError
		if !errors.As(err, &re) {
			t.Fatalf("err = %v, want a RequestError", err)
		}
		if err.Error() != tc.want {
			t.Errorf("err = %q, want %q", err, tc.want)
		}
		if got := read(t, dir, "s.cue"); got != tc.src {
			t.Errorf("the spec changed:\n%s", got)
		}
	}
}

// TestPromoteEnvironmentsProof: a value prod owns but reads through a let
// that staging reads too cannot change for prod alone; the proof catches
// it and nothing is written.
func TestPromoteEnvironmentsProof(t *testing.T) {
	src := "let pinned = \"s3://m/p1\"\n\n" + strings.NewReplacer(
		`overrides: serving: clf: model: storageUri: "s3://m/p1"`, `overrides: serving: clf: model: storageUri: pinned`,
		"\t\tstaging: {}", "\t\tstaging: overrides: serving: clf: model: storageUri: pinned",
	).Replace(envSpec)
	dir := spec(t, map[string]string{"s.cue": src})
	_, err := Apply(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v9", Environments: []string{"prod"}})
	if want := "after the edit, environment staging, which was not selected, would serve"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to contain %q", err, want)
	}
	if got := read(t, dir, "s.cue"); got != src {
		t.Errorf("the spec changed although the promotion failed:\n%s", got)
	}
}
