// Command kiln compiles ML systems described in CUE into Kubernetes
// manifests. See the README and `kiln --help`.
package main

import (
	"os"

	"github.com/kiln-ml/kiln/cli"
)

func main() { os.Exit(cli.Main()) }
