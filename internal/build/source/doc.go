// Package source says where an artifact's bytes come from: a local file (what this machine
// built), an http(s) URL (a release download, always pinned by sha256), or an OCI registry
// reference (an image, written out as a deterministic OCI archive). All three are a Source;
// Parse turns a profile's spec string into one.
//
// A Source only yields bytes. Hashing, verifying and caching them is the artifact store's job.
package source
