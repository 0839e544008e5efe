// Package platform renders what every environment needs before any
// workload: the Namespace with its Pod Security Standards labels, a
// ResourceQuota holding the environment's GPU budget, and the service
// accounts and least-privilege RBAC that workflow and workload pods use.
package platform
