package main

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"sigs.k8s.io/yaml"

	"github.com/kilnproject/kiln/firstboot"
	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
	"github.com/kilnproject/kiln/internal/cluster/tokensecret"
	"github.com/kilnproject/kiln/internal/contract/imagemeta"
	"github.com/kilnproject/kiln/qemu-tests/vmcluster"
)

// The kubeadm variant boots the same kiln-built images with the same per-node Ignition (the
// cluster's CAs, its settings, the node's network), plus what kubeadmButane adds: kiln's own
// first boot masked, and a unit that does what an operator does with stock kubeadm on such a
// machine. It imports the same baked archives the same way (one ctr import per CPU), runs
// kubeadm init or kubeadm join with the cluster's own configuration (every preflight check on,
// none ignored), and then writes the CNI configuration kiln's pod-network phase writes, once
// the node has its pod CIDR.
const (
	kubeadmUnit   = "kubeadm-firstboot.service"
	kubeadmDir    = "/etc/kiln-bench"
	kubeadmConfig = kubeadmDir + "/kubeadm.yaml"
	kubeadmScript = kubeadmDir + "/kubeadm-firstboot"
	cniTemplate   = kubeadmDir + "/cni.conflist"
	// podCIDRMark stands for the node's pod CIDR in cniTemplate.
	podCIDRMark = "@POD_CIDR@"
	criSocket   = "unix:///run/containerd/containerd.sock"
)

// kubeadmButane is the Butane snippet that turns a node of p into a stock-kubeadm node.
func kubeadmButane(p *vmcluster.Plan, role nodeconfig.Role, name, ip string) ([]byte, error) {
	// kubeadm join prints no token; init needs telling.
	action, skipTokenPrint, configure := "join", "", joinConfiguration
	if role == nodeconfig.RoleControlPlane {
		action, skipTokenPrint, configure = "init", " --skip-token-print", initConfiguration
	}
	kubeadmYAML, err := configure(p, name, ip)
	if err != nil {
		return nil, err
	}
	cni, err := firstboot.CNIConfig(podCIDRMark)
	if err != nil {
		return nil, err
	}
	script := strings.NewReplacer("@ACTION@", action, "@NODE@", name, "@SKIP_TOKEN_PRINT@", skipTokenPrint).Replace(kubeadmFirstboot)
	snippet := map[string]any{
		"variant": "fcos",
		"version": "1.7.0",
		"storage": map[string]any{
			"files": []any{
				file(kubeadmConfig, 0o600, kubeadmYAML),
				file(kubeadmScript, 0o755, []byte(script)),
				file(cniTemplate, 0o644, cni),
				hostsFile(name, ip),
			},
		},
		"systemd": map[string]any{
			"units": []any{
				map[string]any{"name": "kiln-firstboot.service", "mask": true},
				map[string]any{"name": kubeadmUnit, "enabled": true, "contents": kubeadmUnitFile},
			},
		},
	}
	return yaml.Marshal(snippet)
}

// hostsFile lists the node under its own name. kubeadm's Hostname preflight check resolves
// the name, and the VMs' DNS server never answers (restrict=on): without the entry the lookup
// costs kubeadm a timeout of about 10 s that a machine on a real network would not pay.
func hostsFile(name, ip string) map[string]any {
	f := file("/etc/hosts", 0o644, []byte("127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n"+ip+"\t"+name+"\n"))
	f["overwrite"] = true
	return f
}

func file(path string, mode int, contents []byte) map[string]any {
	return map[string]any{"path": path, "mode": mode, "contents": map[string]any{"inline": string(contents)}}
}

// initConfiguration is the kubeadm configuration of the first control plane: the cluster
// directory's ClusterConfiguration (with the etcd and CoreDNS tags kiln bakes, which are newer
// than kubeadm's defaults), and an InitConfiguration with the node's name and address, the
// cluster's bootstrap token, and no image pulls.
func initConfiguration(p *vmcluster.Plan, name, ip string) ([]byte, error) {
	cfg, err := p.Cluster.Config()
	if err != nil {
		return nil, err
	}
	cluster, err := asMap(cfg.Cluster)
	if err != nil {
		return nil, err
	}
	cluster["dns"] = map[string]any{"imageTag": config.DefaultCoreDNSVersion}
	etcd, _ := cluster["etcd"].(map[string]any)
	local, _ := etcd["local"].(map[string]any)
	if local == nil {
		return nil, fmt.Errorf("cluster configuration: no local etcd")
	}
	local["imageTag"] = config.DefaultEtcdVersion
	tokens, err := p.Cluster.Tokens()
	if err != nil {
		return nil, err
	}
	var bootstrapTokens []any
	for _, t := range tokens {
		bt := tokensecret.ToConfig(t)
		// kubeadm defaults a missing TTL and then refuses a TTL beside expires: give the time
		// left instead.
		if bt.Expires != nil {
			bt.TTL = &metav1.Duration{Duration: time.Until(bt.Expires.Time).Truncate(time.Second)}
			bt.Expires = nil
		}
		bootstrapTokens = append(bootstrapTokens, bt)
	}
	init := map[string]any{
		"apiVersion":       config.APIVersion,
		"kind":             "InitConfiguration",
		"bootstrapTokens":  bootstrapTokens,
		"localAPIEndpoint": map[string]any{"advertiseAddress": ip, "bindPort": config.DefaultAPIBindPort},
		"nodeRegistration": nodeRegistration(name, ip),
		// Under TCG the API server takes well over a minute to start.
		"timeouts": map[string]any{"controlPlaneComponentHealthCheck": "15m0s"},
	}
	return yamlDocuments(cluster, init)
}

// joinConfiguration is a worker's: token discovery of the control plane, pinned to the
// cluster's CA, with the token kiln's worker would use.
func joinConfiguration(p *vmcluster.Plan, name, ip string) ([]byte, error) {
	tokens, err := p.Cluster.Tokens()
	if err != nil {
		return nil, err
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("cluster directory %s has no bootstrap token", p.Cluster.Path)
	}
	caPin, err := p.Cluster.CAPin()
	if err != nil {
		return nil, err
	}
	join := map[string]any{
		"apiVersion": config.APIVersion,
		"kind":       "JoinConfiguration",
		"discovery": map[string]any{"bootstrapToken": map[string]any{
			"apiServerEndpoint": fmt.Sprintf("%s:%d", vmcluster.ControlPlaneIP, config.DefaultAPIBindPort),
			"token":             tokens[0].Value(),
			"caCertHashes":      []string{caPin},
		}},
		"nodeRegistration": nodeRegistration(name, ip),
		// The worker powers on with the control plane and waits for its API server.
		"timeouts": map[string]any{"discovery": "30m0s", "tlsBootstrap": "15m0s"},
	}
	return yamlDocuments(join)
}

func nodeRegistration(name, ip string) map[string]any {
	return map[string]any{
		"name":            name,
		"criSocket":       criSocket,
		"imagePullPolicy": "Never",
		"kubeletExtraArgs": []any{
			map[string]any{"name": "node-ip", "value": ip},
		},
	}
}

func asMap(v any) (map[string]any, error) {
	data, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, yaml.Unmarshal(data, &m)
}

func yamlDocuments(docs ...any) ([]byte, error) {
	var buf bytes.Buffer
	for i, d := range docs {
		data, err := yaml.Marshal(d)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(data)
	}
	return buf.Bytes(), nil
}

// kubeadmUnitFile runs the script once, after containerd and the network, like kiln-firstboot;
// unlike it, it is not ordered before kubelet.service: kubeadm restarts kubelet itself, and
// until then kubelet restarts every 10 s for want of a configuration, as on any kubeadm node.
const kubeadmUnitFile = `[Unit]
Description=stock kubeadm first boot (kiln's benchmark)
ConditionPathExists=!/var/lib/kiln-bench/firstboot.done
Requires=containerd.service
After=containerd.service network-online.target systemd-networkd-wait-online.service
Wants=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=` + kubeadmScript + `
TimeoutStartSec=infinity
SyslogIdentifier=kubeadm-firstboot
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
`

// kubeadmFirstboot prints its phases the way kiln-agent does ("[phase] done in 1.2s"), so that
// the benchmark reads both consoles alike.
const kubeadmFirstboot = `#!/bin/sh
set -eu
node=@NODE@
t0=$(date +%s.%N)
t=$t0
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1fs", b - a }'; }
done_in() { echo "[$1] done in $(since "$t")"; t=$(date +%s.%N); }

echo "[kubeadm-firstboot] first boot: images, kubeadm @ACTION@, pod-network"
ls ` + imagemeta.ImagesDir + `/*.tar | xargs -P "$(nproc)" -n 1 ctr --namespace k8s.io images import >/dev/null
done_in images

kubeadm @ACTION@ --config ` + kubeadmConfig + `@SKIP_TOKEN_PRINT@
done_in kubeadm/@ACTION@

until cidr=$(kubectl --kubeconfig /etc/kubernetes/kubelet.conf get node "$node" -o 'jsonpath={.spec.podCIDR}' 2>/dev/null) && [ -n "$cidr" ]; do
	sleep 1
done
mkdir -p "$(dirname ` + firstboot.CNIConfigPath + `)"
sed "s|` + podCIDRMark + `|$cidr|" ` + cniTemplate + ` >` + firstboot.CNIConfigPath + `.tmp
mv ` + firstboot.CNIConfigPath + `.tmp ` + firstboot.CNIConfigPath + `
echo "[pod-network] pods on this node get addresses from $cidr"
done_in pod-network

mkdir -p /var/lib/kiln-bench
date -u +%FT%TZ >/var/lib/kiln-bench/firstboot.done
echo "[kubeadm-firstboot] first boot complete in $(since "$t0"): kubelet keeps the node"
`
