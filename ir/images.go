package ir

import "strings"

// ImageBuild is how a pipeline builds one of the spec's images in the
// cluster (images.<name>.build). The compiler fills Ref and decodes the
// rest as the schema writes it.
type ImageBuild struct {
	// Ref is the images entry's ref: the repository and tag the build
	// pushes.
	Ref        string           `json:"-"`
	Context    string           `json:"context"`
	Repository *BuildRepository `json:"repository,omitempty"`
	// Credentials read the context's repository.
	Credentials *SecretRef        `json:"credentials,omitempty"`
	Dockerfile  string            `json:"dockerfile"`
	Args        map[string]string `json:"args,omitempty"`
	Push        SecretRef         `json:"push"`
	Security    string            `json:"security,omitempty"`
	Builder     string            `json:"builder"`
	Resources   Resources         `json:"resources"`
	Timeout     string            `json:"timeout,omitempty"`
}

// BuildRepository is a Git repository an image build reads.
type BuildRepository struct {
	URL      string `json:"url"`
	Revision string `json:"revision,omitempty"`
}

// BuiltImage is the long form of an images entry.
type BuiltImage struct {
	Ref   string      `json:"ref"`
	Build *ImageBuild `json:"build,omitempty"`
}

// Source is where a build's files are: the Git repository's URL, the
// revision ("" for its default branch) and the directory inside it (""
// for the root). A context that starts with https:// is a repository of
// its own, with its revision after '#'; any other is a path inside
// Repository.
func (b *ImageBuild) Source() (repo, revision, dir string) {
	if strings.HasPrefix(b.Context, "https://") {
		repo, revision, _ = strings.Cut(b.Context, "#")
		return repo, revision, ""
	}
	if b.Repository != nil {
		repo, revision = b.Repository.URL, b.Repository.Revision
	}
	if b.Context != "." {
		dir = b.Context
	}
	return repo, revision, dir
}
