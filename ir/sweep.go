package ir

// Sweep is a hyperparameter search.
type Sweep struct {
	Trial     string `json:"trial,omitempty"`
	Pipeline  string `json:"pipeline,omitempty"`
	Objective struct {
		Metric            string   `json:"metric"`
		Goal              string   `json:"goal"`
		Target            *float64 `json:"target,omitempty"`
		AdditionalMetrics []string `json:"additionalMetrics,omitempty"`
	} `json:"objective"`
	Algorithm       string                     `json:"algorithm"`
	Seed            int                        `json:"seed"`
	Parameters      map[string]*SweepParameter `json:"parameters"`
	MaxTrials       int                        `json:"maxTrials"`
	Parallel        int                        `json:"parallel"`
	MaxFailedTrials int                        `json:"maxFailedTrials"`
	TrialTimeout    string                     `json:"trialTimeout,omitempty"`
	Timeout         string                     `json:"timeout,omitempty"`
	TTL             int                        `json:"ttl"`
	Hyperband       *struct {
		Resource string `json:"resource"`
		Min      int    `json:"min"`
		Max      int    `json:"max"`
		Eta      int    `json:"eta"`
	} `json:"hyperband,omitempty"`
	EarlyStopping *struct {
		Median struct {
			MinTrials int  `json:"minTrials"`
			StartStep *int `json:"startStep,omitempty"`
		} `json:"median"`
	} `json:"earlyStopping,omitempty"`
	Suggestion *struct {
		Image   string   `json:"image"`
		Command []string `json:"command,omitempty"`
	} `json:"suggestion,omitempty"`
	Metrics struct {
		Collector string `json:"collector"`
		Path      string `json:"path,omitempty"`
	} `json:"metrics"`
	Tools struct {
		Python string `json:"python"`
		Kiln   string `json:"kiln,omitempty"`
	} `json:"tools"`
	// NAS is the architecture search of an enas or darts sweep.
	NAS          *NAS      `json:"nas,omitempty"`
	Backend      string    `json:"backend"`
	KeepHistory  bool      `json:"keepHistory"`
	Schedule     *Schedule `json:"schedule,omitempty"`
	Environments []string  `json:"environments,omitempty"`
	Lineage      *bool     `json:"lineage,omitempty"`
}

// SweepParameter is one dimension of a search space.
type SweepParameter struct {
	Type   string   `json:"type,omitempty"`
	Min    *float64 `json:"min,omitempty"`
	Max    *float64 `json:"max,omitempty"`
	Scale  string   `json:"scale"`
	Step   *float64 `json:"step,omitempty"`
	Values []Value  `json:"values,omitempty"`
}

// NAS is a neural architecture search (Katib's nasConfig).
type NAS struct {
	Layers      int   `json:"layers"`
	InputSizes  []int `json:"inputSizes,omitempty"`
	OutputSizes []int `json:"outputSizes,omitempty"`
	// Operations are each operation type's parameters, by name.
	Operations map[string]map[string]*SweepParameter `json:"operations"`
	Settings   map[string]Value                      `json:"settings,omitempty"`
}
