package argo

import (
	"fmt"
	"path"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kiln-ml/kiln/ir"
)

// ArtifactRepositoryKey is the key of the repository in its ConfigMap.
const ArtifactRepositoryKey = "default"

// Annotation and label Argo reads on its ConfigMaps.
const (
	// AnnotationDefaultRepository names the key of the namespace's
	// default artifact repository in a ConfigMap.
	AnnotationDefaultRepository = "workflows.argoproj.io/default-artifact-repository"
	// LabelConfigMapType marks a ConfigMap as a memoization cache (Argo
	// 3.5 and later only use caches that carry it).
	LabelConfigMapType = "workflows.argoproj.io/configmap-type"
)

// keyFormat is Argo's default object key, under the user's prefix.
const keyFormat = "{{workflow.name}}/{{pod.name}}"

// ArtifactRepositoryName is the name of the ConfigMap holding a system's
// artifact repository.
func ArtifactRepositoryName(sys *ir.System) string { return sys.Name + "-artifacts" }

// ArtifactRepositoryRef is what a workflow names to use the system's
// artifact repository.
func ArtifactRepositoryRef(sys *ir.System) *wfv1.ArtifactRepositoryRef {
	return &wfv1.ArtifactRepositoryRef{ConfigMap: ArtifactRepositoryName(sys), Key: ArtifactRepositoryKey}
}

// ArtifactRepository converts kiln's repository into Argo's. Credentials
// are Secret key references; the values never leave the Secret.
func ArtifactRepository(r *ir.ArtifactRepository) (*wfv1.ArtifactRepository, error) {
	switch {
	case r == nil:
		return nil, fmt.Errorf("no artifact repository")
	case r.S3 != nil && r.GCS != nil:
		return nil, fmt.Errorf("artifact repository sets both s3 and gcs")
	case r.S3 != nil:
		s := r.S3
		b := wfv1.S3Bucket{Endpoint: s.Endpoint, Bucket: s.Bucket, Region: s.Region, Insecure: new(s.Insecure)}
		if c := s.Credentials; c != nil {
			b.AccessKeySecret = secretKey(c.Secret, c.AccessKey)
			b.SecretKeySecret = secretKey(c.Secret, c.SecretKey)
		} else {
			// The SDK's own chain: IRSA, instance profile, …
			b.UseSDKCreds = true
		}
		return &wfv1.ArtifactRepository{S3: &wfv1.S3ArtifactRepository{S3Bucket: b, KeyFormat: path.Join(s.KeyPrefix, keyFormat)}}, nil
	case r.GCS != nil:
		g := r.GCS
		b := wfv1.GCSBucket{Bucket: g.Bucket}
		// Without a key file, the pod's identity (workload identity).
		if c := g.Credentials; c != nil {
			key := c.Key
			if key == "" {
				key = "key.json"
			}
			b.ServiceAccountKeySecret = secretKey(c.Secret, key)
		}
		return &wfv1.ArtifactRepository{GCS: &wfv1.GCSArtifactRepository{GCSBucket: b, KeyFormat: path.Join(g.KeyPrefix, keyFormat)}}, nil
	}
	return nil, fmt.Errorf("artifact repository sets neither s3 nor gcs")
}

// ArtifactRepositoryConfigMap is the ConfigMap holding the system's
// artifact repository under ArtifactRepositoryKey, also marked as the
// namespace's default for workflows that name none.
func ArtifactRepositoryConfigMap(sys *ir.System, r *ir.ArtifactRepository) (*corev1.ConfigMap, error) {
	repo, err := ArtifactRepository(r)
	if err != nil {
		return nil, err
	}
	b, err := yaml.Marshal(repo)
	if err != nil {
		return nil, err
	}
	return &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        ArtifactRepositoryName(sys),
			Annotations: map[string]string{AnnotationDefaultRepository: ArtifactRepositoryKey},
		},
		Data: map[string]string{ArtifactRepositoryKey: string(b)},
	}, nil
}

func secretKey(name, key string) *corev1.SecretKeySelector {
	return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}
}
