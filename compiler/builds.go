package compiler

import (
	"maps"
	"net/url"
	"path"
	"reflect"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/ir"
)

// Image builds (images.<name>.build) run Kaniko in a pipeline step. The
// checks here are those CUE's patterns cannot say clearly: the two forms
// of a build's context, and the Pod Security level the build needs.

// checkBuilds checks every image build of the environment.
func (k checker) checkBuilds() {
	s := k.env.Spec
	for _, name := range slices.Sorted(maps.Keys(s.Builds)) {
		b := s.Builds[name]
		p := ir.Path("images", name, "build")
		if !nameRE.MatchString(name) || len(name) > maxNameLen {
			// It names the build's step in every pipeline that runs it.
			k.errorf(p, "a built image's name names its pipeline step (build-%s): use at most %d lowercase letters, digits, '-' or '_', starting with a letter and ending with a letter or digit", name, maxNameLen)
		}
		if b.Security != "baseline" {
			// Never a silent default: the build loosens its namespace.
			k.errorf(p, `an image build runs Kaniko as root, which Pod Security "restricted" forbids (no builder runs under it: BuildKit's rootless mode needs seccomp and AppArmor unconfined, which even baseline forbids); set security: "baseline" on the build to run it under baseline, which its pipeline's namespace then enforces`)
		}
		if strings.Contains(b.Ref, "@") {
			k.errorf(ir.Path("images", name, "ref"), "%q names a digest, which only the build knows once it has pushed: give a built image a repository and tag (the pipeline's steps then run the digest the build pushed)", b.Ref)
		}
		k.checkBuildContext(p, b)
		// Builds are no field of the IR's spec (they come from the long
		// form of images), so the spec-wide walk does not see them.
		bounds{report: func(path, format string, args ...any) { k.errorf(path, format, args...) }}.walk(p, reflect.ValueOf(b))
		for _, other := range slices.Sorted(maps.Keys(s.Images)) {
			if other != name && s.Images[other] == b.Ref {
				k.errorf(ir.Path("images", name, "ref"), "images.%s has the same reference %q: a pipeline could not tell which of the two its steps run, the one it builds or the other; give the built image a reference of its own", other, b.Ref)
			}
		}
		for _, arg := range slices.Sorted(maps.Keys(b.Args)) {
			ap := ir.Join(p, "args", arg)
			if why := looksLikeCredential(arg, b.Args[arg]); why != "" && !k.notSecret(ap) {
				k.errorf(ap, "this build argument %s, and kiln would write it in plain text into the pipeline: keep credentials out of build arguments (build.credentials reads the repository, build.push pushes), or, if it is not a secret, mark the field @kiln(notsecret)", why)
			}
		}
	}
}

// checkBuildContext checks the two forms of a build's context: a path
// inside build.repository, or a Git repository's HTTPS URL with an
// optional revision after '#'.
func (k checker) checkBuildContext(p string, b *ir.ImageBuild) {
	cp := ir.Join(p, "context")
	c := b.Context
	if ok := strings.HasPrefix(c, "https://"); ok || strings.Contains(c, "://") || strings.HasPrefix(c, "git@") {
		repo, rev, _ := b.Source()
		u, err := url.Parse(repo)
		switch {
		case !ok:
			k.errorf(cp, "context %q: a build reads a Git repository over HTTPS (https://host/org/repo.git, optionally #branch, tag or commit) or a path inside build.repository; Kaniko clones nothing else", c)
		case err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "":
			k.errorf(cp, "context %q: want https://host/org/repo.git, optionally followed by #branch, tag or commit", c)
		case u.User != nil:
			k.errorf(cp, "context %q holds credentials, which kiln would write in plain text into the pipeline: name a Secret with a token in build.credentials instead", c)
		case u.RawQuery != "":
			k.errorf(cp, "context %q: a Git URL takes no query", c)
		case strings.Contains(c, "#") && (rev == "" || strings.Contains(rev, "#")):
			k.errorf(cp, "context %q: after '#' comes one branch, tag or commit", c)
		case b.Repository != nil:
			k.errorf(ir.Join(p, "repository"), "the context %q is a repository of its own: repository is for a path context; drop one of them", c)
		}
		return
	}
	switch {
	case strings.HasPrefix(c, "/"):
		k.errorf(cp, "context %q: a path context is relative to the root of build.repository, not absolute", c)
	case strings.Contains(c, `\`):
		k.errorf(cp, "context %q: paths are slash-separated", c)
	case c != "." && path.Clean(c) != c || c == ".." || strings.HasPrefix(c, "../"):
		k.errorf(cp, "context %q: write the path inside the repository without ., .. or trailing slashes (%q)", c, cleanContext(c))
	case b.Repository == nil:
		k.errorf(cp, "context %q is a path inside a Git repository, which the build clones in the cluster: name it in build.repository (url, and revision for a branch, tag or commit), or make context a Git URL", c)
	}
}

// cleanContext is the form of a path context the check suggests.
func cleanContext(c string) string {
	c = path.Clean(c)
	for strings.HasPrefix(c, "../") || c == ".." {
		c = strings.TrimPrefix(strings.TrimPrefix(c, ".."), "/")
	}
	if c == "" {
		return "."
	}
	return c
}
