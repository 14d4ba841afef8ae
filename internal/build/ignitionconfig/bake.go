package ignitionconfig

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/coreos/ignition/v2/config/v3_6/types"
)

// ErrNotBakeable marks a profile snippet asking for something an image cannot hold.
var ErrNotBakeable = errors.New("not possible in an image")

// Baked is what a profile's Butane snippet puts into an image: plain files, directories,
// links and systemd units. Everything per node (users, disks, remote content) belongs in the
// node's own Ignition config instead.
type Baked struct {
	Files []File
	Dirs  []Dir
	Links []Link
	Units []Unit
}

// Dir is a directory to create.
type Dir struct {
	Path string
	Mode fs.FileMode
}

// Link is a symbolic (or hard) link.
type Link struct {
	Path, Target string
	Hard         bool
}

// Unit is a systemd unit with its drop-ins.
type Unit struct {
	Name     string
	Contents string // empty: only drop-ins for a unit the image already has
	Enabled  *bool  // nil: leave as is
	Mask     bool
	Dropins  []Dropin
}

// Dropin is a unit drop-in file.
type Dropin struct{ Name, Contents string }

// Bake translates a profile's Butane snippet (variant fcos, 1.7.0 or older) and returns what
// it puts into an image. Remote sources, users and groups, disks and filesystems, and config
// merging are refused by name: an image is the same for every node and needs no network.
func Bake(snippet []byte) (*Baked, error) {
	cfg, err := translateSnippet(snippet)
	if err != nil {
		return nil, err
	}
	if err := refuseNodeOnly(cfg); err != nil {
		return nil, err
	}
	data, err := marshal(cfg)
	if err != nil {
		return nil, err
	}
	files, err := DecodeFiles(data)
	if err != nil {
		return nil, err
	}
	b := &Baked{}
	for _, f := range files {
		if f.Source != "" {
			return nil, fmt.Errorf("storage.files %s: %w: a remote source (%s); inline the contents", f.Path, ErrNotBakeable, f.Source)
		}
		b.Files = append(b.Files, f)
	}
	for _, d := range cfg.Storage.Directories {
		mode := fs.FileMode(0o755)
		if d.Mode != nil {
			mode = fs.FileMode(*d.Mode)
		}
		b.Dirs = append(b.Dirs, Dir{Path: d.Path, Mode: mode})
	}
	for _, l := range cfg.Storage.Links {
		b.Links = append(b.Links, Link{Path: l.Path, Target: deref(l.Target), Hard: l.Hard != nil && *l.Hard})
	}
	for _, u := range cfg.Systemd.Units {
		unit := Unit{Name: u.Name, Contents: deref(u.Contents), Enabled: u.Enabled, Mask: u.Mask != nil && *u.Mask}
		for _, d := range u.Dropins {
			unit.Dropins = append(unit.Dropins, Dropin{Name: d.Name, Contents: deref(d.Contents)})
		}
		b.Units = append(b.Units, unit)
	}
	return b, nil
}

func refuseNodeOnly(cfg types.Config) error {
	switch {
	case len(cfg.Passwd.Users) > 0 || len(cfg.Passwd.Groups) > 0:
		return fmt.Errorf("passwd: %w: users and groups are per node; give them to kiln ignition --butane", ErrNotBakeable)
	case len(cfg.Storage.Disks) > 0 || len(cfg.Storage.Filesystems) > 0 || len(cfg.Storage.Raid) > 0 || len(cfg.Storage.Luks) > 0:
		return fmt.Errorf("storage: %w: disks, filesystems, RAID and LUKS are per machine", ErrNotBakeable)
	case len(cfg.Ignition.Config.Merge) > 0 || cfg.Ignition.Config.Replace.Source != nil:
		return fmt.Errorf("ignition.config: %w: an image cannot fetch configs", ErrNotBakeable)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
