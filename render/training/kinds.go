package training

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/render"
)

// healthCheck is Argo CD's health check for every job kind: the operators
// share the status layout.
//
//go:embed health.lua
var healthCheck string

// MaxConditions is how many entries of a job's status.conditions the
// failure condition looks at. The Kubeflow operators keep one condition
// per type (Created, Running, Restarting, Succeeded, Failed, Suspended,
// and a few more in newer releases), so eight covers every position a
// Failed condition can take.
const MaxConditions = 8

// jobConditions are the success and failure conditions of a resource
// template that runs a Kubeflow training job (the training operator's
// kubeflow.org/v1 jobs and the MPI operator's v2beta1 MPIJob share the
// status layout): conditions of {type, status} in status.conditions, and
// status.completionTime once the job has ended.
//
// Argo evaluates them as label selectors whose keys are gjson paths into
// the object. A selector key must be a qualified name, so gjson queries
// (conditions.#(type=="Failed")) cannot be spelled; plain indices can.
// Argo fails the step if any failure requirement matches, so the failure
// condition lists "status.conditions.<i>.type==Failed" for every position i.
// Success needs all of its requirements, so it cannot search the list;
// it is the completion time instead, which the operators set in the same
// status update as the Succeeded or Failed condition. Argo checks the
// failure condition first, so a failed job never counts as a success.
func jobConditions() (success, failure string) {
	reqs := make([]string, MaxConditions)
	for i := range reqs {
		reqs[i] = fmt.Sprintf("status.conditions.%d.type==Failed", i)
	}
	return "status.completionTime", strings.Join(reqs, ",")
}

// JobNameLabel is the label the operators put on a job's pods, valued
// with the job's name.
const JobNameLabel = "training.kubeflow.org/job-name"

// kinds maps each framework to its operator's resource.
var kinds = func() map[string]render.Kind {
	done, failed := jobConditions()
	job := func(version, kind, plural string) render.Kind {
		return render.Kind{
			Group: Group, Version: version, Kind: kind, Plural: plural,
			Order:  render.OrderWorkload,
			Health: healthCheck,
			// Kueue admits a queued job by flipping runPolicy.suspend.
			ControllerFields: []string{"/spec/runPolicy/suspend"},
			Done:             done, Failed: failed,
			PodJobLabel: JobNameLabel,
		}
	}
	return map[string]render.Kind{
		"pytorch":    job(Version, "PyTorchJob", "pytorchjobs"),
		"tensorflow": job(Version, "TFJob", "tfjobs"),
		"xgboost":    job(Version, "XGBoostJob", "xgboostjobs"),
		"paddle":     job(Version, "PaddleJob", "paddlejobs"),
		"mxnet":      job(Version, "MXJob", "mxjobs"),
		"mpi":        job(MPIVersion, "MPIJob", "mpijobs"),
	}
}()

// KindOf returns the kind a framework renders into.
func KindOf(framework string) (render.Kind, bool) {
	k, ok := kinds[framework]
	return k, ok
}

// Kinds implements render.KindDeclarer.
func (Renderer) Kinds() []render.Kind {
	var out []render.Kind
	for _, f := range slices.Sorted(maps.Keys(kinds)) {
		out = append(out, kinds[f])
	}
	return append(out, trainJobKind, trainingRuntimeKind)
}
