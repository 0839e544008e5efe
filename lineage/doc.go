// Package lineage is kiln's run metadata as code: one JSON record per
// pipeline or sweep run (apiVersion kiln.dev/lineage/v1), written by the
// run's own exit handler (`kiln lineage record`, Build) into the artifact
// repository at a key anyone can compute (Key), and read back by `kiln
// lineage` (Trace, Write) to answer "which data and which run produced
// the model this environment serves?" without a metadata server.
//
// The chain is closed through Git: a pipeline's promote step writes the
// record's URI beside the model it promotes (model.lineage or
// canary.lineage), and the serving renderers annotate the model server
// with it (Annotation), so the cluster points back at the run too.
//
// The record's JSON Schema (record.schema.json) is embedded and is the
// contract: the Go type follows it, and the tests validate every record
// the writer produces against it. A change that breaks readers of v1
// records gets a new apiVersion, never an edited v1.
//
// A sweep's record holds its search (Sweep: the algorithm, the
// objective, every trial's parameters, status and metrics, the best
// trial), and the best trial's parameters and metrics as the record's
// own, so it reads like the record of a pipeline run that trained the
// best model.
//
// It imports ir and the standard library only: s3:// and gs:// records
// are read through a Store (Source.Bucket), which package store
// implements with the cloud clients, or from a local copy of the bucket
// (Source.Dir). The exit handler's `kiln lineage record` needs neither.
package lineage
