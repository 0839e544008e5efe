package ir

import (
	"iter"
	"maps"
	"slices"
)

// The sections of a spec that hold named entries, in the order the schema
// lists them and [Entries] yields them.
const (
	SectionDatasets   = "datasets"
	SectionComponents = "components"
	SectionTraining   = "training"
	SectionPipelines  = "pipelines"
	SectionSweeps     = "sweeps"
	SectionServing    = "serving"
	SectionNotebooks  = "notebooks"
)

// Entry is one named entry of a spec, with what code that walks every
// section needs to know without a case per section.
type Entry struct {
	Section string
	Name    string
	// Path is the entry's CUE path, Path(Section, Name).
	Path string
	// Value is the entry itself: *Dataset, *Step (a component),
	// *Training, *Pipeline, *Sweep, *Serving or *Notebook.
	Value any
	// Environments limits the entry to some environments (empty: all).
	// Datasets and components have no such list.
	Environments []string
	// Schedule is a pipeline's or sweep's recurring run, if any.
	Schedule *Schedule

	remove func()
}

// Entries yields every entry of s, section by section in the schema's
// order and by name within a section. It is the one place that lists the
// sections, so a walk over all of them (name checks, environment lists,
// schedules) cannot forget one.
func Entries(s *Spec) iter.Seq[Entry] {
	return func(yield func(Entry) bool) {
		_ = section(yield, SectionDatasets, s.Datasets, func(*Dataset, *Entry) {}) &&
			section(yield, SectionComponents, s.Components, func(*Step, *Entry) {}) &&
			section(yield, SectionTraining, s.Training, func(t *Training, e *Entry) { e.Environments = t.Environments }) &&
			section(yield, SectionPipelines, s.Pipelines, func(p *Pipeline, e *Entry) {
				e.Environments, e.Schedule = p.Environments, p.Schedule
			}) &&
			section(yield, SectionSweeps, s.Sweeps, func(w *Sweep, e *Entry) {
				e.Environments, e.Schedule = w.Environments, w.Schedule
			}) &&
			section(yield, SectionServing, s.Serving, func(v *Serving, e *Entry) { e.Environments = v.Environments }) &&
			section(yield, SectionNotebooks, s.Notebooks, func(n *Notebook, e *Entry) { e.Environments = n.Environments })
	}
}

// section yields the entries of one section; false when the consumer
// stopped.
func section[T any](yield func(Entry) bool, name string, m map[string]T, fill func(T, *Entry)) bool {
	for _, key := range slices.Sorted(maps.Keys(m)) {
		e := Entry{Section: name, Name: key, Path: Path(name, key), Value: m[key], remove: func() { delete(m, key) }}
		fill(m[key], &e)
		if !yield(e) {
			return false
		}
	}
	return true
}

// Remove deletes the entry from its spec. Removing the entry [Entries]
// just yielded is safe; the walk goes on with the next.
func (e Entry) Remove() {
	if e.remove != nil {
		e.remove()
	}
}
