// Package render turns an environment of the IR into Kubernetes objects and
// the objects into files.
//
// Renderers (the built-ins in render/* subpackages and, later, plugins)
// implement [Renderer] and add typed objects to a [Set]. The set refuses two
// objects with the same kind, namespace and name, labels every object the
// same way and orders them by kind priority, namespace and name. [Files]
// marshals the set through JSON with sigs.k8s.io/yaml into one file per
// object plus a kustomization.yaml per environment directory, so the same
// IR always gives the same bytes.
//
// render never imports cuelang.org/go: CUE ends at the IR.
package render
