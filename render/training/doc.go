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
// With Kubeflow Trainer v2 (the system's trainer.api, an entry's api, or
// an environment's override of either), an entry renders into a TrainJob
// (trainer.kubeflow.org/v1alpha1) instead: runtimeRef names a
// ClusterTrainingRuntime (by default torch-distributed or
// xgboost-distributed), spec.trainer carries the image, command,
// arguments, environment, nodes and resources per node, and one runtime
// patch (manager kiln.dev/render) gives the runtime's trainer jobs, and
// its initializer jobs when the entry has initializers, what kiln puts in
// every pod: the security context, GPU product and tolerations, /dev/shm
// and dataset volumes, the service account and pull secrets. An entry
// that asks for what a patch cannot set (gang scheduling through
// podGroupPolicy, a priority class, retries, TTL, sshd) gets a namespaced
// TrainingRuntime of its own instead (NewTrainingRuntime): derived from
// the stock runtime it names, with every pod laid out by kiln, named by
// its content and synced a wave before the TrainJob that names it.
// Clean-up policies and elastic ranges, which v2 lacks, are errors, and
// frameworks without a v2 runtime (tensorflow, paddle, mxnet) stay on v1. KindFor gives a
// workflow step the condition to wait for: Trainer sets no completion
// time, so it is the Complete condition at the index Trainer puts it.
//
// The structs here hold only the fields kiln emits; tests validate every
// object against the upstream CRDs.
package training
