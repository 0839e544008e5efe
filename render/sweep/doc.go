// Package sweep renders sweeps.<name>: hyperparameter searches over a
// training job or a pipeline.
//
// With the Argo backend (the default) a sweep becomes a WorkflowTemplate
// (and a CronWorkflow when scheduled) that runs the search with no
// controller of its own: grid, random and Sobol trials are expanded at
// compile time by package sample; Hyperband's brackets are planned at
// compile time and the survivors of each rung are picked in the
// workflow; Bayesian optimisation and TPE ask a suggestion container the
// user chooses for each batch. Trials run in rounds of `parallel`; after
// each round a step records the trials' metrics and decides whether the
// sweep is done (target reached, too many failures, budget spent). The
// best trial's parameters and metric become the workflow's outputs and a
// summary of every trial an artifact. A trial of a single-pod training job
// is a container step (Argo captures its stdout or metrics file); of a
// distributed job, the job created by a resource template and its chief's
// log read with kubectl; of a pipeline, a run of the pipeline's
// WorkflowTemplate whose steps' output parameters are the metrics. The
// bookkeeping is a small Python program (selector.py, standard library
// only) kept beside the workflow in a ConfigMap; its behaviour is tested
// from Go on recorded metrics.
//
// With the Katib backend a sweep becomes a Katib Experiment whose trial
// template is the training job render/training renders, with the
// parameters as ${trialParameters.<name>} in its args.
//
// Check reports what would make a search meaningless or fail on the
// cluster, with the spec's position and CUE path.
package sweep
