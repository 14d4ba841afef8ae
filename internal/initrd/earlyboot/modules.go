package earlyboot

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrInvalidModuleList marks a bootmedia.InitramfsModuleList line that is not an absolute, clean path.
var ErrInvalidModuleList = errors.New("invalid module list")

// parseModuleList reads a module list: one absolute path per line; empty lines and lines
// starting with '#' are skipped.
func parseModuleList(r io.Reader) ([]string, error) {
	var mods []string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !path.IsAbs(line) || path.Clean(line) != line {
			return nil, fmt.Errorf("%w: line %d: %q is not an absolute clean path", ErrInvalidModuleList, n, line)
		}
		mods = append(mods, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read module list: %w", err)
	}
	return mods, nil
}

// moduleResult counts what loadModules did.
type moduleResult struct {
	Loaded, Present int      // newly loaded; already loaded (EEXIST)
	Skipped         []string // "name: reason" of modules whose device is absent (ENODEV, ENXIO)
}

// loadModules loads each module with load, in order. A module that is already loaded counts as
// present; one that finds no device is skipped with its reason (a driver for hardware this
// machine does not have); any other error stops the loading.
func loadModules(mods []string, load func(file string) error) (moduleResult, error) {
	var res moduleResult
	for _, m := range mods {
		err := load(m)
		switch {
		case err == nil:
			res.Loaded++
		case errors.Is(err, unix.EEXIST):
			res.Present++
		case errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENXIO):
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %v", moduleName(m), err))
		default:
			return res, fmt.Errorf("load module %s: %w", m, err)
		}
	}
	return res, nil
}

// finitModule loads the kernel module in file; the kernel decompresses .ko.xz, .ko.zst and
// .ko.gz files itself (MODULE_INIT_COMPRESSED_FILE).
func finitModule(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	flags := 0
	if !strings.HasSuffix(file, ".ko") {
		flags = unix.MODULE_INIT_COMPRESSED_FILE
	}
	if err := unix.FinitModule(int(f.Fd()), "", flags); err != nil {
		return err
	}
	return nil
}

// moduleName is the module name of a module file: virtio_blk for …/virtio_blk.ko.xz.
func moduleName(file string) string {
	base := path.Base(file)
	if i := strings.Index(base, ".ko"); i > 0 {
		base = base[:i]
	}
	return strings.ReplaceAll(base, "-", "_")
}
