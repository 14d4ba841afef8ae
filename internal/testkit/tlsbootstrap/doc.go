// Package tlsbootstrap performs a node's client-certificate bootstrap as the kubelet does it
// (pkg/kubelet/certificate/bootstrap): with the bootstrap token of bootstrap-kubelet.conf it
// creates a CertificateSigningRequest for "system:node:<name>" in group "system:nodes" with
// signer kubernetes.io/kube-apiserver-client-kubelet, waits until kube-controller-manager has
// approved and signed it, and returns the certificate. NodeKubeconfig then builds the node's
// kubelet.conf credentials from it.
//
// The CSR is named after a digest of its key, subject and usages, as the kubelet names it, so a
// rerun with the same key after a power loss picks up the request it already made.
//
// Errors name the step and the likely cause (token rejected, RBAC missing, request denied, no
// approver, no signer). A token's secret half is a credential: no error contains it.
package tlsbootstrap
