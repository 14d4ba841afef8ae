// Package pin computes and checks CA public-key pins in kubeadm's format,
// "sha256:<lowercase hex of SHA-256 of the certificate's SubjectPublicKeyInfo>". A joining node
// trusts a cluster's CA only when the CA matches a pin the operator gave it.
package pin
