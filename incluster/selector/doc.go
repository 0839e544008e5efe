// Package selector ships the bookkeeping program of kiln's Argo sweeps:
// selector.py, which the sweep's WorkflowTemplate runs in its plan, adopt,
// logs, fetch, collect, record, cleanup and summary steps. It runs in the
// cluster, not in kiln, so it lives outside the renderer tree.
//
// It stays Python (standard library only) on purpose: those steps run in
// the image the spec names as tools.python, so a grid, random, Sobol or
// Hyperband sweep needs no kiln image in the cluster; only adaptive
// sweeps (Bayesian/TPE) run `kiln suggest` from the kiln image. Its own
// tests (test_selector.py, run by `go test` through TestSelectorUnits)
// cover each function; render/sweep's TestSelector* run it step by step
// on plans the renderer builds, which is the contract between the two.
package selector
