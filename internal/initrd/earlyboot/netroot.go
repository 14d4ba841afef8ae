package earlyboot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kilnproject/kiln/internal/common/atomicfile"
	"github.com/kilnproject/kiln/internal/common/poll"
	"github.com/kilnproject/kiln/internal/contract/bootargs"
	"github.com/kilnproject/kiln/internal/contract/console"
)

// The root over the network (PXE). kiln.root.url names the root squashfs (http or https) and
// kiln.root.sha256 its hash, as the PXE bundle's boot.ipxe writes them. kiln-init brings up the
// network, downloads the squashfs into RAM (NetRootFile, on /run's tmpfs), refuses it unless
// its sha256 is the one given, and runs the node from it: /var and /etc's changes live in RAM
// too, as on the live ISO. Why RAM and not an install to disk: a PXE node then needs no disk
// for its system and nothing on a disk can go stale; a node that wants persistent state boots
// the disk image instead.

// NetRootFile is where the downloaded root squashfs lives.
const NetRootFile = RunDir + "/root.squashfs"

// Download limits.
const (
	// DefaultRootFetchTimeout bounds one download attempt.
	DefaultRootFetchTimeout = 10 * time.Minute
	rootFetchAttempts       = 3
	rootFetchBackoff        = 3 * time.Second
)

// ErrRootHash marks a downloaded root whose sha256 is not the one on the command line.
var ErrRootHash = errors.New("the root squashfs does not match kiln.root.sha256")

// checkRootURL checks kiln.root.url and kiln.root.sha256 before any network step.
func checkRootURL(c Cmdline) error {
	u, err := url.Parse(c.RootURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %s=%s: want an http:// or https:// URL", ErrInvalidCmdline, bootargs.RootURL, c.RootURL)
	}
	if sum, err := hex.DecodeString(c.RootSHA256); err != nil || len(sum) != sha256.Size {
		return fmt.Errorf("%w: %s needs %s=<64 hex digits> (the PXE bundle's boot.ipxe has it)", ErrInvalidCmdline, bootargs.RootURL, bootargs.RootSHA256)
	}
	return nil
}

// fetchRoot downloads the root squashfs to dst, retrying transient failures, and checks its
// hash. Nothing is left at dst unless it is complete and verified.
func (b *boot) fetchRoot(ctx context.Context, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	attempt := 0
	err := poll.Until(ctx, poll.Every(rootFetchBackoff), func(ctx context.Context) error {
		attempt++
		err := b.fetchRootOnce(ctx, dst)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ErrRootHash) || ctx.Err() != nil:
			return poll.Stop(err)
		}
		b.con.Printf("root: attempt %d of %d failed: %v", attempt, rootFetchAttempts, err)
		if attempt == rootFetchAttempts {
			return poll.Stop(err)
		}
		return err
	})
	return err
}

func (b *boot) fetchRootOnce(ctx context.Context, dst string) error {
	ctx, cancel := context.WithTimeout(ctx, DefaultRootFetchTimeout)
	defer cancel()
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.cmd.RootURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "kiln-init")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", b.cmd.RootURL, resp.Status)
	}
	// The file appears at dst complete and verified, or not at all.
	var n int64
	err = atomicfile.Write(dst, 0o600, func(f *os.File) error {
		h := sha256.New()
		var err error
		if n, err = io.Copy(io.MultiWriter(f, h), resp.Body); err != nil {
			return fmt.Errorf("download %s: %w", b.cmd.RootURL, err)
		}
		got := hex.EncodeToString(h.Sum(nil))
		if !strings.EqualFold(got, b.cmd.RootSHA256) {
			return fmt.Errorf("%w: got %s, want %s (from %s)", ErrRootHash, got, strings.ToLower(b.cmd.RootSHA256), b.cmd.RootURL)
		}
		return nil
	})
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	b.con.Mark(console.InitFetchedRoot, "%s in %.1f s (%.0f MiB/s), "+console.InitRootVerified, mib(n), secs, float64(n)/(1<<20)/max(secs, 0.001))
	return nil
}
