package argo

import (
	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Controller identifies the Argo workflow controller's service account.
type Controller struct {
	Namespace      string
	ServiceAccount string
}

// MemoCache is the ConfigMap a memoized step caches its outputs in. kiln
// creates it (with the label Argo 3.5+ requires of caches) so that Argo
// CD owns its existence; it is emitted without data, so the entries the
// controller writes are not drift: they were never in the applied
// manifest.
func MemoCache(name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{LabelConfigMapType: "Cache"}},
	}
}

// Memoize is the memoization of a step: key (an expression of the step's
// inputs) looked up in the cache ConfigMap, entries valid for maxAge.
//
// cache.configMap.key is rendered empty, not omitted: Argo's controller
// reads only the ConfigMap's name (each entry is keyed by memoize.key),
// but the WorkflowTemplate CRD's schema lists key as required, so an
// object without it fails validation against the full CRDs.
func Memoize(cache, key, maxAge string) *wfv1.Memoize {
	return &wfv1.Memoize{
		Key:    key,
		MaxAge: maxAge,
		Cache:  &wfv1.Cache{ConfigMap: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: cache}}},
	}
}

// MemoRBAC grants the workflow controller what memoization needs and its
// stock ClusterRole lacks (it may only get, list and watch ConfigMaps):
// reading and updating (never patching: the controller gets and updates)
// the cache ConfigMaps kiln creates, by name.
// Create is not needed, since kiln creates them.
func MemoRBAC(name string, caches []string, c Controller) (*rbacv1.Role, *rbacv1.RoleBinding) {
	role := &rbacv1.Role{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules: []rbacv1.PolicyRule{{
			APIGroups:     []string{""},
			Resources:     []string{"configmaps"},
			ResourceNames: caches,
			Verbs:         []string{"get", "update"},
		}},
	}
	binding := &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: c.ServiceAccount, Namespace: c.Namespace}},
	}
	return role, binding
}
