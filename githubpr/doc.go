// Package githubpr opens or updates the pull request for a branch kiln
// pushed and comments on it, through the GitHub REST API
// (github.com/google/go-github/v60). GitHub Enterprise Server is reached
// by giving its base URL.
//
// The requests it makes, in order: list the open pull requests from the
// head branch into the base; create one when there is none, otherwise
// update its title and body; then add a comment (the diff summary of the
// push). Nothing else is read or written.
package githubpr
