package training

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/pod"
)

// MaxNameLength is the longest name of a pod or service (a DNS label).
const MaxNameLength = 63

var dns1035 = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

// frameworksOf lists the frameworks a framework-specific field applies to.
var frameworksOf = map[string][]string{
	"elastic":           {"pytorch"},
	"nprocPerNode":      {"pytorch"},
	"parameterServers":  {"tensorflow", "paddle", "mxnet"},
	"evaluator":         {"tensorflow"},
	"slotsPerWorker":    {"mpi"},
	"ssh":               {"mpi"},
	"mpiImplementation": {"mpi"},
}

// Check reports what the operators or the environment would refuse or
// silently get wrong about an entry: names the operators cannot derive
// pod and service names from, settings of another framework, elastic
// ranges, processes per worker that do not match its GPUs, GPUs beyond
// the environment's per-pod maximum or quota, MIG profiles the GPU does
// not have, and datasets whose credentials cannot share a pod. Most
// errors go to c; those with related positions, and warnings (torchrun
// settings for a command that is not torchrun), are returned. standalone
// says whether the entry is rendered as a job of its own (Standalone),
// which the caller works out for every entry at once.
func Check(c *render.Context, name string, t *ir.Training, standalone bool) diag.List {
	path := ir.Path("training", name)
	checkName(c, path, name, t, standalone)
	out := pod.Errors(c.Env.Sources, path, pod.DatasetConflicts(c.Env, t.Datasets))
	out.Add(pod.Errors(c.Env.Sources, path, pod.ResourceProblems(c.Env, t.Resources))...)
	if t.Workers < 1 {
		c.Errorf(ir.Join(path, "workers"), "workers is %d; a training job needs at least 1", t.Workers)
		return out
	}
	checkFramework(c, path, t)
	if e := t.Elastic; e != nil && t.Framework == "pytorch" && c.Env.Spec.TrainingAPI(t) == ir.TrainingV1 {
		switch {
		case e.MinReplicas > e.MaxReplicas:
			c.Errorf(ir.Join(path, "elastic", "minReplicas"), "elastic.minReplicas (%d) is above elastic.maxReplicas (%d)", e.MinReplicas, e.MaxReplicas)
		case t.Workers < e.MinReplicas || t.Workers > e.MaxReplicas:
			c.Errorf(ir.Join(path, "workers"), "workers (%d) must be between elastic.minReplicas (%d) and elastic.maxReplicas (%d): the job starts with that many workers and scales within the range", t.Workers, e.MinReplicas, e.MaxReplicas)
		}
	}
	checkProcesses(c, path, t)
	checkGPUs(c, path, t)
	return append(out, checkLauncher(c, path, t)...)
}

// checkLauncher warns when nprocPerNode or elastic is set but the command
// is not torchrun: the training operator passes them on only as PET_*
// variables that torchrun reads (and for elastic jobs sets no MASTER_ADDR
// or RANK at all), so a plain `python train.py` runs one process per pod
// and leaves the other GPUs idle, or cannot start.
func checkLauncher(c *render.Context, path string, t *ir.Training) diag.List {
	if t.Framework != "pytorch" || len(t.Command) == 0 || IsTorchrun(t.Command) {
		return nil
	}
	var out diag.List
	if t.NprocPerNode != nil {
		p := ir.Join(path, "nprocPerNode")
		out.Add(diag.Warnf(c.Env.Sources.Pos(p), p, "nprocPerNode is read only by torchrun, but the command is %q: it runs one process per pod unless it starts one per GPU itself; start it with torchrun (or python -m torch.distributed.run)", strings.Join(t.Command, " ")))
	}
	if t.Elastic != nil {
		p := ir.Join(path, "elastic")
		out.Add(diag.Warnf(c.Env.Sources.Pos(p), p, "elastic jobs get their rendezvous settings only as torchrun's PET_* variables (no MASTER_ADDR or RANK), but the command is %q; start it with torchrun (or python -m torch.distributed.run)", strings.Join(t.Command, " ")))
	}
	return out
}

// IsTorchrun reports whether a command starts PyTorch's launcher: torchrun
// or python -m torch.distributed.run (or .launch), directly or in a shell
// command line.
func IsTorchrun(command []string) bool {
	for i, arg := range command {
		if path.Base(arg) == "torchrun" || strings.Contains(arg, "torchrun ") {
			return true
		}
		if arg == "-m" && i+1 < len(command) && (command[i+1] == "torch.distributed.run" || command[i+1] == "torch.distributed.launch") {
			return true
		}
		if strings.Contains(arg, "-m torch.distributed.run") || strings.Contains(arg, "-m torch.distributed.launch") {
			return true
		}
	}
	return false
}

// checkName checks the job's name and the longest name the operator
// derives from it: for a standalone job, the name with its content hash.
func checkName(c *render.Context, path, name string, t *ir.Training, standalone bool) {
	obj := render.ObjectName(name)
	if !dns1035.MatchString(obj) {
		c.Errorf(path, "training job name %q is not a DNS-1035 label, which the operator needs to name the job's pods and services: use lowercase letters, digits and '-', starting with a letter and ending with a letter or digit", obj)
		return
	}
	job := obj
	if standalone {
		job += "-" + strings.Repeat("x", render.HashLength-1)
	}
	// Of names equally long, the last: workers come last.
	longest := ""
	for _, n := range DerivedNamesIn(c.Env.Spec, job, t) {
		if len(n) >= len(longest) {
			longest = n
		}
	}
	if over := len(longest) - MaxNameLength; over > 0 {
		hashed := ""
		if job != obj {
			hashed = fmt.Sprintf(" (with the %d-character content hash of a standalone job)", render.HashLength)
		}
		c.Errorf(path, "training job name %q is too long: the operator derives the name %q (%d characters) from it%s, and Kubernetes allows %d; shorten the job name by %s", obj, longest, len(longest), hashed, MaxNameLength, plural(over, "character"))
	}
}

// checkFramework reports settings that only another framework uses, which
// the job would otherwise silently ignore.
func checkFramework(c *render.Context, path string, t *ir.Training) {
	set := map[string]bool{
		"elastic":           t.Elastic != nil,
		"nprocPerNode":      t.NprocPerNode != nil,
		"parameterServers":  t.ParameterServers > 0,
		"evaluator":         t.Evaluator,
		"slotsPerWorker":    t.SlotsPerWorker > 0,
		"mpiImplementation": t.MPIImplementation != "" && t.MPIImplementation != "OpenMPI",
		"ssh":               t.SSH != nil,
	}
	for _, field := range []string{"elastic", "nprocPerNode", "parameterServers", "evaluator", "slotsPerWorker", "mpiImplementation", "ssh"} {
		fws := frameworksOf[field]
		if !set[field] || slices.Contains(fws, t.Framework) {
			continue
		}
		c.Errorf(ir.Join(path, field), "%s applies only to %s, not to %q", field, frameworkList(fws), t.Framework)
	}
}

// checkProcesses compares the processes per worker with its GPUs: MPI
// slots and torchrun's nprocPerNode.
func checkProcesses(c *render.Context, path string, t *ir.Training) {
	gpus := t.Resources.GPUs
	if t.Framework == "mpi" && t.SlotsPerWorker > 0 && gpus > 0 && t.SlotsPerWorker > gpus {
		c.Errorf(ir.Join(path, "slotsPerWorker"), "slotsPerWorker is %d but each worker has %s: MPI would start more processes per worker than it has GPUs; use at most %d, or leave slotsPerWorker out for one process per GPU", t.SlotsPerWorker, count(gpus, t.Resources), gpus)
	}
	if t.Framework != "pytorch" || t.NprocPerNode == nil {
		return
	}
	n := t.NprocPerNode
	if f, ok := n.Float(); ok && gpus > 0 && int(f) > gpus {
		c.Errorf(ir.Join(path, "nprocPerNode"), "nprocPerNode is %d but each worker has %s: torchrun would start more processes per worker than it has GPUs; use at most %d, or \"gpu\" for one process per GPU", int(f), count(gpus, t.Resources), gpus)
	}
	if n.String() == "gpu" && gpus == 0 {
		c.Errorf(ir.Join(path, "nprocPerNode"), "nprocPerNode is \"gpu\" but the job has no GPUs (resources.gpus is 0), and torchrun fails without one; use \"cpu\", \"auto\" or a number")
	}
}

// checkGPUs holds the job to the environment's per-pod maximum and quota.
func checkGPUs(c *render.Context, path string, t *ir.Training) {
	env := c.Env
	per := t.Resources.GPUs
	if per == 0 {
		return
	}
	total, breakdown := GPUs(t)
	if env.GPU.Quota == 0 {
		c.Errorf(path, "%s needs %s in %s (%s); %s has no GPU quota", path, count(total, t.Resources), env.Name, breakdown, env.Name)
		return
	}
	if per > env.GPU.MaxPerPod {
		c.Errorf(ir.Join(path, "resources", "gpus"), "%s asks for %s per pod; %s allows at most %d per pod", path, count(per, t.Resources), env.Name, env.GPU.MaxPerPod)
	}
	if total > env.GPU.Quota {
		c.Errorf(path, "%s needs %s in %s (%s); %s allows %d", path, count(total, t.Resources), env.Name, breakdown, env.Name, env.GPU.Quota)
	}
}

// count spells n GPUs, or n MIG slices of the entry's profile.
func count(n int, r ir.Resources) string {
	if r.MIG != "" {
		return plural(n, "MIG "+r.MIG+" slice")
	}
	if n == 1 {
		return "1 GPU"
	}
	return fmt.Sprintf("%d GPUs", n)
}

// frameworkList spells frameworks as `framework "a"` or
// `frameworks "a", "b" and "c"`.
func frameworkList(fws []string) string {
	q := make([]string, len(fws))
	for i, f := range fws {
		q[i] = fmt.Sprintf("%q", f)
	}
	if len(q) == 1 {
		return "framework " + q[0]
	}
	return "frameworks " + strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}
