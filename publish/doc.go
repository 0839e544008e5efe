// Package publish commits changes to a Git repository and pushes them,
// safely when others push to the same branch at the same time.
//
// It drives the git binary (os/exec) rather than a Go implementation: git is
// what CI images and developers already have, it speaks every transport and
// credential setup a team uses (SSH agents, HTTPS, insteadOf rewrites,
// proxies) and it behaves exactly as the git a user would run by hand. The
// cost is a dependency on git >= 2.31 being on PATH, which the error says.
//
// A publish works in a fresh temporary clone, never in the user's own
// checkout: it fetches the target branch (or the base branch when the target
// does not exist yet), lets the caller change the work tree, commits when
// anything changed, and pushes without force. When the push is rejected
// because the branch moved (a concurrent publish), it fetches the new head,
// resets onto it, runs the caller's change again on top and retries, a
// bounded number of times; both changes survive and history is never
// rewritten.
//
// An HTTPS token is passed to git as an Authorization header through the
// GIT_CONFIG_* environment of the git process only: it is never written to
// the clone's configuration, the remote URL or any message (errors have it
// masked).
//
// A change is a function of the clone's directory. [Tree] is the change
// `kiln publish` makes: rendered files written under a path as
// render/write writes them, with diff's report of what changed. The
// package knows nothing of specs (style: publish → git, GitHub, never ir).
package publish
