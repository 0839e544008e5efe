package selector

import _ "embed"

// Script is selector.py, which render/sweep puts into each Argo sweep's
// ConfigMap beside the plan.
//
//go:embed selector.py
var Script string
