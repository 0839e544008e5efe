package argo

import (
	"strconv"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SemaphoreKey is the key of a semaphore's limit in its ConfigMap.
const SemaphoreKey = "limit"

// Limit lets at most limit workflows holding it run at once; others
// wait. One is a mutex named name; more is a semaphore whose limit is in
// the ConfigMap name (see SemaphoreConfigMap). The list forms
// (mutexes, semaphores) are the ones Argo 3.6 and later read; the single
// ones are deprecated.
func Limit(name string, limit int) *wfv1.Synchronization {
	if limit <= 1 {
		return &wfv1.Synchronization{Mutexes: []*wfv1.Mutex{{Name: name}}}
	}
	return &wfv1.Synchronization{Semaphores: []*wfv1.SemaphoreRef{{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: SemaphoreKey,
	}}}}
}

// SemaphoreConfigMap holds the limit of the semaphore name.
func SemaphoreConfigMap(name string, limit int) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Data:       map[string]string{SemaphoreKey: strconv.Itoa(limit)},
	}
}
