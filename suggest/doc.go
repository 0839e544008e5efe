// Package suggest is kiln's reference suggester for adaptive sweeps
// (algorithm "tpe" and "bayesian" with the Argo backend): given the
// history of a sweep, it proposes the next trials with a Tree-structured
// Parzen Estimator.
//
// It runs in the cluster as `kiln suggest`, the suggest step of a sweep
// workflow, in the kiln image. The contract is the one any suggestion
// image follows: read the request JSON from the file named by
// $KILN_SWEEP_REQUEST, write the next trials as a JSON list of
// {"<parameter>": value} objects, at most "count" of them, to the file
// named by $KILN_SWEEP_NEXT. The sweep's adopt step checks and names what
// it proposes.
//
// TPE splits the trials that reported the objective into the best
// quarter and the rest, models the density of each group's parameter
// values with a mixture of truncated Gaussians around the observed values
// (a frequency table for categorical parameters), and proposes, among
// candidates drawn from the good density, the one that maximises the
// ratio of good to bad density (which maximises expected improvement).
// Parameters are modelled independently; log-scale ranges in orders of
// magnitude; ints and steps are rounded after drawing. The first trials,
// before there is anything to model, are random. Failed trials count
// among the bad ones, so the search moves away from where trials fail;
// trials proposed in the same batch count as bad too (a "constant liar"),
// so one batch spreads out. Everything is drawn from a generator seeded
// with the sweep's seed and the history's length: the same request gives
// the same trials.
package suggest
