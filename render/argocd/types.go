package argocd

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Group, Version and APIVersion of Argo CD's resources.
const (
	Group      = "argoproj.io"
	Version    = "v1alpha1"
	APIVersion = Group + "/" + Version
)

// AppProject is argoproj.io/v1alpha1 AppProject.
type AppProject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              AppProjectSpec `json:"spec"`
}

// AppProjectSpec holds the fields kiln sets.
type AppProjectSpec struct {
	Description                string        `json:"description,omitempty"`
	SourceRepos                []string      `json:"sourceRepos"`
	Destinations               []Destination `json:"destinations"`
	ClusterResourceWhitelist   []GroupKind   `json:"clusterResourceWhitelist"`
	NamespaceResourceWhitelist []GroupKind   `json:"namespaceResourceWhitelist"`
}

// GroupKind names a kind; the core group is "" and must be written out.
type GroupKind struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
}

// Destination is a cluster (by server URL or by name) and a namespace.
type Destination struct {
	Server    string `json:"server,omitempty"`
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// Application is argoproj.io/v1alpha1 Application.
type Application struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ApplicationSpec `json:"spec"`
}

// ApplicationSpec holds the fields kiln sets. Exactly one of Source and
// SourceHydrator is set.
type ApplicationSpec struct {
	Project           string              `json:"project"`
	Source            *Source             `json:"source,omitempty"`
	SourceHydrator    *SourceHydrator     `json:"sourceHydrator,omitempty"`
	Destination       Destination         `json:"destination"`
	SyncPolicy        *SyncPolicy         `json:"syncPolicy,omitempty"`
	IgnoreDifferences []IgnoreDifferences `json:"ignoreDifferences,omitempty"`
}

// Source is a directory of a Git repository at a revision.
type Source struct {
	RepoURL        string `json:"repoURL"`
	TargetRevision string `json:"targetRevision,omitempty"`
	Path           string `json:"path"`
}

// SourceHydrator is Argo CD's Source Hydrator (3.5+): Argo CD renders the
// dry source and commits the result to the sync source's branch, which it
// then syncs.
type SourceHydrator struct {
	DrySource  DrySource  `json:"drySource"`
	SyncSource SyncSource `json:"syncSource"`
}

// DrySource is where the spec lives and how it is rendered.
type DrySource struct {
	RepoURL        string        `json:"repoURL"`
	TargetRevision string        `json:"targetRevision"`
	Path           string        `json:"path"`
	Plugin         *PluginSource `json:"plugin,omitempty"`
}

// PluginSource selects a config management plugin and its environment.
// Argo CD passes each variable to the plugin prefixed with ARGOCD_ENV_.
type PluginSource struct {
	Name string      `json:"name"`
	Env  []PluginEnv `json:"env,omitempty"`
}

// PluginEnv is one environment variable for a plugin.
type PluginEnv struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SyncSource is the branch and path the hydrated manifests are committed
// to and synced from.
type SyncSource struct {
	// RepoURL is empty when it is the dry source's repository.
	RepoURL      string `json:"repoURL,omitempty"`
	TargetBranch string `json:"targetBranch"`
	Path         string `json:"path"`
}

// SyncPolicy is how Argo CD syncs.
type SyncPolicy struct {
	Automated   *Automated `json:"automated,omitempty"`
	SyncOptions []string   `json:"syncOptions,omitempty"`
	Retry       *Retry     `json:"retry,omitempty"`
}

// Automated syncs on every change in Git.
type Automated struct {
	Prune    bool `json:"prune"`
	SelfHeal bool `json:"selfHeal"`
}

// Retry retries a failed sync with exponential backoff.
type Retry struct {
	Limit   int64    `json:"limit"`
	Backoff *Backoff `json:"backoff,omitempty"`
}

// Backoff is the retry schedule.
type Backoff struct {
	Duration    string `json:"duration"`
	Factor      int64  `json:"factor"`
	MaxDuration string `json:"maxDuration"`
}

// IgnoreDifferences lists the fields of a kind Argo CD does not compare.
type IgnoreDifferences struct {
	Group             string   `json:"group,omitempty"`
	Kind              string   `json:"kind"`
	Name              string   `json:"name,omitempty"`
	JSONPointers      []string `json:"jsonPointers,omitempty"`
	JQPathExpressions []string `json:"jqPathExpressions,omitempty"`
}
