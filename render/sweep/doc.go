// Package sweep renders sweeps.<name>: hyperparameter searches over a
// training job or a pipeline.
//
// With the Argo backend (the default) a sweep becomes a WorkflowTemplate
// (and a CronWorkflow when scheduled) that runs the search with no
// controller of its own: grid, random and Sobol trials are expanded at
// compile time by package sample; Hyperband's brackets are planned at
// compile time and the survivors of each rung are picked in the
// workflow; Bayesian optimisation and TPE ask a suggestion container for
// each batch: kiln's own TPE (`kiln suggest` in the kiln image, package
// suggest) unless the sweep names an image of its own. Trials run in
// rounds of `parallel`; after each round a step records the trials'
// metrics and decides whether the sweep is done (target reached, more
// failures than maxFailedTrials, budget spent). The best trial's
// parameters and metric become the workflow's outputs and a summary of
// every trial an artifact. A trial of a single-pod training job is a
// container step, labelled with the trial (its pod is kept for its log,
// and retried only when the pod was lost); of a distributed job, the job
// created by a resource template; of a pipeline, a run of the pipeline's
// WorkflowTemplate whose steps' output parameters are the metrics. Then a
// reader step streams the trial pod's log (or reads the run's outputs)
// through the API and hands on only the sweep's metric lines: a trial's
// stdout never passes through an Argo parameter, which the workflow
// object (at most 1 MiB) would keep. The bookkeeping is a small Python
// program (incluster/selector's selector.py, standard library only) kept
// beside the workflow in a ConfigMap; TestSelector* run it step by step
// on the plans this package builds, with recorded metrics.
// A run is bounded: a ttl, a deadline (the sweep's timeout, or derived
// from trialTimeout), and a mutex so that one run of a sweep holds GPUs
// at a time. Its exit handler writes the run's lineage record, as a
// pipeline's does (`kiln lineage record --sweep`, package lineage): each
// round's history and the summary's best trial are workflow-global
// outputs, so a run stopped mid-way records the rounds it finished.
//
// With the Katib backend a sweep becomes a Katib Experiment whose trial
// template is the training job render/training renders, with the
// parameters as ${trialParameters.<name>} in its args. A Trainer v2
// entry's trial is a TrainJob, judged by its Complete and Failed
// conditions with the metrics read from the first node (or the MPI
// launcher), when the environment says its katib-config runs TrainJobs
// (katib.trainJobs); otherwise it is an error. With algorithm "enas" or
// "darts" the Experiment searches architectures (nasConfig, from the
// sweep's nas) and each trial gets the architecture Katib's NAS service
// proposes as args; the Argo backend has no NAS. A Katib sweep writes no
// lineage record: an Experiment has no exit handler, nothing of kiln's
// runs when it ends.
//
// Check reports what would make a search meaningless or fail on the
// cluster, with the spec's position and CUE path.
package sweep
