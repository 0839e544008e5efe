package ir

import "encoding/json"

// GitOps is how Argo CD finds and syncs the rendered output.
type GitOps struct {
	RepoURL           string              `json:"repoURL"`
	TargetRevision    string              `json:"targetRevision"`
	Path              string              `json:"path"`
	Namespace         string              `json:"namespace"`
	Project           string              `json:"project,omitempty"`
	SourceRepos       []string            `json:"sourceRepos,omitempty"`
	IgnoreDifferences map[string][]string `json:"ignoreDifferences,omitempty"`
	HealthChecks      bool                `json:"healthChecks"`
	Hydrator          *Hydrator           `json:"hydrator,omitempty"`
}

// ProjectName is the AppProject's name: the one the spec gives, or the
// system's.
func (g *GitOps) ProjectName(sys *System) string {
	if g.Project != "" {
		return g.Project
	}
	return sys.Name
}

// Hydrator configures Argo CD's Source Hydrator.
type Hydrator struct {
	RepoURL        string `json:"repoURL,omitempty"`
	TargetRevision string `json:"targetRevision"`
	Path           string `json:"path"`
	Plugin         string `json:"plugin"`
	BranchPrefix   string `json:"branchPrefix"`
}

// SyncPolicy is how Argo CD syncs an environment.
type SyncPolicy struct {
	Automated       bool `json:"automated"`
	Prune           bool `json:"prune"`
	SelfHeal        bool `json:"selfHeal"`
	ServerSideApply bool `json:"serverSideApply"`
	Retry           int  `json:"retry"`
}

// Patch is a kustomize patch for an environment's rendered objects.
type Patch struct {
	Target PatchTarget     `json:"target"`
	Merge  json.RawMessage `json:"merge,omitempty"`
	Ops    json.RawMessage `json:"ops,omitempty"`
}

// PatchTarget selects the objects a patch applies to, as kustomize does.
type PatchTarget struct {
	Group              string `json:"group,omitempty"`
	Version            string `json:"version,omitempty"`
	Kind               string `json:"kind"`
	Name               string `json:"name,omitempty"`
	Namespace          string `json:"namespace,omitempty"`
	LabelSelector      string `json:"labelSelector,omitempty"`
	AnnotationSelector string `json:"annotationSelector,omitempty"`
}
