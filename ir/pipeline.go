package ir

import "encoding/json"

// Schedule is a recurring run. The schema's short form (a bare cron
// string) decodes into Cron with the defaults of the long form.
type Schedule struct {
	Cron                       string `json:"cron"`
	Timezone                   string `json:"timezone,omitempty"`
	ConcurrencyPolicy          string `json:"concurrencyPolicy"`
	StartingDeadlineSeconds    *int   `json:"startingDeadlineSeconds,omitempty"`
	Suspend                    bool   `json:"suspend"`
	SuccessfulJobsHistoryLimit int    `json:"successfulJobsHistoryLimit"`
	FailedJobsHistoryLimit     int    `json:"failedJobsHistoryLimit"`
}

// UnmarshalJSON accepts a cron string or the full form.
func (s *Schedule) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		*s = Schedule{ConcurrencyPolicy: "Forbid", SuccessfulJobsHistoryLimit: 3, FailedJobsHistoryLimit: 3}
		return json.Unmarshal(b, &s.Cron)
	}
	type plain Schedule
	return json.Unmarshal(b, (*plain)(s))
}

// Pipeline is a graph of steps.
type Pipeline struct {
	Description    string                `json:"description,omitempty"`
	Schedule       *Schedule             `json:"schedule,omitempty"`
	Parameters     map[string]*Parameter `json:"parameters,omitempty"`
	Steps          map[string]*Step      `json:"steps"`
	OnExit         string                `json:"onExit,omitempty"`
	Parallelism    int                   `json:"parallelism,omitempty"`
	MaxRuns        int                   `json:"maxRuns,omitempty"`
	Timeout        string                `json:"timeout,omitempty"`
	TTL            *TTL                  `json:"ttl,omitempty"`
	PodGC          string                `json:"podGC"`
	Security       Security              `json:"security"`
	ServiceAccount string                `json:"serviceAccount,omitempty"`
	Environments   []string              `json:"environments,omitempty"`
	Lineage        *bool                 `json:"lineage,omitempty"`
}

// KilnImage is the key in images that names the kiln image, which runs
// kiln in the cluster (promote steps, lineage records, kiln's suggester).
const KilnImage = "kiln"

// Parameter is a pipeline parameter.
type Parameter struct {
	Default     *Value   `json:"default,omitempty"`
	Description string   `json:"description,omitempty"`
	Enum        []string `json:"enum,omitempty"`
}

// TTL deletes finished runs.
type TTL struct {
	AfterCompletion *int `json:"afterCompletion,omitempty"`
	AfterSuccess    *int `json:"afterSuccess,omitempty"`
	AfterFailure    *int `json:"afterFailure,omitempty"`
}

// Step is one node of a pipeline. The compiler merges a step's component
// into it (the step's own fields win), so a renderer finds every field
// the step runs with on the step itself.
type Step struct {
	After []string `json:"after,omitempty"`
	When  string   `json:"when,omitempty"`
	// Component names the component the step's other fields were
	// completed from; a record, nothing to resolve.
	Component string            `json:"component,omitempty"`
	Training  string            `json:"training,omitempty"`
	Promote   *Promote          `json:"promote,omitempty"`
	Image     string            `json:"image,omitempty"`
	Command   []string          `json:"command,omitempty"`
	Args      []string          `json:"args,omitempty"`
	Env       map[string]EnvVar `json:"env,omitempty"`
	Resources *Resources        `json:"resources,omitempty"`
	Datasets  []string          `json:"datasets,omitempty"`
	Inputs    *StepInputs       `json:"inputs,omitempty"`
	Outputs   *StepOutputs      `json:"outputs,omitempty"`
	WithItems []Value           `json:"withItems,omitempty"`
	Retry     *Retry            `json:"retry,omitempty"`
	Timeout   string            `json:"timeout,omitempty"`
	Memoize   *Memoize          `json:"memoize,omitempty"`
}

// Promote rolls out a new model for a serving entry through Git.
type Promote struct {
	Serving           string         `json:"serving"`
	StorageURI        string         `json:"storageUri,omitempty"`
	Canary            *int           `json:"canary,omitempty"`
	Image             string         `json:"image,omitempty"`
	Repository        PromoteGitRepo `json:"repository"`
	GitHub            bool           `json:"github"`
	GitHubCredentials *SecretRef     `json:"githubCredentials,omitempty"`
}

// PromoteGitRepo is the Git repository a promote step commits to.
type PromoteGitRepo struct {
	URL         string    `json:"url"`
	Branch      string    `json:"branch,omitempty"`
	Spec        string    `json:"spec,omitempty"`
	Credentials SecretRef `json:"credentials"`
}

// Workflows describes the cluster's Argo Workflows installation.
type Workflows struct {
	Controller struct {
		Namespace      string `json:"namespace"`
		ServiceAccount string `json:"serviceAccount"`
	} `json:"controller"`
}

// StepInputs are what a step consumes.
type StepInputs struct {
	Parameters map[string]string `json:"parameters,omitempty"`
	Artifacts  []string          `json:"artifacts,omitempty"`
}

// StepOutputs are what a step produces.
type StepOutputs struct {
	Parameters []string `json:"parameters,omitempty"`
	Artifacts  []string `json:"artifacts,omitempty"`
}

// Retry retries failed attempts.
type Retry struct {
	Limit   int    `json:"limit"`
	Policy  string `json:"policy"`
	Backoff *struct {
		Duration    string `json:"duration"`
		Factor      int    `json:"factor"`
		MaxDuration string `json:"maxDuration,omitempty"`
	} `json:"backoff,omitempty"`
}

// Memoize caches step outputs.
type Memoize struct {
	MaxAge string `json:"maxAge"`
}
