// Package units holds the systemd units, drop-ins and system configuration a kiln node boots
// with, embedded into kiln so that "kiln build" places them into every image:
//
//	containerd.service, containerd's config   the runtime: systemd cgroups, the baked pause image
//	crictl.yaml                               crictl's endpoints: containerd's socket
//	kubelet.service + 10-kubeadm.conf         kubeadm's unit and drop-in, unchanged in spirit
//	kiln-firstboot.service                    kiln-agent firstboot: once, after containerd,
//	                                          before kubelet
//	kiln-routes.service                       kiln-agent routes: pod CIDR routes between nodes
//	modules-load, sysctl, networkd defaults   what kubelet, kube-proxy and the CNI plugin need
//
// Table lists every file with its place in the image; Enabled lists the units started at boot.
package units
