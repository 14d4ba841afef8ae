// Package tokensecret keeps bootstrap tokens where kubeadm keeps them: as entries of the kubeadm
// bootstrapTokens configuration (FromConfig, ToConfig), and as kube-system/bootstrap-token-<id>
// Secrets laid out exactly as kubeadm lays them out (ToSecret, FromSecret, Create, List), so that
// the API server's bootstrap authenticator, the bootstrap signer, the token cleaner and
// "kubeadm token list" all work with them. The token itself (form, parsing, redaction) is
// package token, which is light; this one needs client-go.
//
// No error of this package ever contains a token's secret.
package tokensecret
