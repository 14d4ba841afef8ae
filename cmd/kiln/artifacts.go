package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/kilnproject/kiln/internal/build/artifacts"
	"github.com/kilnproject/kiln/internal/build/artifactstore"
	"github.com/kilnproject/kiln/internal/build/envexpand"
	"github.com/kilnproject/kiln/internal/common/linelog"
)

func newArtifactsCommand() *cobra.Command {
	var manifest, store, lock string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "artifacts --manifest FILE [--store DIR] [--lock FILE]",
		Short: "Fetch, verify and build every input of a node image into the artifact store",
		Long: `Reads an artifact manifest (profiles/artifacts/local.yaml is this project's own) and brings
each artifact into the artifact store: local files are hashed and copied, http(s) downloads must
match the sha256 the manifest gives, registry images (oci://…) are pulled as OCI archives, and the
control-plane images the manifest describes are built from the binaries as OCI archives named as
upstream names them. Then it writes the lock file: name, version, source and sha256 of each.

A rerun with nothing changed copies and builds nothing. A download whose hash differs is refused,
named with both hashes, and leaves nothing in the store.

${VAR} in a source is taken from the environment; KILN_CACHE defaults to ~/.cache/kiln.
SOURCE_DATE_EPOCH sets the creation time of built images (default 0).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if manifest == "" {
				return usageError{errors.New("--manifest is required")}
			}
			cache, err := envexpand.DefaultCache()
			if err != nil {
				return err
			}
			if store == "" {
				store = filepath.Join(cache, "store")
			}
			if lock == "" {
				lock = filepath.Join(cache, "artifacts.lock")
			}
			created, err := sourceDateEpoch()
			if err != nil {
				return usageError{err}
			}
			m, err := artifacts.LoadFile(manifest)
			if err != nil {
				return err
			}
			st, err := artifactstore.Open(store)
			if err != nil {
				return err
			}
			r := &artifacts.Resolver{Store: st, Created: created}
			if prev, err := artifactstore.ReadLock(lock); err == nil {
				r.Previous = prev
			} else if !errors.Is(err, fs.ErrNotExist) {
				fmt.Fprintf(cmd.ErrOrStderr(), "kiln: warning: ignoring the previous lock: %v\n", err)
			}
			if !quiet {
				r.Log = linelog.New(cmd.OutOrStdout())
			}
			start := time.Now()
			l, err := r.Resolve(cmd.Context(), m)
			if err != nil {
				return err
			}
			if err := l.WriteFile(lock); err != nil {
				return err
			}
			if !quiet {
				fmt.Fprintf(cmd.OutOrStdout(), "%d artifacts in %s, lock %s (%s)\n", len(l.Artifacts), st.Root(), lock, time.Since(start).Round(10*time.Millisecond))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&manifest, "manifest", "", "artifact manifest (YAML, kind Artifacts)")
	cmd.Flags().StringVar(&store, "store", "", "artifact store directory (default $KILN_CACHE/store)")
	cmd.Flags().StringVar(&lock, "lock", "", "lock file to write (default $KILN_CACHE/artifacts.lock)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}

// sourceDateEpoch is SOURCE_DATE_EPOCH as a time, the Unix epoch when it is unset.
func sourceDateEpoch() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds", v)
	}
	return time.Unix(n, 0).UTC(), nil
}
