// Package lineage is kiln's run metadata as code: one JSON record per
// pipeline run (apiVersion kiln.dev/lineage/v1), written by the run's own
// exit handler (`kiln lineage record`) into the artifact repository at a
// key anyone can compute, and read back by `kiln lineage` to answer
// "which data and which run produced the model this environment serves?"
// without a metadata server.
//
// The record's JSON Schema (record.schema.json) is embedded and is the
// contract: the Go type follows it, and the tests validate every record
// the writer produces against it. A change that breaks readers of v1
// records gets a new apiVersion, never an edited v1.
package lineage
