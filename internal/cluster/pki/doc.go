// Package pki creates and checks a cluster's certificates as kubeadm v1.36 does. The
// certificates are a data table (Certs): one entry per kubeadm certificate with its signer, CN,
// O, SANs and usages, so one golden test covers the whole tree. CreateTree writes what is missing
// and reuses what is valid; a file that exists but is not valid is an error naming that file.
package pki
