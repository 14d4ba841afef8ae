package units

import (
	"embed"
	"io/fs"
)

//go:embed files
var files embed.FS

// File is one file a node image carries.
type File struct {
	// Path is where the file goes in the image's root filesystem.
	Path string
	// Source is the file's name in this package's files directory.
	Source string
	// Mode is its permission bits.
	Mode fs.FileMode
}

// Table is every file, in the order an image builder writes them.
var Table = []File{
	{Path: "/usr/lib/systemd/system/containerd.service", Source: "containerd.service", Mode: 0o644},
	{Path: "/etc/containerd/config.toml", Source: "containerd-config.toml", Mode: 0o644},
	{Path: "/etc/crictl.yaml", Source: "crictl.yaml", Mode: 0o644},
	{Path: "/usr/lib/systemd/system/kubelet.service", Source: "kubelet.service", Mode: 0o644},
	{Path: "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf", Source: "10-kubeadm.conf", Mode: 0o644},
	{Path: "/usr/lib/systemd/system/kiln-firstboot.service", Source: "kiln-firstboot.service", Mode: 0o644},
	{Path: "/usr/lib/systemd/system/kiln-routes.service", Source: "kiln-routes.service", Mode: 0o644},
	{Path: "/usr/lib/modules-load.d/kiln.conf", Source: "modules-load.conf", Mode: 0o644},
	{Path: "/usr/lib/sysctl.d/90-kiln.conf", Source: "sysctl.conf", Mode: 0o644},
	{Path: "/usr/lib/systemd/network/90-kiln-dhcp.network", Source: "90-kiln-dhcp.network", Mode: 0o644},
}

// Enabled are the units an image starts at boot, each wanted by multi-user.target.
var Enabled = []string{
	"systemd-networkd.service",
	"containerd.service",
	"kiln-firstboot.service",
	"kubelet.service",
	"kiln-routes.service",
}

// WantedBy is the target every unit in Enabled is wanted by.
const WantedBy = "multi-user.target"

// Content returns the bytes of f.
func Content(f File) ([]byte, error) {
	return files.ReadFile("files/" + f.Source)
}
