// Package training renders training entries into the custom resources of
// the Kubeflow training operator (kubeflow.org/v1 PyTorchJob, TFJob,
// XGBoostJob, PaddleJob and MXJob) and of the MPI operator
// (kubeflow.org/v2beta1 MPIJob), with GPUs (or MIG slices), shared memory,
// datasets, run policy, gang scheduling, Kueue queues and priorities.
//
// MPI jobs are v2beta1 MPIJobs, the MPI operator's. The training
// operator's own v1 MPIJob has the same CRD name (mpijobs.kubeflow.org),
// so a cluster serves one or the other: install the MPI operator, and run
// the training operator without its MPIJob controller.
//
// Topology lays out each framework's replicas from the entry's workers
// (which counts every training replica, the PyTorch master and the
// TensorFlow chief included); Check reports what the operators or the
// environment would refuse: names the operators cannot derive pod and
// service names from, elastic ranges, processes per worker beyond its
// GPUs, and GPUs beyond the environment's per-pod maximum or quota.
//
// Kinds describes the job kinds (render.Kind): apply order, Argo CD's
// health check (health.lua), the suspend flag Kueue owns, and the
// conditions a workflow step that runs a job waits for.
//
// The structs here hold only the fields kiln emits; tests validate every
// object against the upstream CRDs.
package training
