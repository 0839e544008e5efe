package training

import (
	"fmt"
	"strings"

	"github.com/kiln-ml/kiln/ir"
)

// Role is what a replica type does, which decides its resources.
type Role int

const (
	// Trainer replicas run the training with the entry's resources,
	// GPUs included.
	Trainer Role = iota
	// Server replicas (parameter servers) keep the entry's CPU, memory and
	// ephemeral storage but have no GPUs and no /dev/shm.
	Server
	// Control replicas (the MPI launcher, the MXNet scheduler) coordinate
	// the others and get a small fixed amount of CPU and memory.
	Control
)

// Resources of control replicas: enough for mpirun or a DMLC scheduler.
const (
	ControlCPU    ir.Quantity = "500m"
	ControlMemory ir.Quantity = "1Gi"
)

// Replica is one replica type of a job as kiln lays it out.
type Replica struct {
	// Type is the operator's replica type: Master, Worker, Chief, PS, …
	Type  string
	Count int
	// Max is the most replicas of the type there can be: the elastic
	// maximum for elastic PyTorch workers, Count otherwise.
	Max  int
	Role Role
}

// Topology returns the replica types of an entry in the order the job
// lists them. Workers counts every training replica, so:
//
//   - pytorch: a Master and workers-1 Workers; elastic jobs only Workers
//     (between elastic.minReplicas and elastic.maxReplicas).
//   - tensorflow: a Chief and workers-1 Workers, parameterServers PS
//     without GPUs and an Evaluator if asked for.
//   - xgboost: a Master and workers-1 Workers.
//   - paddle: Workers (collective mode); with parameter servers, the
//     operator's PS mode, whose Master replicas are the servers.
//   - mxnet: a Scheduler, parameterServers Servers (at least one: MXNet's
//     distributed kvstore needs one) and workers Workers.
//   - mpi: a Launcher without GPUs and workers Workers.
func Topology(t *ir.Training) []Replica {
	var rs []Replica
	add := func(typ string, n int, role Role) {
		if n > 0 {
			rs = append(rs, Replica{Type: typ, Count: n, Max: n, Role: role})
		}
	}
	switch t.Framework {
	case "pytorch":
		if e := t.Elastic; e != nil {
			rs = append(rs, Replica{Type: "Worker", Count: t.Workers, Max: max(t.Workers, e.MaxReplicas), Role: Trainer})
			break
		}
		add("Master", 1, Trainer)
		add("Worker", t.Workers-1, Trainer)
	case "tensorflow":
		add("Chief", 1, Trainer)
		add("Worker", t.Workers-1, Trainer)
		add("PS", t.ParameterServers, Server)
		if t.Evaluator {
			add("Evaluator", 1, Trainer)
		}
	case "xgboost":
		add("Master", 1, Trainer)
		add("Worker", t.Workers-1, Trainer)
	case "paddle":
		add("Master", t.ParameterServers, Server)
		add("Worker", t.Workers, Trainer)
	case "mxnet":
		add("Scheduler", 1, Control)
		add("Server", max(t.ParameterServers, 1), Server)
		add("Worker", t.Workers, Trainer)
	case "mpi":
		add("Launcher", 1, Control)
		add("Worker", t.Workers, Trainer)
	}
	return rs
}

// Replicas is the number of pods a job starts (at most, for elastic jobs
// at their initial size).
func Replicas(rs []Replica) int {
	n := 0
	for _, r := range rs {
		n += r.Count
	}
	return n
}

// GPUs returns the most GPUs (or MIG slices) a job requests at once and
// how a reviewer would write the sum: "4 workers × 4".
func GPUs(t *ir.Training) (total int, breakdown string) {
	per := t.Resources.GPUs
	var trainers, evaluators int
	elastic := false
	for _, r := range Topology(t) {
		if r.Role != Trainer {
			continue
		}
		if r.Type == "Evaluator" {
			evaluators += r.Max
			continue
		}
		trainers += r.Max
		elastic = elastic || r.Max != r.Count
	}
	total = (trainers + evaluators) * per
	breakdown = plural(trainers, "worker")
	if elastic {
		breakdown = "up to " + breakdown
	}
	if evaluators > 0 {
		return total, fmt.Sprintf("%s + %s, × %d each", breakdown, plural(evaluators, "evaluator"), per)
	}
	return total, fmt.Sprintf("%s × %d", breakdown, per)
}

// DerivedNames are the names the operator gives the objects of a job
// named name: one pod and service per replica, <name>-<type>-<index>, and
// for MPI the launcher's Job, <name>-launcher. Only the longest of each
// replica type is returned: the highest index.
func DerivedNames(name string, t *ir.Training) []string {
	var names []string
	for _, r := range Topology(t) {
		typ := strings.ToLower(r.Type)
		if t.Framework == "mpi" && r.Type == "Launcher" {
			names = append(names, name+"-"+typ)
			continue
		}
		names = append(names, fmt.Sprintf("%s-%s-%d", name, typ, r.Max-1))
	}
	return names
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
