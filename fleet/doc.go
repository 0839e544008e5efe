// Package fleet checks several systems rendered together, as one
// repository holds them (`kiln vet ./...`): what no single system can see.
//
// Each system is correct on its own; together they can still collide on a
// cluster. fleet reports, at the spec position of the second claimant and
// naming the first:
//
//   - two specs naming the same system (their output directories,
//     <environment>/<system>, would be one);
//   - the same namespace claimed by two systems on one cluster (each
//     renders the Namespace, its quota and its accounts, and would
//     overwrite the other's);
//   - the same expose host on one cluster (each system renders its own
//     ingress Gateway or route for the host);
//   - any other object two systems render under one name on one cluster,
//     such as colliding Argo CD Applications or AppProjects (every
//     system's argocd/ directory goes to the one Argo CD).
//
// Which cluster an environment deploys to: the destination its spec
// writes out (name or server); without one, Argo CD's own cluster when the
// system has a gitops section (the schema's default server), and otherwise
// a cluster known only by the environment's name, so that the dev
// environments of two systems are taken to share a cluster and dev and
// prod are not.
//
// fleet depends on render, ir and diag only.
package fleet
