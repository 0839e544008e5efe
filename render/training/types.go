package training

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Group and version of the training operator's v1 API.
const (
	Group      = "kubeflow.org"
	APIVersion = "kubeflow.org/v1"
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

// RunPolicy is the operator's common run policy.
type RunPolicy struct {
	CleanPodPolicy          string            `json:"cleanPodPolicy,omitempty"`
	TTLSecondsAfterFinished *int32            `json:"ttlSecondsAfterFinished,omitempty"`
	ActiveDeadlineSeconds   *int64            `json:"activeDeadlineSeconds,omitempty"`
	BackoffLimit            *int32            `json:"backoffLimit,omitempty"`
	SchedulingPolicy        *SchedulingPolicy `json:"schedulingPolicy,omitempty"`
	Suspend                 *bool             `json:"suspend,omitempty"`
}

// SchedulingPolicy configures gang scheduling.
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
