package lineage

import (
	_ "embed"
	"strings"
	"time"
)

// APIVersion and Kind identify a record.
const (
	APIVersion = "kiln.dev/lineage/v1"
	Kind       = "LineageRecord"
)

// Schema is the JSON Schema of a record, draft 2020-12.
//
//go:embed record.schema.json
var Schema []byte

// Annotation is the annotation on a served model (an InferenceService or
// LLMInferenceService) that holds the URI of the lineage record of the
// run that promoted it.
const Annotation = "kiln.dev/lineage"

// Record is what one run did: what it read, with which parameters, what
// it measured and produced, and what it promoted. Fields follow
// record.schema.json.
type Record struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// URI is where the record itself is stored.
	URI         string `json:"uri,omitempty"`
	System      string `json:"system"`
	Namespace   string `json:"namespace"`
	Environment string `json:"environment"`
	// Pipeline names the pipeline that ran; Sweep is set instead for a
	// sweep's run.
	Pipeline string `json:"pipeline,omitempty"`
	Sweep    *Sweep `json:"sweep,omitempty"`
	Run      Run    `json:"run"`
	Spec     Spec   `json:"spec"`
	// Datasets are the datasets the run's steps mount or read.
	Datasets []Dataset `json:"datasets"`
	// Parameters are the run's pipeline parameters as the run saw them;
	// for a sweep, the best trial's parameters.
	Parameters map[string]string `json:"parameters"`
	// Metrics are the numeric output parameters, as step.output; for a
	// sweep, the best trial's metrics, as trial.metric.
	Metrics map[string]float64 `json:"metrics"`
	// Outputs are the other output parameters, as step.output.
	Outputs map[string]string `json:"outputs"`
	// Models are the storage URIs the run produced or promoted.
	Models []Model `json:"models"`
	// Promotions are the changes the run's promote steps made.
	Promotions []Promotion `json:"promotions"`
	// Images are the images the run built (images.<name>.build) and its
	// steps ran; absent when it built none.
	Images []Image `json:"images,omitempty"`
}

// Image is an image a run built and pushed.
type Image struct {
	// Name is the spec's images entry.
	Name string `json:"name"`
	// Ref is the reference the build pushed to (repository and tag).
	Ref string `json:"ref"`
	// Digest is what the build pushed, which the run's steps ran as
	// repository@digest; absent when the build did not finish.
	Digest string `json:"digest,omitempty"`
}

// Sweep is what a sweep's run searched and found.
type Sweep struct {
	Name      string    `json:"name"`
	Algorithm string    `json:"algorithm"`
	Objective Objective `json:"objective"`
	// Trials are the trials the run recorded, in the order they ran.
	Trials []Trial `json:"trials"`
	// Best names the best trial as the sweep's summary picked it; empty
	// when no trial reported the objective or the run ended before it.
	Best string `json:"best,omitempty"`
	// Stopped is why the search stopped, as the sweep recorded it.
	Stopped string `json:"stopped,omitempty"`
}

// Objective is the metric a sweep optimised.
type Objective struct {
	Metric string   `json:"metric"`
	Goal   string   `json:"goal"`
	Target *float64 `json:"target,omitempty"`
}

// Trial is one trial of a sweep: its parameters, how it ended and what
// it reported.
type Trial struct {
	Name string `json:"name"`
	// Status is Succeeded, Failed, Error, or NoMetric (it ran but never
	// reported the objective).
	Status     string             `json:"status"`
	Parameters map[string]string  `json:"parameters"`
	Metrics    map[string]float64 `json:"metrics"`
	// Models are the storage URIs among the outputs of a trial that ran a
	// pipeline, by the pipeline's step and output.
	Models []Model `json:"models,omitempty"`
}

// Of says what ran: "pipeline NAME" or "sweep NAME".
func (r *Record) Of() string {
	if r.Sweep != nil {
		return "sweep " + r.Sweep.Name
	}
	return "pipeline " + r.Pipeline
}

// Run identifies the workflow run.
type Run struct {
	Name string `json:"name"`
	UID  string `json:"uid,omitempty"`
	// Phase is Argo's status of the run when its exit handler ran:
	// Succeeded, Failed or Error.
	Phase      string    `json:"phase"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
}

// Spec says which spec the run ran.
type Spec struct {
	// Digest is a digest of the pipeline as kiln rendered it (before
	// kustomize patches): equal digests, equal pipelines.
	Digest string `json:"digest,omitempty"`
	// Revision is the Git commit of the spec when the run knows it: the
	// commit its promote step made.
	Revision string `json:"revision,omitempty"`
}

// Dataset is a dataset the run read.
type Dataset struct {
	Name string `json:"name"`
	URI  string `json:"uri"`
	// Version pins the data where the URI names one (an S3 versionId, a
	// GCS generation, a Hugging Face revision).
	Version string `json:"version,omitempty"`
}

// Model is a model artifact: a storage URI from an output parameter, or
// the model a promote step rolled out.
type Model struct {
	URI string `json:"uri"`
	// Step and Output name the output parameter that held it.
	Step   string `json:"step,omitempty"`
	Output string `json:"output,omitempty"`
}

// Promotion is what `kiln promote` changed in Git.
type Promotion struct {
	Step        string `json:"step,omitempty"`
	Serving     string `json:"serving"`
	Environment string `json:"environment,omitempty"`
	ModelURI    string `json:"modelUri"`
	Canary      *int   `json:"canary,omitempty"`
	// Commit is the commit pushed (to the branch, or to the pull
	// request's branch).
	Commit      string `json:"commit,omitempty"`
	PullRequest string `json:"pullRequest,omitempty"`
}

// Key is where the record of a run of a pipeline or sweep is stored in
// the artifact repository, below its key prefix.
func Key(prefix, namespace, system, pipeline, run string) string {
	return SystemKeys(prefix, namespace, system) + pipeline + "/" + run + ".json"
}

// SystemKeys is the key prefix of the records of a system's runs in a
// namespace, ending in '/'.
func SystemKeys(prefix, namespace, system string) string {
	k := "lineage/" + namespace + "/" + system + "/"
	if p := strings.Trim(prefix, "/"); p != "" {
		k = p + "/" + k
	}
	return k
}

// storageSchemes are the URI schemes of model storage kiln serves from.
var storageSchemes = []string{"s3://", "gs://", "pvc://", "hf://", "oci://", "https://", "http://", "file://"}

// IsStorageURI reports whether v looks like a storage URI.
func IsStorageURI(v string) bool {
	for _, s := range storageSchemes {
		if strings.HasPrefix(v, s) && len(v) > len(s) {
			return true
		}
	}
	return false
}
