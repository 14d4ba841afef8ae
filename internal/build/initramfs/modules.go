package initramfs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kilnproject/kiln/internal/build/elfdeps"
	"github.com/kilnproject/kiln/internal/contract/bootmedia"
)

// ErrUnknownModule marks a kernel module that is neither in modules.dep nor built in.
var ErrUnknownModule = errors.New("unknown kernel module")

// moduleSuffixes end the file names of kernel modules: plain or compressed by kmod's tools.
var moduleSuffixes = []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"}

// moduleSet is what AddModules collected, to write modules.dep and bootmedia.InitramfsModuleList from.
type moduleSet struct {
	rootfs, kver string
	dir          string            // module directory inside the rootfs, symlinks resolved
	deps         map[string]string // included module (path relative to dir) → its deps, as in modules.dep
	line         map[string]int    // included module → its line in modules.dep
	load         []string          // included modules in load order
}

// AddModules adds the named kernel modules ("virtio_blk", "overlay"; '-' and '_' are the same)
// of kernel kver in rootfs, and every module they depend on, as rootfs/lib/modules/KVER/
// modules.dep says. Module files are copied as they are (.ko, .ko.xz, .ko.zst) to the same path
// as in rootfs, together with symlinks on the way (Debian's /lib → usr/lib). WriteTo then adds
// a modules.dep for the included modules only, in the same format and line order, and
// bootmedia.InitramfsModuleList: the modules in the order their names were given over all calls, each after
// its dependencies. Modules listed in modules.builtin are skipped; any other name not in
// modules.dep is an ErrUnknownModule error naming it. All calls must use the same rootfs and
// kver. Either every module is added or, on an error, none.
func (b *Builder) AddModules(rootfs, kver string, names ...string) error {
	if kver == "" || strings.ContainsAny(kver, "/\n") || kver == "." || kver == ".." {
		return fmt.Errorf("add modules: invalid kernel version %q", kver)
	}
	ms := b.modules
	if ms == nil {
		ms = &moduleSet{rootfs: rootfs, kver: kver, deps: map[string]string{}, line: map[string]int{}}
	} else if ms.rootfs != rootfs || ms.kver != kver {
		return fmt.Errorf("add modules of %s from %s: modules of %s from %s already added", kver, rootfs, ms.kver, ms.rootfs)
	}
	entries, commit, err := ms.add(names)
	if err != nil {
		return fmt.Errorf("add modules of %s from %s: %w", kver, rootfs, err)
	}
	if err := b.addAll(entries); err != nil {
		return fmt.Errorf("add modules of %s from %s: %w", kver, rootfs, err)
	}
	commit()
	b.modules = ms
	return nil
}

// add resolves names and returns the entries for the modules not yet included and the symlinks
// leading to the module directory, and commit, which records the new modules in ms.
func (ms *moduleSet) add(names []string) (entries map[string]*entry, commit func(), err error) {
	// Find modules.dep the way the kernel's tools would see it inside the rootfs, so that a
	// merged /usr (/lib → usr/lib) gives the real directory and the symlink to keep.
	found, err := elfdeps.Resolve(ms.rootfs, path.Join("/lib/modules", ms.kver, "modules.dep"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("no modules.dep (run depmod -b %s %s): %w", ms.rootfs, ms.kver, err)
	}
	if err != nil {
		return nil, nil, err
	}
	entries, err = rootfsEntries(ms.rootfs, found)
	if err != nil {
		return nil, nil, err
	}
	var depFile string
	for _, p := range found {
		if entries[p].mode&typeMask == typeReg {
			depFile = p
		}
	}
	dir := path.Dir(depFile)
	delete(entries, depFile) // written reduced by WriteTo
	dep, err := readModulesDep(ms.host(depFile))
	if err != nil {
		return nil, nil, err
	}
	builtin, err := readModulesBuiltin(ms.host(path.Join(dir, "modules.builtin")))
	if err != nil {
		return nil, nil, err
	}

	// Collect the load order of the new modules first, commit to ms at the end.
	included := func(rel string) bool { _, ok := ms.deps[rel]; return ok }
	var load []string
	state := map[string]int{} // 1: visiting, 2: done
	var visit func(rel string) error
	visit = func(rel string) error {
		switch {
		case state[rel] == 2 || included(rel):
			return nil
		case state[rel] == 1:
			return fmt.Errorf("modules.dep: dependency cycle through %s", rel)
		}
		state[rel] = 1
		for _, d := range strings.Fields(dep.deps[rel]) {
			if _, ok := dep.deps[d]; !ok {
				return fmt.Errorf("modules.dep: %s depends on %s, which has no line", rel, d)
			}
			if err := visit(d); err != nil {
				return err
			}
		}
		state[rel] = 2
		load = append(load, rel)
		return nil
	}
	for _, n := range names {
		key := moduleKey(n)
		rel, ok := dep.byName[key]
		if !ok {
			if builtin[key] {
				continue
			}
			return nil, nil, fmt.Errorf("%w: %s (neither in modules.dep nor in modules.builtin)", ErrUnknownModule, n)
		}
		if err := visit(rel); err != nil {
			return nil, nil, err
		}
	}
	for _, rel := range load {
		if !filepath.IsLocal(rel) {
			return nil, nil, fmt.Errorf("modules.dep: module path %s is not inside the module directory", rel)
		}
		e, err := fileEntry(ms.host(path.Join(dir, rel)), 0o644)
		if err != nil {
			return nil, nil, err
		}
		entries[path.Join(dir, rel)] = e
	}

	commit = func() {
		ms.dir = dir
		for _, rel := range load {
			ms.deps[rel] = dep.deps[rel]
			ms.line[rel] = dep.line[rel]
		}
		ms.load = append(ms.load, load...)
	}
	return entries, commit, nil
}

// host returns the host path of p, a path inside the rootfs without symlinked parents.
func (ms *moduleSet) host(p string) string {
	return filepath.Join(ms.rootfs, filepath.FromSlash(p))
}

// files returns the generated entries: the reduced modules.dep and bootmedia.InitramfsModuleList.
func (ms *moduleSet) files() map[string]*entry {
	var dep, order strings.Builder
	for _, rel := range slices.SortedFunc(slices.Values(ms.load), func(a, b string) int { return ms.line[a] - ms.line[b] }) {
		dep.WriteString(rel + ":")
		if d := ms.deps[rel]; d != "" {
			dep.WriteString(" " + d)
		}
		dep.WriteString("\n")
	}
	for _, rel := range ms.load {
		order.WriteString(path.Join(ms.dir, rel) + "\n")
	}
	return map[string]*entry{
		path.Join(ms.dir, "modules.dep"): dataEntry(typeReg, []byte(dep.String()), 0o644),
		bootmedia.InitramfsModuleList:    dataEntry(typeReg, []byte(order.String()), 0o644),
	}
}

// modulesDep is a parsed modules.dep.
type modulesDep struct {
	deps   map[string]string // module path → its dependencies, space-separated, as written
	line   map[string]int    // module path → line number
	byName map[string]string // moduleKey → module path
}

func readModulesDep(file string) (*modulesDep, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	md := &modulesDep{deps: map[string]string{}, line: map[string]int{}, byName: map[string]string{}}
	err = eachLine(f, func(n int, line string) error {
		mod, deps, ok := strings.Cut(line, ":")
		if !ok || mod == "" {
			return fmt.Errorf("line %d: want \"module: deps\", got %q", n, line)
		}
		if _, dup := md.deps[mod]; dup {
			return fmt.Errorf("line %d: %s listed twice", n, mod)
		}
		md.deps[mod] = strings.Join(strings.Fields(deps), " ")
		md.line[mod] = n
		md.byName[moduleKey(mod)] = mod
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	return md, nil
}

// readModulesBuiltin returns the moduleKeys of the modules built into the kernel; a missing
// modules.builtin means none.
func readModulesBuiltin(file string) (map[string]bool, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	builtin := map[string]bool{}
	err = eachLine(f, func(_ int, line string) error {
		builtin[moduleKey(line)] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	return builtin, nil
}

// eachLine calls fn with each non-empty line of r that is not a comment, numbered from 1.
func eachLine(r io.Reader, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	return sc.Err()
}

// moduleKey turns a module name or path (kernel/drivers/char/hw_random/virtio-rng.ko.xz) into
// the name modprobe matches (virtio_rng): the file name without suffix, '-' as '_'.
func moduleKey(s string) string {
	s = path.Base(strings.TrimSpace(s))
	for _, suffix := range moduleSuffixes {
		if strings.HasSuffix(s, suffix) {
			s = strings.TrimSuffix(s, suffix)
			break
		}
	}
	return strings.ReplaceAll(s, "-", "_")
}
