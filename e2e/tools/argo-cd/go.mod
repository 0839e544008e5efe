// Argo CD is not built from this module: build.sh checks out Argo CD's
// release tag (its go.mod replaces gitops-engine with a directory of the
// repository, which no module proxy serves) and builds main.go inside it.
// This file pins the version, as the other tools' go.mod files do.
module kiln.e2e/tools/argo-cd

go 1.26.3

require github.com/argoproj/argo-cd/v3 v3.5.1
