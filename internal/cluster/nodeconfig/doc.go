// Package nodeconfig is the contract between "kiln ignition", which writes a node's identity
// into its Ignition config, and the node agent, which reads it on first boot. It names every
// file Ignition writes, with its mode, and reads them back strictly:
//
//	/etc/kiln/node.yaml             NodeConfig: role, node name, cluster, endpoint, CA pins  0644
//	/etc/kiln/bootstrap-token       worker: "id.secret\n"                                    0600
//	/etc/kiln/ca.crt                worker, optional: the cluster CA for file discovery      0644
//	/etc/kiln/cluster.yaml          control plane: kubeadm Cluster/InitConfiguration         0600
//	/etc/kiln/tokens.yaml           control plane: bootstrap tokens init turns into Secrets  0600
//	/etc/kubernetes/pki/{ca,front-proxy-ca,etcd/ca}.{crt,key}, /etc/kubernetes/pki/sa.{key,pub}
//	                                control plane: the cluster's CAs and service-account keys,
//	                                keys 0600, certificates and sa.pub 0644
//
// The PKI paths are kubeadm's (see package layout), so a kiln control plane looks like a
// kubeadm one. A worker never receives private key material: only a CA pin (or the CA
// certificate) and one bootstrap token. The token is a credential: it never appears in an
// error or in a Token's printed form.
package nodeconfig
