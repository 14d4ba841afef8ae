// Package clusterdir is a cluster's directory on the operator's machine: what "kiln cluster
// init" creates and every later command reads. It holds the cluster's configuration, its three
// CAs and service-account key pair, admin.conf and super-admin.conf, and its bootstrap tokens:
//
//	DIR/cluster.yaml            kubeadm ClusterConfiguration + InitConfiguration (no secrets), 0644
//	DIR/pki/{ca,front-proxy-ca,etcd/ca}.{crt,key}, DIR/pki/sa.{key,pub}
//	DIR/admin.conf, DIR/super-admin.conf                                                       0600
//	DIR/tokens.yaml             bootstrap tokens with their expiry                             0600
//
// The directory is created whole or not at all: it is assembled beside its final path and
// renamed into place (over an existing empty directory too), and an existing non-empty
// directory is never overwritten. An interrupted Create leaves its temp directory beside the
// path; RemoveLeftovers, run by the next "kiln cluster init", removes it. Changes to tokens.yaml
// hold a flock on the directory, Create one on its parent.
package clusterdir
