package profile

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kilnproject/kiln/internal/build/envexpand"
	"github.com/kilnproject/kiln/internal/common/strictyaml"
)

// The profile's type identifiers.
const (
	APIVersion = "kiln.dev/v1alpha1"
	Kind       = "Profile"
)

// Node roles.
const (
	RoleControlPlane = "control-plane"
	RoleWorker       = "worker"
)

// Output formats.
const (
	FormatRaw = "raw" // NAME.raw: a GPT disk image
	FormatISO = "iso" // NAME.iso: a UEFI-bootable ISO
	FormatPXE = "pxe" // NAME-pxe/: kernel, initramfs, root squashfs, iPXE script
)

// ErrInvalid marks a profile that was read but is wrong.
var ErrInvalid = errors.New("invalid profile")

// Profile describes the image of one node role.
type Profile struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Name names the outputs: NAME.raw, NAME.iso, NAME-pxe/.
	Name string `json:"name"`
	Role string `json:"role"`
	// KubernetesVersion must match the version of the kubelet artifact.
	KubernetesVersion string    `json:"kubernetesVersion"`
	Artifacts         Artifacts `json:"artifacts"`
	// Images are the container images (artifact names) preloaded into containerd on first boot.
	Images []string `json:"images"`
	// Butane is a Butane (fcos 1.7.0) snippet whose files, directories, links and units are
	// baked into the image. Secrets do not belong here: images carry none.
	Butane string `json:"butane,omitempty"`
	// KernelArgs are appended to kiln's own kernel command line.
	KernelArgs []string   `json:"kernelArgs,omitempty"`
	Partitions Partitions `json:"partitions"`
	// Formats are the outputs `kiln build` writes unless --format overrides them.
	Formats []string `json:"formats"`
}

// Artifacts says where the artifacts come from: a lock file and its store, as written by
// `kiln artifacts`; ${VAR} is expanded (KILN_CACHE defaults to ~/.cache/kiln).
type Artifacts struct {
	Lock  string `json:"lock"`
	Store string `json:"store"`
	// Base is the artifact name of the base root filesystem.
	Base string `json:"base"`
}

// Partitions are sizes as Kubernetes quantities ("256Mi", "2Gi").
type Partitions struct {
	ESP string `json:"esp"`
	// Var is the size of the VAR partition in the image; on first boot it grows to the disk.
	Var string `json:"var"`
}

// ESPBytes is the ESP's size in bytes (the profile was validated).
func (p Partitions) ESPBytes() int64 { return mustBytes(p.ESP) }

// VarBytes is the VAR partition's size in bytes.
func (p Partitions) VarBytes() int64 { return mustBytes(p.Var) }

func mustBytes(q string) int64 {
	n, _ := bytes(q)
	return n
}

func bytes(q string) (int64, error) {
	v, err := resource.ParseQuantity(q)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size like 128Mi or 2Gi", q)
	}
	return v.Value(), nil
}

// LoadFile reads and validates a profile.
func LoadFile(file string) (*Profile, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	p, err := Parse(data, os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return p, nil
}

// Parse decodes a profile strictly, expands ${VAR} in artifact paths with lookup, and validates.
func Parse(data []byte, lookup func(string) (string, bool)) (*Profile, error) {
	var p Profile
	if err := strictyaml.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	for _, f := range []struct {
		field string
		val   *string
	}{{"artifacts.lock", &p.Artifacts.Lock}, {"artifacts.store", &p.Artifacts.Store}} {
		v, err := envexpand.Expand(*f.val, lookup)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, f.field, err)
		}
		*f.val = v
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return &p, nil
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// Minimum sizes: go-diskfs writes FAT32 from 34 MiB; VAR must hold a fresh ext4 with room.
const (
	minESP = 34 << 20
	minVar = 64 << 20
)

func (p *Profile) validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if p.APIVersion != APIVersion || p.Kind != Kind {
		add("apiVersion/kind is %q/%q, want %s/%s", p.APIVersion, p.Kind, APIVersion, Kind)
	}
	if !dnsLabel.MatchString(p.Name) {
		add("name %q must be a DNS label (lowercase letters, digits, '-')", p.Name)
	}
	if p.Role != RoleControlPlane && p.Role != RoleWorker {
		add("role %q is not %s or %s", p.Role, RoleControlPlane, RoleWorker)
	}
	if !strings.HasPrefix(p.KubernetesVersion, "v1.") {
		add("kubernetesVersion %q is not a version like v1.36.3", p.KubernetesVersion)
	}
	if p.Artifacts.Lock == "" {
		add("artifacts.lock is empty")
	}
	if p.Artifacts.Store == "" {
		add("artifacts.store is empty")
	}
	if p.Artifacts.Base == "" {
		add("artifacts.base is empty")
	}
	seen := map[string]bool{}
	for i, img := range p.Images {
		if img == "" || seen[img] {
			add("images[%d] %q is empty or listed twice", i, img)
		}
		seen[img] = true
	}
	for i, a := range p.KernelArgs {
		if a == "" || strings.ContainsAny(a, " \t\n") {
			add("kernelArgs[%d] %q must be one non-empty word", i, a)
		}
	}
	if n, err := bytes(p.Partitions.ESP); err != nil {
		add("partitions.esp: %v", err)
	} else if n < minESP || n == 64<<20 {
		add("partitions.esp %s must be at least 34Mi and not exactly 64Mi (a limit of the FAT32 writer)", p.Partitions.ESP)
	}
	if n, err := bytes(p.Partitions.Var); err != nil {
		add("partitions.var: %v", err)
	} else if n < minVar {
		add("partitions.var %s must be at least 64Mi", p.Partitions.Var)
	}
	if len(p.Formats) == 0 {
		add("formats is empty: give one or more of raw, iso, pxe")
	}
	if err := CheckFormats(p.Formats); err != nil {
		add("formats: %v", err)
	}
	return errors.Join(errs...)
}

// CheckFormats reports a format that is not raw, iso or pxe, or one given twice.
func CheckFormats(formats []string) error {
	seen := map[string]bool{}
	for _, f := range formats {
		switch {
		case f != FormatRaw && f != FormatISO && f != FormatPXE:
			return fmt.Errorf("%q is not raw, iso or pxe", f)
		case seen[f]:
			return fmt.Errorf("%q is given twice", f)
		}
		seen[f] = true
	}
	return nil
}
