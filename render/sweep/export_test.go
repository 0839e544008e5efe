package sweep

// UpdateFlag exposes -update to the external test package.
func UpdateFlag() *bool { return update }
