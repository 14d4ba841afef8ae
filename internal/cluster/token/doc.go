// Package token is a kubeadm bootstrap token ("abcdef.0123456789abcdef") as a value: its form,
// generating and parsing it, its usages and groups, and when it expires. Its secret half is a
// secret.String, so a Token redacts itself in every format verb, %#v and log/slog; Value returns
// the credential where it must go (a bootstrap kubeconfig, a Secret, the operator's terminal).
//
// Standard library only, so every program may use it. Where the cluster keeps tokens (kubeadm's
// bootstrapTokens configuration and kube-system Secrets) is package tokensecret.
//
// A token's secret half is a credential: no error of this package ever contains it.
package token
