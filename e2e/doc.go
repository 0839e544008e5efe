// Package e2e holds kiln's end-to-end tests: the rendered examples applied
// to a real control plane (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler) with the real controllers the output targets, on nodes
// and pods that KWOK simulates. The tests are behind the e2e build tag and
// need the binaries build.sh builds; `make e2e` does both. README.md says
// what is real and what is simulated.
package e2e
