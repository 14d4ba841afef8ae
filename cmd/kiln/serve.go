package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kilnproject/kiln/internal/build/bootserver"
)

func newServeCommand() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Boot machines over the network: iPXE scripts, PXE bundles and per-machine Ignition",
		Long: `kiln serve matches each machine (by MAC, SMBIOS UUID and labels in its request) to a group
of the config, and serves that group's iPXE script, the PXE bundle's kernel, initramfs and root
image (with Range and ETag), and the machine's own Ignition config rendered from the cluster
directory, with the group's Butane file (static addresses, …) merged in. A machine no group matches gets 404 and nothing else. Every request is logged with
the group it matched. The config format is in the README.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" {
				return usageError{errors.New("--config is required")}
			}
			cfg, err := bootserver.LoadConfig(configPath)
			if err != nil {
				return err
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			srv, err := bootserver.New(cfg, log)
			if err != nil {
				return fmt.Errorf("%s: %w", configPath, err)
			}
			l, err := net.Listen("tcp", cfg.Listen)
			if err != nil {
				return fmt.Errorf("%s: listen: %w", configPath, err)
			}
			hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			go func() {
				<-ctx.Done()
				shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = hs.Shutdown(shutdown)
			}()
			scheme := "http"
			if cfg.TLS != nil {
				scheme = "https"
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "kiln serve: %s://%s, %d groups, cluster %s (iPXE: chain %s://%s/boot.ipxe?mac=${mac:hexhyp}&uuid=${uuid})\n",
				scheme, l.Addr(), len(cfg.Groups), cfg.Cluster, scheme, l.Addr())
			if cfg.TLS != nil {
				err = hs.ServeTLS(l, cfg.TLS.Cert, cfg.TLS.Key)
			} else {
				err = hs.Serve(l)
			}
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return err
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the serve config (kind ServeConfig)")
	return cmd
}
