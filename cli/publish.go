package cli

import "github.com/spf13/cobra"

func (a *app) newPublishCmd() *cobra.Command { return &cobra.Command{Use: "publish"} }
func (a *app) newPromoteCmd() *cobra.Command { return &cobra.Command{Use: "promote"} }
