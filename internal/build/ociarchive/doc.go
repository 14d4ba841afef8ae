// Package ociarchive writes and reads OCI archives: a tar of an OCI image layout (oci-layout,
// index.json, blobs/sha256/<hex>) holding one image, in the shape "ctr images import" loads.
//
// Write is deterministic: entries are sorted by name, carry a zero mtime, uid/gid 0 and modes
// 0644 (files) / 0755 (directories), so one image always gives the same archive bytes and the
// archive's sha256 can be pinned in the artifact lock. The manifest is copied byte for byte, so
// the image keeps the digest its registry gave it. The index.json descriptor carries the
// org.opencontainers.image.ref.name annotation with the image's full name: containerd names
// imported images after it and imports nothing without it.
package ociarchive
