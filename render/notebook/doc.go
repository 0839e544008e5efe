// Package notebook renders notebooks.<name> into Kubeflow Notebooks
// (kubeflow.org/v1), the Jupyter servers data scientists explore in, with
// a PersistentVolumeClaim for the home directory when the entry asks for a
// workspace.
//
// The pod is built by render/pod like every other workload, so a notebook
// gets GPUs, datasets and the restricted security profile exactly as a
// training job does. Kubeflow's notebook controller adds the Service, the
// StatefulSet and (with Istio) the VirtualService itself; kiln emits only
// what the controller reads.
package notebook
