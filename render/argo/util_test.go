package argo

import "sigs.k8s.io/yaml"

func yamlUnmarshalStrict(s string, v any) error { return yaml.UnmarshalStrict([]byte(s), v) }
