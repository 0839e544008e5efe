package render

import (
	"strings"

	"github.com/kiln-ml/kiln/ir"
)

// ObjectName is the name of the objects of a spec entry: entry names may
// use "_", which object names may not, so it becomes "-" (the compiler
// refuses two entries that collide after this).
func ObjectName(entry string) string { return strings.ReplaceAll(entry, "_", "-") }

// WorkloadServiceAccount is the service account workload pods run as
// (training, serving, notebooks) unless their entry names one: it has no
// API token, since they do not talk to the API server.
func WorkloadServiceAccount(sys *ir.System) string { return sys.Name + "-workload" }

// WorkflowServiceAccount is the service account Argo workflow pods of the
// system run as, bound to the Role the platform renderer aggregates from
// what the renderers declare they need (Context.NeedJobAccess and
// friends).
func WorkflowServiceAccount(sys *ir.System) string { return sys.Name + "-workflow" }
