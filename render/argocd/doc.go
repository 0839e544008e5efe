// Package argocd renders the Argo CD objects that deploy a system: one
// AppProject and one Application per environment, written to
// argocd/<system>/ beside the environment directories (never inside one:
// an Application that syncs its own directory loops), plus Lua health
// checks for the kinds Argo CD does not know, as a patch for argocd-cm.
// The health checks and the fields controllers own come from the kinds'
// descriptors (render.Kind), declared by the renderers that emit them:
// this package keeps no list of kinds.
//
// One Application per environment, not an ApplicationSet: each
// environment has its own destination and sync policy (production synced
// by hand, say), which an Application states directly and reviewably,
// while a Git directory generator would have to rediscover the
// environments from the tree and could not tell them apart.
//
// The AppProject allows exactly what the system renders: its source
// repositories, the destinations of its environments and, as resource
// whitelists, the kinds kiln emitted for any environment (cluster-scoped
// and namespaced separately). A hand-added kind is refused by Argo CD
// instead of silently synced.
//
// Sync options are chosen so applications settle: the Namespace is an
// object kiln emits (CreateNamespace=false), large custom resources are
// applied server-side, pruning happens last, and fields that controllers
// and admission webhooks change after kiln wrote them are listed in
// ignoreDifferences (and respected during sync) so an Application does
// not flap OutOfSync.
//
// The structs here hold only the fields kiln emits; tests validate every
// object against the Argo CD CRDs.
package argocd
