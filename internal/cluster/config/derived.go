package config

import (
	"fmt"
	"net"
	"strconv"

	utilnet "k8s.io/utils/net"
)

// ServiceIP returns the index-th address of the service subnet: 1 is the kubernetes Service,
// 10 the cluster DNS Service.
func (c *ClusterConfiguration) ServiceIP(index int) (net.IP, error) {
	_, cidr, err := net.ParseCIDR(c.Networking.ServiceSubnet)
	if err != nil {
		return nil, fmt.Errorf("networking.serviceSubnet %q: %w", c.Networking.ServiceSubnet, err)
	}
	ip, err := utilnet.GetIndexedIP(cidr, index)
	if err != nil {
		return nil, fmt.Errorf("networking.serviceSubnet %q has no address number %d: %w", c.Networking.ServiceSubnet, index, err)
	}
	return ip, nil
}

// APIServerURL is the URL clients outside the node use: the controlPlaneEndpoint when set,
// otherwise the local advertise address and port.
func (c *Config) APIServerURL() string {
	if c.Cluster.ControlPlaneEndpoint != "" {
		host, port, err := SplitEndpoint(c.Cluster.ControlPlaneEndpoint, int(c.Init.LocalAPIEndpoint.BindPort))
		if err == nil {
			return "https://" + net.JoinHostPort(host, strconv.Itoa(port))
		}
	}
	return c.LocalAPIServerURL()
}

// LocalAPIServerURL is the URL of the API server on this node.
func (c *Config) LocalAPIServerURL() string {
	return "https://" + net.JoinHostPort(c.Init.LocalAPIEndpoint.AdvertiseAddress, strconv.Itoa(int(c.Init.LocalAPIEndpoint.BindPort)))
}

// Image returns the reference of a control-plane image: kube-apiserver, kube-controller-manager,
// kube-scheduler, kube-proxy, etcd, coredns or pause, named as registry.k8s.io names them.
func (c *ClusterConfiguration) Image(name string) string {
	repo := c.ImageRepository
	switch name {
	case "etcd":
		tag := DefaultEtcdVersion
		if l := c.Etcd.Local; l != nil {
			if l.ImageRepository != "" {
				repo = l.ImageRepository
			}
			if l.ImageTag != "" {
				tag = l.ImageTag
			}
		}
		return repo + "/etcd:" + tag
	case "coredns":
		return repo + "/coredns/coredns:" + DefaultCoreDNSVersion
	case "pause":
		return repo + "/pause:" + DefaultPauseVersion
	default:
		return repo + "/" + name + ":" + c.KubernetesVersion
	}
}
