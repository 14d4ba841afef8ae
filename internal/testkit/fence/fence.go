package fence

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Module is kiln's module path.
const Module = "github.com/kilnproject/kiln"

// Package is one package of a dependency graph as go list reports it.
type Package struct {
	ImportPath string
	Standard   bool
	CgoFiles   []string
	Imports    []string
}

// Graph is a package graph keyed by import path.
type Graph map[string]*Package

// Load lists pattern and all its dependencies with go list, run in dir (the module's root).
func Load(dir string, pattern string) (Graph, error) {
	if err := statSources(dir); err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Standard,CgoFiles,Imports", pattern)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=1") // so that cgo files show in the graph
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps %s: %w: %s", pattern, err, stderr.String())
	}
	g := Graph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p Package
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list -deps %s: %w", pattern, err)
		}
		g[p.ImportPath] = &p
	}
	return g, nil
}

// statSources stats every Go source and go.mod/go.sum under dir. go test caches a test's result
// keyed by the files the test itself opened or stat'ed, not by what a command it ran read, so
// this makes an added import rerun the fence test instead of reusing a cached pass.
func statSources(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != dir {
			return filepath.SkipDir
		}
		if name := d.Name(); strings.HasSuffix(name, ".go") || name == "go.mod" || name == "go.sum" {
			_, err = os.Stat(path)
		}
		return err
	})
}

// Rule says what the packages under a root may reach, directly or through others.
type Rule struct {
	// Root is an import path; the rule covers Root and every package it imports transitively.
	Root string
	// Allow reports whether a non-standard package may be in Root's graph.
	Allow func(importPath string) bool
	// NoCgo forbids cgo in any non-standard package of the graph (a static program).
	NoCgo bool
}

// Check returns one message per package of g, reachable from r.Root, that breaks r, each with
// the import chain that reached it.
func (r Rule) Check(g Graph) []string {
	var problems []string
	parent := map[string]string{r.Root: ""}
	queue := []string{r.Root}
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		p, ok := g[path]
		if !ok {
			continue
		}
		switch {
		case p.Standard:
			// The standard library is always allowed and its cgo is off in kiln's static builds.
			continue
		case path != r.Root && !r.Allow(path):
			problems = append(problems, fmt.Sprintf("%s may not import %s (via %s)", r.Root, path, chain(parent, path)))
			continue
		case r.NoCgo && len(p.CgoFiles) > 0:
			problems = append(problems, fmt.Sprintf("%s needs cgo: %s has cgo files %v (via %s)", r.Root, path, p.CgoFiles, chain(parent, path)))
		}
		for _, imp := range p.Imports {
			if _, seen := parent[imp]; !seen {
				parent[imp] = path
				queue = append(queue, imp)
			}
		}
	}
	slices.Sort(problems)
	return problems
}

// chain is the import chain from the rule's root to path: "root → a → path".
func chain(parent map[string]string, path string) string {
	var links []string
	for p := path; p != ""; p = parent[p] {
		links = append(links, strings.TrimPrefix(p, Module+"/"))
	}
	slices.Reverse(links)
	return strings.Join(links, " → ")
}

// Under returns a predicate that allows the kiln packages under each of groups (e.g.
// "internal/contract") and the external modules with each of prefixes.
func Under(groups []string, prefixes ...string) func(string) bool {
	return func(path string) bool {
		for _, g := range groups {
			if full := Module + "/" + g; path == full || strings.HasPrefix(path, full+"/") {
				return true
			}
		}
		for _, p := range prefixes {
			if strings.HasPrefix(path, p) {
				return true
			}
		}
		return false
	}
}

// Except returns a predicate that allows every package but kiln's under each of groups.
func Except(groups ...string) func(string) bool {
	deny := Under(groups)
	return func(path string) bool { return !deny(path) }
}
