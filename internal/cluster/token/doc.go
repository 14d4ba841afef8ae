// Package token handles kubeadm bootstrap tokens ("abcdef.0123456789abcdef"): generating and
// parsing them, reading them from the kubeadm bootstrapTokens configuration, and storing them as
// kube-system/bootstrap-token-<id> Secrets laid out exactly as kubeadm lays them out, so that
// the API server's bootstrap authenticator, the bootstrap signer, the token cleaner and
// "kubeadm token list" all work with them.
//
// A token's secret half is a credential: no error of this package ever contains it.
package token
