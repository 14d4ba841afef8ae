// Package artifacts reads an artifact manifest (what a node image is made of and where each part
// comes from) and resolves it into the artifact store: it fetches every sourced artifact with
// its hash checked, builds the container images the manifest describes from other artifacts, and
// returns the lock that records the name, version, source and sha256 of each.
//
// A rerun with nothing changed fetches nothing and builds nothing: sourced artifacts are found
// in the store by their hash, built images by the hash of their inputs.
package artifacts
