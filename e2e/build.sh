#!/bin/sh
# build.sh — build the upstream binaries the end-to-end tests run, from
# their Go modules (e2e/tools/<tool>/go.mod pins each version), into a
# cache keyed by tool and version. What already exists is skipped, so only
# the first run on a machine pays for the builds.
#
#   e2e/build.sh [tool...]      tools: etcd kubernetes kwok training-operator
#                                      argo-workflows kserve trainer jobset
#                                      argo-cd kustomize redis (default: all)
#
# KILN_E2E_CACHE overrides the cache directory. Builds run one package at a
# time at the lowest priority so a shared machine stays usable: set
# KILN_E2E_BUILD_P to build more packages in parallel, KILN_E2E_NICE to
# another niceness (default 19).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${KILN_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln-e2e}
p=${KILN_E2E_BUILD_P:-1}
GO=${GO:-go}

# version prints the version of module $2 that tool $1 pins.
version() {
	awk -v m="$2" '$1 == "require" && $2 == m { print $3 } $1 == m && $2 ~ /^v/ { print $2 }' \
		"$here/tools/$1/go.mod" | head -n 1
}

# build TOOL MODULE PACKAGE BINARY [LDFLAGS] builds PACKAGE into
# $cache/TOOL-VERSION/BINARY unless it is already there.
build() {
	tool=$1 mod=$2 pkg=$3 bin=$4 ldflags=${5:-}
	v=$(version "$tool" "$mod")
	[ -n "$v" ] || { echo "build.sh: no version of $mod in tools/$tool/go.mod" >&2; exit 1; }
	dir=$cache/$tool-$v
	# A tool with its own main (etcd, redis) is rebuilt when that source is newer.
	fresh=yes
	for src in "$here/tools/$tool"/*.go; do
		[ -e "$src" ] && [ "$src" -nt "$dir/$bin" ] && fresh=no
	done
	if [ -x "$dir/$bin" ] && [ $fresh = yes ]; then
		echo "build.sh: $bin $v cached"
		return 0
	fi
	mkdir -p "$dir"
	echo "build.sh: building $bin $v ($(date -u +%H:%M:%S))"
	start=$(date +%s)
	(cd "$here/tools/$tool" &&
		nice -n "${KILN_E2E_NICE:-19}" "$GO" build -p "$p" -trimpath -ldflags "-s -w $ldflags" -o "$dir/$bin.tmp" "$pkg")
	mv "$dir/$bin.tmp" "$dir/$bin"
	echo "build.sh: built $bin $v in $(($(date +%s) - start))s"
}

# build_argocd builds the Argo CD application controller and repo server
# (tools/argo-cd/main.go) inside a checkout of Argo CD's release tag, and
# links the command names to it; the checkout stays in the cache for the
# CRDs. KILN_E2E_ARGOCD_GIT names another clone to check the tag out from.
build_argocd() {
	v=$(version argo-cd github.com/argoproj/argo-cd/v3)
	dir=$cache/argo-cd-$v
	if [ -x "$dir/argocd-e2e" ] && ! [ "$here/tools/argo-cd/main.go" -nt "$dir/argocd-e2e" ]; then
		echo "build.sh: argocd-e2e $v cached"
		return 0
	fi
	mkdir -p "$dir"
	if ! [ -d "$dir/src/.git" ]; then
		rm -rf "$dir/src.tmp"
		git clone --quiet --depth 1 --branch "$v" "${KILN_E2E_ARGOCD_GIT:-https://github.com/argoproj/argo-cd.git}" "$dir/src.tmp"
		mv "$dir/src.tmp" "$dir/src"
	fi
	mkdir -p "$dir/src/cmd/kiln-e2e"
	cp "$here/tools/argo-cd/main.go" "$dir/src/cmd/kiln-e2e/main.go"
	echo "build.sh: building argocd-e2e $v ($(date -u +%H:%M:%S))"
	start=$(date +%s)
	(cd "$dir/src" &&
		nice -n "${KILN_E2E_NICE:-19}" "$GO" build -p "$p" -trimpath -ldflags "-s -w" -o "$dir/argocd-e2e.tmp" ./cmd/kiln-e2e)
	mv "$dir/argocd-e2e.tmp" "$dir/argocd-e2e"
	for c in argocd-application-controller argocd-repo-server argocd-git-ask-pass; do
		ln -sf argocd-e2e "$dir/$c"
	done
	echo "build.sh: built argocd-e2e $v in $(($(date +%s) - start))s"
}

k8sver() {
	v=$(version kubernetes k8s.io/kubernetes)
	minor=$(echo "$v" | cut -d. -f2)
	echo "-X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
}

tools=${*:-etcd kubernetes kwok training-operator argo-workflows kserve trainer jobset argo-cd kustomize redis}
for t in $tools; do
	case $t in
	etcd) build etcd go.etcd.io/etcd/server/v3 . etcd ;;
	kubernetes)
		for c in kube-apiserver kube-controller-manager kube-scheduler; do
			build kubernetes k8s.io/kubernetes "k8s.io/kubernetes/cmd/$c" "$c" "$(k8sver)"
		done ;;
	kwok) build kwok sigs.k8s.io/kwok sigs.k8s.io/kwok/cmd/kwok kwok ;;
	training-operator)
		build training-operator github.com/kubeflow/training-operator \
			github.com/kubeflow/training-operator/cmd/training-operator.v1 training-operator ;;
	argo-workflows)
		build argo-workflows github.com/argoproj/argo-workflows/v3 \
			github.com/argoproj/argo-workflows/v3/cmd/workflow-controller workflow-controller ;;
	kserve) build kserve github.com/kserve/kserve github.com/kserve/kserve/cmd/manager kserve-manager ;;
	trainer)
		build trainer github.com/kubeflow/trainer/v2 \
			github.com/kubeflow/trainer/v2/cmd/trainer-controller-manager trainer-controller-manager ;;
	jobset) build jobset sigs.k8s.io/jobset sigs.k8s.io/jobset jobset-controller ;;
	argo-cd) build_argocd ;;
	# Argo CD's repo server runs kustomize on kiln's directories.
	# A Redis-protocol server in Go for Argo CD's cache.
	redis) build redis github.com/alicebob/miniredis/v2 . redis ;;
	kustomize) build kustomize sigs.k8s.io/kustomize/kustomize/v5 sigs.k8s.io/kustomize/kustomize/v5 kustomize ;;
	*) echo "build.sh: unknown tool $t" >&2; exit 2 ;;
	esac
done
