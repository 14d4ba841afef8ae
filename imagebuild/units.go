package imagebuild

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/kilnproject/kiln/units"
)

// placeUnits writes kiln's systemd units and system configuration into the tree and enables
// the units that start at boot, as "systemctl enable" would: a link in the target's .wants.
func placeUnits(dir string) error {
	for _, f := range units.Table {
		data, err := units.Content(f)
		if err != nil {
			return fmt.Errorf("unit %s: %w", f.Source, err)
		}
		dst := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, f.Mode); err != nil {
			return err
		}
		if err := os.Chmod(dst, f.Mode); err != nil {
			return err
		}
	}
	wants := filepath.Join(dir, "etc/systemd/system", units.WantedBy+".wants")
	if err := os.MkdirAll(wants, 0o755); err != nil {
		return err
	}
	for _, u := range units.Enabled {
		target := "/usr/lib/systemd/system/" + u
		if _, err := os.Stat(filepath.Join(dir, target)); err != nil {
			if _, err2 := os.Stat(filepath.Join(dir, "/lib/systemd/system/", u)); err2 != nil {
				return fmt.Errorf("enable %s: the unit is not in the image", u)
			}
			target = "/lib/systemd/system/" + u
		}
		link := filepath.Join(wants, u)
		os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			return fmt.Errorf("enable %s: %w", u, err)
		}
	}
	return nil
}
