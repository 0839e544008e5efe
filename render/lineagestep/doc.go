// Package lineagestep holds what the lineage step of a pipeline's run
// (render/pipeline) and of an Argo sweep's run (render/sweep) share: the
// exit handler's container that runs `kiln lineage record` and leaves
// the record as an artifact. Both store the record at the same kind of
// key (lineage.Key, with {{workflow.name}} for the run), pass the run's
// identity and the rendered spec's digest the same way, and need the
// same things of an environment to record at all; what differs (the
// pipeline's steps and parameters, the sweep's trials) stays in their
// packages.
package lineagestep
