package ir

// Serving is a model served online.
type Serving struct {
	Runtime string `json:"runtime"`
	Model   struct {
		Format         string   `json:"format"`
		StorageURI     string   `json:"storageUri"`
		RuntimeVersion string   `json:"runtimeVersion,omitempty"`
		Protocol       string   `json:"protocol,omitempty"`
		Image          string   `json:"image,omitempty"`
		Args           []string `json:"args,omitempty"`
	} `json:"model"`
	Canary *struct {
		StorageURI string `json:"storageUri"`
		Percent    int    `json:"percent"`
	} `json:"canary,omitempty"`
	Replicas struct {
		Min int `json:"min"`
		Max int `json:"max"`
	} `json:"replicas"`
	Autoscale *struct {
		Metric string `json:"metric"`
		Target int    `json:"target"`
	} `json:"autoscale,omitempty"`
	Resources   Resources `json:"resources"`
	Transformer *struct {
		Image   string   `json:"image"`
		Command []string `json:"command,omitempty"`
		Args    []string `json:"args,omitempty"`
	} `json:"transformer,omitempty"`
	DeploymentMode string `json:"deploymentMode"`
	Expose         *struct {
		Host         string     `json:"host"`
		Path         string     `json:"path"`
		TLS          *SecretRef `json:"tls,omitempty"`
		CanaryHeader *struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"canaryHeader,omitempty"`
		Timeout string `json:"timeout,omitempty"`
		Retries *int   `json:"retries,omitempty"`
	} `json:"expose,omitempty"`
	Access *struct {
		Principals []string `json:"principals,omitempty"`
		Namespaces []string `json:"namespaces,omitempty"`
	} `json:"access,omitempty"`
	Security       Security   `json:"security"`
	ServiceAccount string     `json:"serviceAccount,omitempty"`
	Credentials    *SecretRef `json:"credentials,omitempty"`
	Metrics        bool       `json:"metrics"`
	Environments   []string   `json:"environments,omitempty"`
}
