// Package atomicfile is kiln's one way to write a file: a temp file beside the target, its mode
// set, fsync, rename over the target, fsync of the directory (as google/renameio does), so that a
// reader, or a node that loses power, sees either the old content or the new one, never half of
// it, and the new name survives the power cut too. A device or FIFO (/dev/null, /dev/stdout) is
// written in place instead, and a symlink is followed, never replaced. Standard library only:
// kiln-init uses it.
package atomicfile
