// Package training renders training entries into the custom resources of
// the Kubeflow training operator (kubeflow.org/v1 PyTorchJob, …) and the
// MPI operator (kubeflow.org/v2beta1 MPIJob), with GPUs, shared memory,
// datasets, run policy and gang scheduling.
//
// The structs here hold only the fields kiln emits; tests validate every
// object against the upstream CRDs.
package training
