package ir

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Entries walks every section in the schema's order, names sorted, with
// each entry's environments and schedule; removing an entry during the
// walk removes it from the spec and the walk goes on.
func TestEntries(t *testing.T) {
	nightly := &Schedule{Cron: "0 2 * * *"}
	s := &Spec{
		Datasets:   map[string]*Dataset{"images": {}},
		Components: map[string]*Step{"fetch": {}},
		Training:   map[string]*Training{"resnet": {Environments: []string{"prod"}}, "bert": {}},
		Pipelines:  map[string]*Pipeline{"retrain": {Schedule: nightly, Environments: []string{"dev"}}},
		Sweeps:     map[string]*Sweep{"tune": {Schedule: nightly}},
		Serving:    map[string]*Serving{"web": {Environments: []string{"dev", "prod"}}},
		Notebooks:  map[string]*Notebook{"lab": {}},
	}
	type row struct {
		Path         string
		Envs         []string
		Scheduled    bool
		SameValueAsS bool
	}
	var got []row
	for e := range Entries(s) {
		same := false
		switch v := e.Value.(type) {
		case *Dataset:
			same = v == s.Datasets[e.Name]
		case *Step:
			same = v == s.Components[e.Name]
		case *Training:
			same = v == s.Training[e.Name]
		case *Pipeline:
			same = v == s.Pipelines[e.Name]
		case *Sweep:
			same = v == s.Sweeps[e.Name]
		case *Serving:
			same = v == s.Serving[e.Name]
		case *Notebook:
			same = v == s.Notebooks[e.Name]
		}
		if e.Path != Path(e.Section, e.Name) {
			t.Errorf("%s.%s: path %q", e.Section, e.Name, e.Path)
		}
		got = append(got, row{e.Path, e.Environments, e.Schedule == nightly, same})
	}
	want := []row{
		{"datasets.images", nil, false, true},
		{"components.fetch", nil, false, true},
		{"training.bert", nil, false, true},
		{"training.resnet", []string{"prod"}, false, true},
		{"pipelines.retrain", []string{"dev"}, true, true},
		{"sweeps.tune", nil, true, true},
		{"serving.web", []string{"dev", "prod"}, false, true},
		{"notebooks.lab", nil, false, true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	// Stopping early stops the walk.
	n := 0
	for range Entries(s) {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("break after 3 entries saw %d", n)
	}

	var seen []string
	for e := range Entries(s) {
		seen = append(seen, e.Path)
		if e.Section == SectionTraining || e.Name == "tune" {
			e.Remove()
		}
	}
	if len(seen) != len(want) || len(s.Training) != 0 || len(s.Sweeps) != 0 || len(s.Pipelines) != 1 {
		t.Errorf("remove during the walk: saw %v, left training %v, sweeps %v", seen, s.Training, s.Sweeps)
	}
}
