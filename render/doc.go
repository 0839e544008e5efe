// Package render turns an environment of the IR into Kubernetes objects and
// the objects into files.
//
// Renderers (the built-ins in render/* subpackages and, later, plugins)
// implement [Renderer] and add typed objects to a [Set]. The set refuses two
// objects with the same kind, namespace and name, labels every object the
// same way and orders them by kind priority, namespace and name.
//
// The contract between renderers has two sides. A renderer describes the
// kinds it emits ([Kind], through [KindDeclarer]): scope, apply order, sync
// wave, Argo CD health check, controller-owned fields, the conditions a
// workflow step waits for. And it declares what its objects need from the
// environment through the [Context] (NeedJobAccess, NeedBaseline,
// NeedNamespaceLabel, NeedResources, …), which the platform renderer
// aggregates after the workloads. Nobody keeps a list of another
// renderer's kinds or reads another renderer's section of the spec.
// Names shared across renderers ([ObjectName], the service accounts) are
// here too. [Files]
// marshals the set through JSON with sigs.k8s.io/yaml into one file per
// object plus a kustomization.yaml per environment directory, so the same
// IR always gives the same bytes.
//
// render never imports cuelang.org/go: CUE ends at the IR.
package render
