// Package kustomize runs kustomize (sigs.k8s.io/kustomize/api, in process)
// over kiln's output: Build checks that a rendered directory builds as
// `kustomize build` would, and Patcher applies the kustomize patches an
// environment declares (strategic merge or JSON 6902) to its rendered
// objects at render time.
//
// Patches are applied by kustomize itself rather than imitated, so they
// mean exactly what they mean in a kustomization a team would otherwise
// keep beside the output; but they are applied before writing, so the
// files in Git are the patched objects, one file per object, checked like
// every other, and what Argo CD syncs is what a reviewer reads. A patch
// whose target matches no object is an error at the patch's position:
// kustomize itself ignores it, and a patch that silently stopped applying
// (after a rename) is worse than none.
package kustomize
