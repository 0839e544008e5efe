package training

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Group and versions of the operators' APIs. The training operator serves
// PyTorchJob, TFJob, XGBoostJob, PaddleJob and MXJob as kubeflow.org/v1;
// the MPI operator serves MPIJob as kubeflow.org/v2beta1. (The training
// operator's own v1 MPIJob has the same CRD name and cannot be installed
// next to it: kiln emits v2beta1.)
const (
	Group      = "kubeflow.org"
	Version    = "v1"
	MPIVersion = "v2beta1"
)

// PyTorchJob is kubeflow.org/v1 PyTorchJob.
type PyTorchJob struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              PyTorchJobSpec `json:"spec"`
}

// PyTorchJobSpec holds the fields kiln sets.
type PyTorchJobSpec struct {
	RunPolicy           RunPolicy               `json:"runPolicy"`
	ElasticPolicy       *ElasticPolicy          `json:"elasticPolicy,omitempty"`
	NprocPerNode        *string                 `json:"nprocPerNode,omitempty"`
	PyTorchReplicaSpecs map[string]*ReplicaSpec `json:"pytorchReplicaSpecs"`
}

// ElasticPolicy is PyTorch elastic training.
type ElasticPolicy struct {
	MinReplicas *int32 `json:"minReplicas,omitempty"`
	MaxReplicas *int32 `json:"maxReplicas,omitempty"`
	MaxRestarts *int32 `json:"maxRestarts,omitempty"`
	RDZVBackend string `json:"rdzvBackend,omitempty"`
}

// TFJob is kubeflow.org/v1 TFJob.
type TFJob struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              TFJobSpec `json:"spec"`
}

// TFJobSpec holds the fields kiln sets.
type TFJobSpec struct {
	RunPolicy      RunPolicy               `json:"runPolicy"`
	TFReplicaSpecs map[string]*ReplicaSpec `json:"tfReplicaSpecs"`
}

// XGBoostJob is kubeflow.org/v1 XGBoostJob.
type XGBoostJob struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              XGBoostJobSpec `json:"spec"`
}

// XGBoostJobSpec holds the fields kiln sets.
type XGBoostJobSpec struct {
	RunPolicy       RunPolicy               `json:"runPolicy"`
	XGBReplicaSpecs map[string]*ReplicaSpec `json:"xgbReplicaSpecs"`
}

// PaddleJob is kubeflow.org/v1 PaddleJob.
type PaddleJob struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              PaddleJobSpec `json:"spec"`
}

// PaddleJobSpec holds the fields kiln sets.
type PaddleJobSpec struct {
	RunPolicy          RunPolicy               `json:"runPolicy"`
	PaddleReplicaSpecs map[string]*ReplicaSpec `json:"paddleReplicaSpecs"`
}

// MXJob is kubeflow.org/v1 MXJob.
type MXJob struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              MXJobSpec `json:"spec"`
}

// MXJobSpec holds the fields kiln sets. JobMode is required: kiln runs
// training ("MXTrain"), never tuning.
type MXJobSpec struct {
	RunPolicy      RunPolicy               `json:"runPolicy"`
	JobMode        string                  `json:"jobMode"`
	MXReplicaSpecs map[string]*ReplicaSpec `json:"mxReplicaSpecs"`
}

// MPIJob is kubeflow.org/v2beta1 MPIJob, the MPI operator's.
type MPIJob struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              MPIJobSpec `json:"spec"`
}

// MPIJobSpec holds the fields kiln sets.
type MPIJobSpec struct {
	SlotsPerWorker         *int32                  `json:"slotsPerWorker,omitempty"`
	RunPolicy              RunPolicy               `json:"runPolicy"`
	MPIImplementation      string                  `json:"mpiImplementation,omitempty"`
	LauncherCreationPolicy string                  `json:"launcherCreationPolicy,omitempty"`
	SSHAuthMountPath       string                  `json:"sshAuthMountPath,omitempty"`
	MPIReplicaSpecs        map[string]*ReplicaSpec `json:"mpiReplicaSpecs"`
}

// RunPolicy is the run policy the training operator's v1 API and the MPI
// operator's v2beta1 API share (field for field, for what kiln sets).
type RunPolicy struct {
	CleanPodPolicy          string            `json:"cleanPodPolicy,omitempty"`
	TTLSecondsAfterFinished *int32            `json:"ttlSecondsAfterFinished,omitempty"`
	ActiveDeadlineSeconds   *int64            `json:"activeDeadlineSeconds,omitempty"`
	BackoffLimit            *int32            `json:"backoffLimit,omitempty"`
	SchedulingPolicy        *SchedulingPolicy `json:"schedulingPolicy,omitempty"`
	Suspend                 *bool             `json:"suspend,omitempty"`
}

// SchedulingPolicy configures gang scheduling: the operator creates a
// PodGroup (Volcano or scheduler-plugins) from it.
type SchedulingPolicy struct {
	MinAvailable  *int32 `json:"minAvailable,omitempty"`
	Queue         string `json:"queue,omitempty"`
	PriorityClass string `json:"priorityClass,omitempty"`
}

// ReplicaSpec is one replica type of a job.
type ReplicaSpec struct {
	Replicas      *int32                 `json:"replicas,omitempty"`
	RestartPolicy string                 `json:"restartPolicy,omitempty"`
	Template      corev1.PodTemplateSpec `json:"template"`
}
