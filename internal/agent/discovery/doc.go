// Package discovery tells a joining node how to trust its cluster, as "kubeadm join" does.
//
// ByToken implements kubeadm's token discovery. It reads the public kube-public/cluster-info
// ConfigMap without verifying TLS and without sending any credential, waits until the bootstrap
// signer has added the detached JWS signature for the node's token, checks that signature (so
// the content comes from someone who knows the token secret), checks the CA it carries against
// the operator's pins (so the CA is the one the operator meant), and reads cluster-info a second
// time over TLS verified with that CA, requiring the same bytes. Only then does the token leave
// the node, inside the bootstrap-kubelet.conf ByToken returns.
//
// ByFile is file discovery: the node's configuration already carries the CA, so no network step
// is needed.
//
// A token's secret half is a credential: no error or log line of this package contains it.
package discovery
