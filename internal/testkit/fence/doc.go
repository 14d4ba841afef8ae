// Package fence checks the rules of kiln's dependency graph: which packages each program's
// packages may import. Its test reads the graph with "go list" and fails naming the import chain
// that breaks a rule, e.g. a k8s.io package that reached kiln-init.
package fence
