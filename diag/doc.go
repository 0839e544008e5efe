// Package diag defines kiln's one diagnostic type: a severity, the CUE path
// of the offending value, its source position (relative, slash-separated
// file:line:col), related positions and a message.
//
// Every stage reports problems as diagnostics, so a user sees every error at
// once, in the form their tools understand: text like go vet, JSON for
// programs, and GitHub Actions annotations for pull requests.
//
// diag depends on the standard library only.
package diag
