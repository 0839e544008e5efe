// Package validate checks rendered Kubernetes objects the way the API server would,
// without a cluster.
//
// Custom resources are checked against the CustomResourceDefinitions loaded with
// Load, using the API server's own machinery from k8s.io/apiextensions-apiserver:
// the object is decoded as the server decodes it (integers stay int64), defaulted,
// pruned (every pruned field is reported as an unknown field, as with
// fieldValidation=Strict), its metadata and embedded resources are coerced and
// validated, and then the OpenAPI v3 schema, the x-kubernetes-list-type invariants
// and the CEL x-kubernetes-validations rules are evaluated.
//
// A fixed set of built-in kinds (namespaces, quotas, RBAC, workloads, services,
// network policies, ...) is decoded strictly into the k8s.io/api types, so unknown
// or duplicate fields and malformed values such as quantities are errors, and is
// then checked with a subset of the API server's validation for those kinds
// (names, selectors, pod templates, ports, resource names, RBAC references, ...).
// That subset is written here from the upstream rules; it does not import
// k8s.io/kubernetes and is therefore less complete than a real API server.
//
// The pod templates inside custom resources (a training job's replicas, a
// Notebook, a Katib trial's job) are then held to the same pod validation
// as built-in workloads, wrapped as the Pods their controllers create (see
// podtemplates.go for the kinds left out and why).
//
// Argo Workflows, WorkflowTemplates and CronWorkflows that pass their CRD are
// then checked by Argo's own validator (github.com/argoproj/argo-workflows/v3/
// workflow/validate) in lint mode, as `argo lint` does: DAG dependencies,
// template references, parameter and artifact references, expressions and
// cron schedules. ValidateAll resolves templateRefs between the
// WorkflowTemplates it is given.
//
// RestrictedViolations separately checks every pod template found in an object
// against the Pod Security Standards "restricted" profile: the containers the
// object writes. The rules are not written here: each pod kiln's walker finds
// is evaluated by k8s.io/pod-security-admission/policy, the evaluator the API
// server's PodSecurity admission plugin runs, at the latest policy version
// that library knows. PodViolations checks the pods as the PodSecurity admission
// plugin will see them, at a given level, with the containers the controllers
// add at run time (Argo's executors after podSpecPatch, KServe's storage
// initializer, Seldon's executor and model initializers, Katib's metrics
// collector and suggestion service); MissingRequests lists the containers of
// those pods that request nothing of a resource a quota covers.
//
// A Validator is safe for concurrent use once Load has returned. Argo's
// validator is not (it keeps a package-wide counter), so calls into it are
// serialized behind one mutex; `make test` runs this package's concurrency
// test under the race detector.
package validate
