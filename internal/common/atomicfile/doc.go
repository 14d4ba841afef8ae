// Package atomicfile writes files so that a reader, or a node that loses power, sees either the
// old content or the new one, never half of it: write a temp file beside the target, fsync,
// chmod, rename.
package atomicfile
