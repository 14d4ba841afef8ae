// Package ignition is how kiln-init runs Ignition on a node's first boot: MakePlan finds the
// config source in Ignition's own order (ignition.config.url; ignition.config.device and
// .path, and config drives labelled config-2 or cidata, which kiln-init reads itself because
// Ignition would need udev and mount(8); QEMU fw_cfg; the platform's own provider, as the table
// of package contract/platform says), NetworkReason says whether that source needs the network
// first, and Run runs Ignition's fetch and files stages against the new root, passing its log
// lines on (without DEBUG lines unless asked, never the full config it dumps on failure) and
// refusing configs that use storage.disks, raid, filesystems, luks or kernelArguments.
// Standard library and golang.org/x/sys only.
package ignition
