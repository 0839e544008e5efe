package promote

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kiln-ml/kiln/compiler"
)

// lineages compiles dir and says which lineage record each environment's
// stable model and canary name.
func lineages(t *testing.T, dir string) map[string]string {
	t.Helper()
	sys, diags := compiler.Compile(context.Background(), dir, compiler.Options{Cwd: dir})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	out := map[string]string{}
	for _, env := range sys.Environments {
		sv := env.Spec.Serving["clf"]
		s := sv.Model.StorageURI + " " + sv.Model.Lineage
		if c := sv.Canary; c != nil {
			s += fmt.Sprintf(", canary %s %s", c.StorageURI, c.Lineage)
		}
		out[env.Name] = s
	}
	return out
}

const rec = "s3://runs/lineage/ml/mini/retrain/retrain-a.json"
const rec2 = "s3://runs/lineage/ml/mini/retrain/retrain-b.json"

// TestPromoteWritesLineage: the record's URI lands beside the model it
// describes, is edited in place the next time, and goes when a model is
// promoted without one (it would name the wrong run).
func TestPromoteWritesLineage(t *testing.T) {
	dir := spec(t, map[string]string{"s.cue": base})
	res, err := Apply(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v9", Lineage: rec})
	if err != nil {
		t.Fatal(err)
	}
	want := "\t\tmodel: {\n\t\t\tformat:     \"sklearn\"\n\t\t\tstorageUri: stable\n\t\t\tlineage:    \"" + rec + "\"\n\t\t}\n"
	if got := read(t, dir, "s.cue"); !strings.Contains(got, want) {
		t.Errorf("want the lineage beside storageUri:\n%s", got)
	}
	if d := cmp.Diff([]string{
		`s.cue:5:14: serving.clf.model.storageUri: "s3://m/v1" -> "s3://m/v9"`,
		`s.cue:13:34: serving.clf.canary: removed (was {storageUri: "s3://m/v2", percent: 5})`,
		`s.cue:17:42: serving.clf.model.lineage: added "` + rec + `"`,
	}, editsOf(res)); d != "" {
		t.Errorf("edits (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]string{"dev": "s3://m/v9 " + rec, "prod": "s3://m/v9 " + rec}, lineages(t, dir)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}

	res, err = Apply(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v10", Lineage: rec2})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"dev": "s3://m/v10 " + rec2, "prod": "s3://m/v10 " + rec2}, lineages(t, dir)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}

	if _, err := Apply(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v11"}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, dir, "s.cue"); strings.Contains(got, "lineage") {
		t.Errorf("the replaced model's lineage is left:\n%s", got)
	}
}

// TestPromoteCanaryWritesLineage: a canary added or edited, in the base
// and in an environment's override, names the record.
func TestPromoteCanaryWritesLineage(t *testing.T) {
	dir := spec(t, map[string]string{"s.cue": base})
	if _, err := Apply(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v9", Canary: pct(20), Lineage: rec}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{
		"dev":  "s3://m/v1 , canary s3://m/v9 " + rec,
		"prod": "s3://m/v1 , canary s3://m/v9 " + rec,
	}, lineages(t, dir)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// Promoting again changes nothing.
	again, err := Apply(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v9", Canary: pct(20), Lineage: rec})
	if err != nil || len(again.Files) != 0 {
		t.Errorf("second promotion: %v files changed, err %v", len(again.Files), err)
	}
}

// TestPromoteEnvironmentWritesLineage: promoting in one environment
// gives that environment alone the lineage, through its override.
func TestPromoteEnvironmentWritesLineage(t *testing.T) {
	dir := spec(t, map[string]string{"s.cue": envSpec})
	if _, err := Apply(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v9", Environments: []string{"staging"}, Lineage: rec}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{
		"dev":     "s3://m/v1 ",
		"prod":    "s3://m/p1 ",
		"staging": "s3://m/v9 " + rec,
	}, lineages(t, dir)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// Then without a record: staging's lineage goes, the others keep theirs.
	if _, err := Apply(context.Background(), dir, Request{Serving: "clf", ModelURI: "s3://m/v10", Environments: []string{"staging"}}); err != nil {
		t.Fatal(err)
	}
	if got := lineages(t, dir)["staging"]; got != "s3://m/v10 " {
		t.Errorf("staging: %s\n%s", got, read(t, dir, "s.cue"))
	}
}
