// Command argocd-e2e is the part of Argo CD the end-to-end tests run: the
// application controller and the repo server (and git's askpass helper,
// which the repo server calls back). Like Argo CD's own binary it picks
// the command by the name it is started under (a symlink) or
// ARGOCD_BINARY_NAME; leaving out the API server, the CLI, Dex and the
// other controllers keeps the build a fraction of the full one.
//
// build.sh copies this file into a checkout of Argo CD's release tag and
// builds it there, with Argo CD's own go.mod.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	appcontroller "github.com/argoproj/argo-cd/v3/cmd/argocd-application-controller/commands"
	gitaskpass "github.com/argoproj/argo-cd/v3/cmd/argocd-git-ask-pass/commands"
	reposerver "github.com/argoproj/argo-cd/v3/cmd/argocd-repo-server/commands"
	"github.com/argoproj/argo-cd/v3/common"
)

func main() {
	name := filepath.Base(os.Args[0])
	if v := os.Getenv("ARGOCD_BINARY_NAME"); v != "" {
		name = v
	}
	var cmd *cobra.Command
	switch name {
	case common.CommandApplicationController:
		cmd = appcontroller.NewCommand()
	case common.CommandRepoServer:
		cmd = reposerver.NewCommand()
	case common.CommandGitAskPass:
		cmd = gitaskpass.NewCommand()
	default:
		fmt.Fprintf(os.Stderr, "argocd-e2e: started as %q; run it as %s or %s\n", name,
			common.CommandApplicationController, common.CommandRepoServer)
		os.Exit(2)
	}
	if err := cmd.Execute(); err != nil {
		os.Exit(1)
	}
}
