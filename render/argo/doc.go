// Package argo holds the Argo Workflows building blocks that the pipeline
// and sweep renderers share, built from the upstream wfv1 types:
//
//   - [ContainerTemplate]: a container step secured and placed like every
//     other kiln pod (render/pod: restricted security context, GPU limits,
//     GPU product node selector and tolerations, datasets, /dev/shm), whose
//     main container gets no API token: only Argo's executor talks to the
//     API server, as the workflow service account.
//   - [TrainingTemplate]: a resource template that creates a training job
//     (render/training) owned by the workflow and waits for it to succeed
//     or fail, with workflow parameters flowing into the job's arguments.
//   - [CronWorkflow]: a recurring run of a WorkflowTemplate, and
//     [CheckSchedule], which parses its cron and timezone as Argo does.
//   - [Limit] and [SemaphoreConfigMap]: at most n runs at once (a mutex or
//     a semaphore, in the list forms).
//   - [ArtifactRepositoryConfigMap] and [ArtifactRepositoryRef]: the object
//     store, configured once per environment in a ConfigMap that templates
//     refer to, the Argo-native way.
//   - [MemoCache] and [MemoRBAC]: the ConfigMap memoized steps cache their
//     outputs in, and the rights the workflow controller needs to write it.
//   - [Wrap]: lets a wfv1 object join a render.Set and marshal without the
//     empty structs and status Argo's Go types emit.
//
// Forms are chosen to work on Argo 3.6 through 4.x: CronWorkflows use the
// schedules list, never generateName; resource conditions are label
// selectors whose keys are plain gjson paths (the only paths a label
// selector can spell), tested to parse.
package argo
