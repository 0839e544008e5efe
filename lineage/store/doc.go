// Package store reads lineage records straight from the artifact
// repository: S3 (and S3-compatible stores such as MinIO) through the
// AWS SDK for Go v2 with the standard credential chain, and Google Cloud
// Storage through its JSON API over net/http with Application Default
// Credentials. It implements lineage.Store; package lineage itself stays
// free of cloud SDKs so the record writer that runs in every pipeline's
// exit handler does not carry them in its imports.
//
// Only reading is needed: a record is one small JSON object (Get), and
// finding the run that produced a model lists the records of a system
// (List, every page). Errors name the bucket and key.
package store
