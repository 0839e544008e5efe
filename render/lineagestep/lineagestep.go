package lineagestep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/lineage"
	"github.com/kiln-ml/kiln/render"
)

// File is where the step writes the record, which Argo's wait container
// then uploads.
const File = "/tmp/lineage/record.json"

// Output is the workflow's global output parameter holding the URI of
// the run's lineage record.
const Output = "kiln-lineage"

// Resources of the step's container: it writes one small file (a sweep's
// history of 1000 trials is a few hundred kB more), but kiln itself
// holds about 72 MB resident when it starts.
var Resources = ir.Resources{CPU: "50m", Memory: "128Mi"}

// Key is the record's key in env's artifact repository for a run of the
// pipeline or sweep name, with {{workflow.name}} for the run; "" when
// env has no repository.
func Key(sys *ir.System, env *ir.Environment, name string) string {
	var prefix string
	switch r := env.Spec.Artifacts; {
	case r == nil:
		return ""
	case r.S3 != nil:
		prefix = r.S3.KeyPrefix
	case r.GCS != nil:
		prefix = r.GCS.KeyPrefix
	default:
		return ""
	}
	return lineage.Key(prefix, env.Namespace, sys.Name, render.ObjectName(name), "{{workflow.name}}")
}

// URI is where a run of the pipeline or sweep name stores its record
// (Key in the repository's bucket); "" when env has no repository.
func URI(sys *ir.System, env *ir.Environment, name string) string {
	switch r := env.Spec.Artifacts; {
	case r == nil:
	case r.S3 != nil:
		return "s3://" + r.S3.Bucket + "/" + Key(sys, env, name)
	case r.GCS != nil:
		return "gs://" + r.GCS.Bucket + "/" + Key(sys, env, name)
	}
	return ""
}

// Missing says why runs in env cannot write their record with image (""
// when they can): the record needs an artifact repository to be stored
// in and a kiln image to be written with. where, if set, follows the
// advice to name the image in images.kiln (another place to name it).
func Missing(env *ir.Environment, image, where string) string {
	switch r := env.Spec.Artifacts; {
	case r == nil || (r.S3 == nil) == (r.GCS == nil):
		return "environment " + env.Name + " has no artifact repository to store the record in (artifacts.s3 or artifacts.gcs)"
	case image == "":
		msg := "the system has no kiln image to write the record with: build one with 'make image IMAGE=<registry>/kiln:<tag>' in kiln's repository and name it in images." + ir.KilnImage
		if where != "" {
			msg += " (or in " + where + ")"
		}
		return msg
	}
	return ""
}

// RunArgs are the flags of `kiln lineage record` that say which run it
// was, as Argo fills them in when the exit handler runs, and the digest
// of the spec kiln rendered.
func RunArgs(digest string) []string {
	return []string{
		"--run-name", "{{workflow.name}}",
		"--run-uid", "{{workflow.uid}}",
		"--phase", "{{workflow.status}}",
		"--started", "{{workflow.creationTimestamp}}",
		"--spec-digest", digest,
	}
}

// DatasetArgs are the --dataset NAME=URI flags of the datasets named
// that env defines, by name.
func DatasetArgs(env *ir.Environment, names map[string]bool) []string {
	var args []string
	for _, d := range slices.Sorted(maps.Keys(names)) {
		if ds := env.Spec.Datasets[d]; ds != nil {
			args = append(args, "--dataset", d+"="+ds.URI)
		}
	}
	return args
}

// Digest is the digest of a rendered workflow spec and of any other
// parts of what runs (a sweep's plan), each after a NUL byte: it changes
// when what the runs do changes, never with the run or the time.
func Digest(spec *wfv1.WorkflowSpec, parts ...[]byte) string {
	b, err := json.Marshal(spec)
	if err != nil {
		panic("lineagestep: " + err.Error()) // a typed spec always marshals
	}
	h := sha256.New()
	h.Write(b)
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write(p)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Outputs are the step's outputs for a run of the pipeline or sweep
// name: the record's URI, read from uriFile, as the parameter uri
// (exported as the workflow's Output), and the record, stored as it is
// (no archive) at Key in env's repository.
func Outputs(sys *ir.System, env *ir.Environment, name, uriFile string) wfv1.Outputs {
	var loc wfv1.ArtifactLocation
	switch r := env.Spec.Artifacts; {
	case r == nil:
	case r.S3 != nil:
		loc.S3 = &wfv1.S3Artifact{Key: Key(sys, env, name)}
	case r.GCS != nil:
		loc.GCS = &wfv1.GCSArtifact{Key: Key(sys, env, name)}
	}
	return wfv1.Outputs{
		Parameters: []wfv1.Parameter{{
			Name:       "uri",
			GlobalName: Output,
			ValueFrom:  &wfv1.ValueFrom{Path: uriFile, Default: wfv1.AnyStringPtr("")},
		}},
		Artifacts: []wfv1.Artifact{{
			Name:             "record",
			Path:             File,
			Archive:          &wfv1.ArchiveStrategy{None: &wfv1.NoneStrategy{}},
			ArtifactLocation: loc,
		}},
	}
}
