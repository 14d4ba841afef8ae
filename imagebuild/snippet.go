package imagebuild

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kilnproject/kiln/internal/build/ignitionconfig"
)

// presetFile enables the units a profile's snippet marks enabled: the image ships an empty
// machine-id, so systemd applies presets on first boot.
const presetFile = "/usr/lib/systemd/system-preset/20-kiln-profile.preset"

// bakeSnippet writes a profile's Butane snippet into the tree: files, directories, links, units
// (in /etc/systemd/system), drop-ins, and the preset lines for enabled or disabled units.
func bakeSnippet(root string, snippet string) error {
	if strings.TrimSpace(snippet) == "" {
		return nil
	}
	b, err := ignitionconfig.Bake([]byte(snippet))
	if err != nil {
		return fmt.Errorf("profile butane: %w", err)
	}
	for _, d := range b.Dirs {
		if err := os.MkdirAll(inTree(root, d.Path), d.Mode); err != nil {
			return err
		}
		if err := os.Chmod(inTree(root, d.Path), d.Mode); err != nil {
			return err
		}
	}
	for _, f := range b.Files {
		if err := writeTreeFile(root, f.Path, f.Contents, f.Mode); err != nil {
			return err
		}
	}
	for _, l := range b.Links {
		dst := inTree(root, l.Path)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		os.Remove(dst)
		if l.Hard {
			err = os.Link(inTree(root, l.Target), dst)
		} else {
			err = os.Symlink(l.Target, dst)
		}
		if err != nil {
			return fmt.Errorf("profile butane: link %s: %w", l.Path, err)
		}
	}
	var presets []string
	for _, u := range b.Units {
		unitPath := path.Join("/etc/systemd/system", u.Name)
		if u.Contents != "" {
			if err := writeTreeFile(root, unitPath, []byte(u.Contents), 0o644); err != nil {
				return err
			}
		}
		for _, d := range u.Dropins {
			if err := writeTreeFile(root, path.Join(unitPath+".d", d.Name), []byte(d.Contents), 0o644); err != nil {
				return err
			}
		}
		switch {
		case u.Mask:
			os.Remove(inTree(root, unitPath))
			if err := os.Symlink("/dev/null", inTree(root, unitPath)); err != nil {
				return fmt.Errorf("profile butane: mask %s: %w", u.Name, err)
			}
		case u.Enabled != nil && *u.Enabled:
			presets = append(presets, "enable "+u.Name)
		case u.Enabled != nil:
			presets = append(presets, "disable "+u.Name)
		}
	}
	if len(presets) == 0 {
		return nil
	}
	sort.Strings(presets)
	return writeTreeFile(root, presetFile, []byte(strings.Join(presets, "\n")+"\n"), 0o644)
}

func inTree(root, p string) string { return filepath.Join(root, filepath.FromSlash(path.Clean("/"+p))) }

func writeTreeFile(root, p string, data []byte, mode os.FileMode) error {
	dst := inTree(root, p)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		return err
	}
	return os.Chmod(dst, mode)
}
