// Package platform renders what every environment needs before any
// workload: the Namespace with its Pod Security Standards labels, a
// ResourceQuota holding the environment's GPU budget, and the service
// accounts and least-privilege RBAC that workflow and workload pods use.
//
// It reads no other renderer's section of the spec. Its renderer runs
// after the workload renderers and derives the namespace's level and
// labels, the quota's extended resources and the workflow Role from what
// they declared they need (render.Needs); its objects are still applied
// first (their kinds' order and sync wave).
package platform
