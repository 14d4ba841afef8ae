package manifests

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/contract/kubeadm"
	"github.com/kilnproject/kiln/internal/contract/layout"
)

// Inputs are what the static pods depend on.
type Inputs struct {
	// Config is the defaulted cluster configuration; Init.LocalAPIEndpoint.BindPort is the
	// API server's port.
	Config *config.Config
	// NodeName names the etcd member.
	NodeName string
	// AdvertiseAddress is the node's address on the cluster network.
	AdvertiseAddress net.IP
}

// caCertDirs are the host's CA bundle directories mounted into the API server and controller
// manager, as kubeadm mounts those that exist on a Debian host.
var caCertDirs = []volume{
	{name: "ca-certs", hostPath: "/etc/ssl/certs", mountPath: "/etc/ssl/certs", readOnly: true, pathType: corev1.HostPathDirectoryOrCreate},
	{name: "etc-ca-certificates", hostPath: "/etc/ca-certificates", mountPath: "/etc/ca-certificates", readOnly: true, pathType: corev1.HostPathDirectoryOrCreate},
	{name: "usr-share-ca-certificates", hostPath: "/usr/share/ca-certificates", mountPath: "/usr/share/ca-certificates", readOnly: true, pathType: corev1.HostPathDirectoryOrCreate},
	{name: "usr-local-share-ca-certificates", hostPath: "/usr/local/share/ca-certificates", mountPath: "/usr/local/share/ca-certificates", readOnly: true, pathType: corev1.HostPathDirectoryOrCreate},
}

// StaticPods returns the four control-plane static pods, in the order kubeadm writes them.
func StaticPods(in *Inputs) ([]*corev1.Pod, error) {
	if in.NodeName == "" || in.AdvertiseAddress == nil {
		return nil, fmt.Errorf("static pods need the node's name and advertise address")
	}
	apiServer, err := apiServerPod(in)
	if err != nil {
		return nil, err
	}
	return []*corev1.Pod{etcdPod(in), apiServer, controllerManagerPod(in), schedulerPod(in)}, nil
}

func pkiPath(in *Inputs, name string) string {
	return filepath.Join(in.Config.Cluster.CertificatesDir, name)
}

func hostPort(ip net.IP, port int) string { return net.JoinHostPort(ip.String(), strconv.Itoa(port)) }

func etcdPod(in *Inputs) *corev1.Pod {
	c := &in.Config.Cluster
	adv := in.AdvertiseAddress
	localhost := "127.0.0.1"
	if adv.To4() == nil {
		localhost = "::1"
	}
	clientURL := "https://" + hostPort(adv, kubeadm.EtcdClientPort)
	peerURL := "https://" + hostPort(adv, kubeadm.EtcdPeerPort)
	flags := map[string]string{
		"name":                           in.NodeName,
		"data-dir":                       c.Etcd.Local.DataDir,
		"listen-client-urls":             "https://" + hostPort(net.ParseIP(localhost), kubeadm.EtcdClientPort) + "," + clientURL,
		"advertise-client-urls":          clientURL,
		"listen-peer-urls":               peerURL,
		"initial-advertise-peer-urls":    peerURL,
		"initial-cluster":                in.NodeName + "=" + peerURL,
		"listen-metrics-urls":            "http://" + hostPort(net.ParseIP(localhost), kubeadm.EtcdMetricsPort),
		"cert-file":                      pkiPath(in, "etcd/server.crt"),
		"key-file":                       pkiPath(in, "etcd/server.key"),
		"trusted-ca-file":                pkiPath(in, "etcd/ca.crt"),
		"client-cert-auth":               "true",
		"peer-cert-file":                 pkiPath(in, "etcd/peer.crt"),
		"peer-key-file":                  pkiPath(in, "etcd/peer.key"),
		"peer-trusted-ca-file":           pkiPath(in, "etcd/ca.crt"),
		"peer-client-cert-auth":          "true",
		"snapshot-count":                 "10000",
		"feature-gates":                  "InitialCorruptCheck=true",
		"watch-progress-notify-interval": "5s",
	}
	return pod(component{
		name:    kubeadm.Etcd,
		image:   c.Image(kubeadm.Etcd),
		command: command(kubeadm.Etcd, flags, c.Etcd.Local.ExtraArgs),
		cpu:     "100m",
		memory:  "100Mi",
		port:    kubeadm.EtcdMetricsPort,
		probes:  probes{host: localhost, scheme: corev1.URISchemeHTTP, livenessPath: "/livez", readinessPath: "/readyz", startupPath: "/readyz"},
		volumes: []volume{
			{name: "etcd-certs", hostPath: pkiPath(in, "etcd"), mountPath: pkiPath(in, "etcd"), pathType: corev1.HostPathDirectoryOrCreate},
			{name: "etcd-data", hostPath: c.Etcd.Local.DataDir, mountPath: c.Etcd.Local.DataDir, pathType: corev1.HostPathDirectoryOrCreate},
		},
		annotations: map[string]string{"kubeadm.kubernetes.io/etcd.advertise-client-urls": clientURL},
	})
}

func apiServerPod(in *Inputs) (*corev1.Pod, error) {
	c := &in.Config.Cluster
	port := int(in.Config.Init.LocalAPIEndpoint.BindPort)
	etcdHost := "127.0.0.1"
	if in.AdvertiseAddress.To4() == nil {
		etcdHost = "::1"
	}
	flags := map[string]string{
		"advertise-address":                  in.AdvertiseAddress.String(),
		"secure-port":                        strconv.Itoa(port),
		"allow-privileged":                   "true",
		"authorization-mode":                 "Node,RBAC",
		"enable-admission-plugins":           "NodeRestriction",
		"enable-bootstrap-token-auth":        "true",
		"service-cluster-ip-range":           c.Networking.ServiceSubnet,
		"service-account-issuer":             "https://kubernetes.default.svc." + c.Networking.DNSDomain,
		"service-account-key-file":           pkiPath(in, "sa.pub"),
		"service-account-signing-key-file":   pkiPath(in, "sa.key"),
		"client-ca-file":                     pkiPath(in, "ca.crt"),
		"tls-cert-file":                      pkiPath(in, "apiserver.crt"),
		"tls-private-key-file":               pkiPath(in, "apiserver.key"),
		"kubelet-client-certificate":         pkiPath(in, "apiserver-kubelet-client.crt"),
		"kubelet-client-key":                 pkiPath(in, "apiserver-kubelet-client.key"),
		"kubelet-preferred-address-types":    "InternalIP,ExternalIP,Hostname",
		"proxy-client-cert-file":             pkiPath(in, "front-proxy-client.crt"),
		"proxy-client-key-file":              pkiPath(in, "front-proxy-client.key"),
		"requestheader-client-ca-file":       pkiPath(in, "front-proxy-ca.crt"),
		"requestheader-allowed-names":        "front-proxy-client",
		"requestheader-username-headers":     "X-Remote-User",
		"requestheader-group-headers":        "X-Remote-Group",
		"requestheader-extra-headers-prefix": "X-Remote-Extra-",
		"etcd-servers":                       "https://" + hostPort(net.ParseIP(etcdHost), kubeadm.EtcdClientPort),
		"etcd-cafile":                        pkiPath(in, "etcd/ca.crt"),
		"etcd-certfile":                      pkiPath(in, "apiserver-etcd-client.crt"),
		"etcd-keyfile":                       pkiPath(in, "apiserver-etcd-client.key"),
	}
	volumes := append([]volume{{name: "k8s-certs", hostPath: c.CertificatesDir, mountPath: c.CertificatesDir, readOnly: true, pathType: corev1.HostPathDirectoryOrCreate}}, caCertDirs...)
	return pod(component{
		name:        kubeadm.KubeAPIServer,
		image:       c.Image(kubeadm.KubeAPIServer),
		command:     command(kubeadm.KubeAPIServer, flags, c.APIServer.ExtraArgs),
		cpu:         "250m",
		port:        int32(port),
		probes:      probes{host: in.AdvertiseAddress.String(), scheme: corev1.URISchemeHTTPS, livenessPath: "/livez", readinessPath: "/readyz", startupPath: "/livez"},
		volumes:     append(volumes, extraVolumes(c.APIServer.ExtraVolumes)...),
		annotations: map[string]string{"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": hostPort(in.AdvertiseAddress, port)},
	}), nil
}

func controllerManagerPod(in *Inputs) *corev1.Pod {
	c := &in.Config.Cluster
	kubeconfig := layout.KubeconfigPath(layout.ControllerManagerConf)
	flags := map[string]string{
		"bind-address":                     "127.0.0.1",
		"leader-elect":                     "true",
		"kubeconfig":                       kubeconfig,
		"authentication-kubeconfig":        kubeconfig,
		"authorization-kubeconfig":         kubeconfig,
		"client-ca-file":                   pkiPath(in, "ca.crt"),
		"requestheader-client-ca-file":     pkiPath(in, "front-proxy-ca.crt"),
		"root-ca-file":                     pkiPath(in, "ca.crt"),
		"service-account-private-key-file": pkiPath(in, "sa.key"),
		"cluster-signing-cert-file":        pkiPath(in, "ca.crt"),
		"cluster-signing-key-file":         pkiPath(in, "ca.key"),
		"use-service-account-credentials":  "true",
		// bootstrapsigner and tokencleaner are off by default; token discovery needs them.
		"controllers":              "*,bootstrapsigner,tokencleaner",
		"allocate-node-cidrs":      "true",
		"cluster-cidr":             c.Networking.PodSubnet,
		"service-cluster-ip-range": c.Networking.ServiceSubnet,
		"cluster-name":             c.ClusterName,
	}
	volumes := append([]volume{{name: "k8s-certs", hostPath: c.CertificatesDir, mountPath: c.CertificatesDir, readOnly: true, pathType: corev1.HostPathDirectoryOrCreate}}, caCertDirs...)
	volumes = append(volumes, volume{name: "kubeconfig", hostPath: kubeconfig, mountPath: kubeconfig, readOnly: true, pathType: corev1.HostPathFileOrCreate})
	return pod(component{
		name:    kubeadm.ControllerManager,
		image:   c.Image(kubeadm.ControllerManager),
		command: command(kubeadm.ControllerManager, flags, c.ControllerManager.ExtraArgs),
		cpu:     "200m",
		port:    kubeadm.ControllerManagerPort,
		probes:  probes{host: "127.0.0.1", scheme: corev1.URISchemeHTTPS, livenessPath: "/healthz", startupPath: "/healthz"},
		volumes: append(volumes, extraVolumes(c.ControllerManager.ExtraVolumes)...),
	})
}

func schedulerPod(in *Inputs) *corev1.Pod {
	c := &in.Config.Cluster
	kubeconfig := layout.KubeconfigPath(layout.SchedulerConf)
	flags := map[string]string{
		"bind-address":              "127.0.0.1",
		"leader-elect":              "true",
		"kubeconfig":                kubeconfig,
		"authentication-kubeconfig": kubeconfig,
		"authorization-kubeconfig":  kubeconfig,
	}
	return pod(component{
		name:    kubeadm.Scheduler,
		image:   c.Image(kubeadm.Scheduler),
		command: command(kubeadm.Scheduler, flags, c.Scheduler.ExtraArgs),
		cpu:     "100m",
		port:    kubeadm.SchedulerPort,
		probes:  probes{host: "127.0.0.1", scheme: corev1.URISchemeHTTPS, livenessPath: "/livez", readinessPath: "/readyz", startupPath: "/livez"},
		volumes: append([]volume{{name: "kubeconfig", hostPath: kubeconfig, mountPath: kubeconfig, readOnly: true, pathType: corev1.HostPathFileOrCreate}},
			extraVolumes(c.Scheduler.ExtraVolumes)...),
	})
}
