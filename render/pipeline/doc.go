// Package pipeline renders pipeline entries into Argo Workflows objects:
// a WorkflowTemplate per pipeline whose entrypoint is a DAG of its steps,
// a CronWorkflow referring to it when the pipeline has a schedule, the
// environment's artifact repository ConfigMap, for memoized steps a
// cache ConfigMap with the rights the workflow controller needs to write
// it, and a semaphore ConfigMap for a pipeline that caps its runs. Steps are containers (secured and placed like every kiln pod),
// training jobs run through resource templates, or promotions that run
// `kiln promote` to change the spec in Git.
//
// Check reports what Argo would refuse at run time, or silently get
// wrong, with the position of the spec value at fault: references to
// steps, outputs, artifacts and parameters that do not exist or do not
// run before the step using them, conditions that do not parse, invalid
// cron schedules and timezones, parameters a schedule cannot supply,
// misplaced exit handlers, promotions without a model, training steps
// that would create a job twice or whose pods' names would be too long,
// and GPU steps beyond the environment's GPU budget.
package pipeline
