// Package artifactstore is kiln's content-addressed cache of build inputs, and the lock file
// that records them.
//
// A store is a directory: root/sha256/<hex> holds content (mode 0644, never changed once there),
// root/tmp/ holds downloads in flight. Put streams a Source into root/tmp while hashing it and
// renames the file into place only when its sha256 is the one asked for, so the store never
// holds a file whose name lies about its content; a cached file is re-hashed before it is
// trusted. Temp names are unique and rename is atomic, so processes may share a store.
//
// The lock file (kind ArtifactLock) lists what each input was: name, version, source and
// sha256. It is written sorted and atomically, and read strictly.
package artifactstore
