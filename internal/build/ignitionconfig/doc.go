// Package ignitionconfig renders the Ignition config that gives a node its identity on first
// boot: the files of package nodeconfig, filled from the operator's cluster directory, plus the
// operator's own Butane snippet.
//
// kiln's files are built as a Butane document (variant fcos 1.7.0, contents inline, which
// Butane gzips wherever that is smaller), translated by Butane's own translator, and the
// result is checked by Ignition's own parser: the output is Ignition spec 3.6.0 JSON that
// Ignition v2.27 accepts without a warning. An operator snippet is translated on its own, so
// its errors carry its own line numbers, and merged in; writing a path kiln writes is an error.
//
// A worker's config carries no private key: only node.yaml, a CA pin (and optionally the CA
// certificate) and one bootstrap token. A control-plane config carries the cluster's CA keys
// and service-account key: it is a secret, and larger than the 16 KiB many clouds allow for
// user data. Pointer makes the small config that fetches it from a URL and checks its SHA-512.
package ignitionconfig
