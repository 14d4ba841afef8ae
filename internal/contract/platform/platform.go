package platform

import (
	"slices"
	"strings"
)

// Platform IDs kiln-init picks itself when ignition.platform.id is not given.
const (
	QEMU  = "qemu"  // the machine has QEMU's fw_cfg
	Metal = "metal" // anything else
)

// Source is where a platform's Ignition provider reads the config from.
type Source int

const (
	// None: the provider has no config of its own (metal): only ignition.config.url, a
	// config device or a config drive give one.
	None Source = iota
	// FwCfg: QEMU's fw_cfg blob opt/com.coreos/config.
	FwCfg
	// Hypervisor: a channel to the hypervisor that needs no network (VMware guestinfo,
	// VirtualBox guest properties).
	Hypervisor
	// LocalFile: a file on the machine (Ignition's file platform, IGNITION_CONFIG_FILE).
	LocalFile
	// Metadata: a metadata service over the network.
	Metadata
)

// Platform is one row of the table.
type Platform struct {
	ID     string
	Source Source
	// Config describes the source for the console; "" for None.
	Config string
}

// NeedsNetwork reports whether the provider fetches its config over the network, so that
// kiln-init must bring the network up before Ignition runs.
func (p Platform) NeedsNetwork() bool { return p.Source == Metadata }

// metadata is a row of a platform that reads a metadata service.
func metadata(id string) Platform {
	return Platform{ID: id, Source: Metadata, Config: "the " + id + " metadata service"}
}

// table is every platform kiln knows, sorted by ID. A platform not in it is taken for one with
// a metadata service (see Lookup).
var table = []Platform{
	metadata("aliyun"),
	metadata("aws"),
	metadata("azure"),
	metadata("azurestack"),
	metadata("brightbox"),
	metadata("cloudstack"),
	metadata("digitalocean"),
	metadata("exoscale"),
	{ID: "file", Source: LocalFile, Config: "Ignition's file platform (IGNITION_CONFIG_FILE)"},
	metadata("gcp"),
	metadata("hetzner"),
	metadata("ibmcloud"),
	{ID: Metal, Source: None},
	metadata("nutanix"),
	metadata("openstack"),
	metadata("oraclecloud"),
	metadata("packet"),
	metadata("powervs"),
	{ID: QEMU, Source: FwCfg, Config: "QEMU fw_cfg opt/com.coreos/config"},
	metadata("scaleway"),
	metadata("upcloud"),
	{ID: "virtualbox", Source: Hypervisor, Config: "the VirtualBox guest properties"},
	{ID: "vmware", Source: Hypervisor, Config: "the VMware guestinfo"},
	metadata("vultr"),
}

// All returns every platform of the table, sorted by ID.
func All() []Platform { return slices.Clone(table) }

// Lookup returns the platform id. An id the table does not know is, as Ignition has many
// cloud platforms, taken for one that reads a metadata service over the network; known is
// false then.
func Lookup(id string) (p Platform, known bool) {
	if i, ok := slices.BinarySearchFunc(table, id, func(p Platform, id string) int { return strings.Compare(p.ID, id) }); ok {
		return table[i], true
	}
	return metadata(id), false
}
