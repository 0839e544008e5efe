package ir

// Notebook is a Jupyter server.
type Notebook struct {
	Image          string            `json:"image"`
	Resources      Resources         `json:"resources"`
	Workspace      Quantity          `json:"workspace,omitempty"`
	Datasets       []string          `json:"datasets,omitempty"`
	Env            map[string]EnvVar `json:"env,omitempty"`
	Security       Security          `json:"security"`
	ServiceAccount string            `json:"serviceAccount,omitempty"`
	Environments   []string          `json:"environments,omitempty"`
}
