package ir

// Serving is a model served online.
type Serving struct {
	Runtime     string       `json:"runtime"`
	Model       ServingModel `json:"model"`
	Canary      *Canary      `json:"canary,omitempty"`
	Replicas    ReplicaRange `json:"replicas"`
	Autoscale   *Autoscale   `json:"autoscale,omitempty"`
	Resources   Resources    `json:"resources"`
	Transformer *Transformer `json:"transformer,omitempty"`
	// DeploymentMode is Knative or Standard (kserve), or their deprecated
	// names Serverless and RawDeployment, which the serving renderer maps.
	DeploymentMode string         `json:"deploymentMode"`
	Expose         *Expose        `json:"expose,omitempty"`
	Access         *ServingAccess `json:"access,omitempty"`
	Security       Security       `json:"security"`
	ServiceAccount string         `json:"serviceAccount,omitempty"`
	Credentials    *SecretRef     `json:"credentials,omitempty"`
	Metrics        bool           `json:"metrics"`
	Environments   []string       `json:"environments,omitempty"`
	// LLM serves a large language model (see LLM).
	LLM *LLM `json:"llm,omitempty"`
}

// ServingModel is the model a serving entry serves.
type ServingModel struct {
	Format         string   `json:"format"`
	StorageURI     string   `json:"storageUri"`
	Lineage        string   `json:"lineage,omitempty"`
	RuntimeVersion string   `json:"runtimeVersion,omitempty"`
	Protocol       string   `json:"protocol,omitempty"`
	Image          string   `json:"image,omitempty"`
	Args           []string `json:"args,omitempty"`
	Port           int      `json:"port"`
	Health         string   `json:"health,omitempty"`
}

// Canary is a second model version receiving a share of traffic.
type Canary struct {
	StorageURI    string `json:"storageUri"`
	Lineage       string `json:"lineage,omitempty"`
	Percent       int    `json:"percent"`
	StablePercent *int   `json:"stablePercent,omitempty"`
}

// Stable is the stable model's share of traffic.
func (c *Canary) Stable() int {
	if c.StablePercent != nil {
		return *c.StablePercent
	}
	return 100 - c.Percent
}

// ReplicaRange bounds an autoscaler.
type ReplicaRange struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// Autoscale is the metric and per-replica target an autoscaler follows.
type Autoscale struct {
	Metric string `json:"metric"`
	Target int    `json:"target"`
}

// Transformer pre- and post-processes requests.
type Transformer struct {
	Image     string     `json:"image"`
	Command   []string   `json:"command,omitempty"`
	Args      []string   `json:"args,omitempty"`
	Resources *Resources `json:"resources,omitempty"`
}

// Expose publishes a model through an Istio ingress gateway.
type Expose struct {
	Host            string            `json:"host"`
	Path            string            `json:"path"`
	Gateway         string            `json:"gateway,omitempty"`
	GatewaySelector map[string]string `json:"gatewaySelector,omitempty"`
	TLS             *SecretRef        `json:"tls,omitempty"`
	CanaryHeader    *CanaryHeader     `json:"canaryHeader,omitempty"`
	Timeout         string            `json:"timeout,omitempty"`
	Retries         *int              `json:"retries,omitempty"`
}

// CanaryHeader routes requests carrying a header to the canary.
type CanaryHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ServingAccess limits who may call a model.
type ServingAccess struct {
	Principals []string `json:"principals,omitempty"`
	Namespaces []string `json:"namespaces,omitempty"`
}
