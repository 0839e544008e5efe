package render

// MarshalGoYAML is Marshal as it was before kiln had its own emitter:
// the same values, encoded by go-yaml. For benchmarks.
func MarshalGoYAML(obj any) ([]byte, error) {
	m, err := ToMap(obj)
	if err != nil {
		return nil, err
	}
	clean(m)
	delete(m, "status")
	return marshalGoYAML(m)
}
