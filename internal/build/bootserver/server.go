package bootserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/kilnproject/kiln/internal/build/ignitionconfig"
	"github.com/kilnproject/kiln/internal/cluster/clusterdir"
	"github.com/kilnproject/kiln/internal/cluster/nodeconfig"
)

// bundleFiles are the files of a PXE bundle the server hands out.
var bundleFiles = map[string]bool{"vmlinuz": true, "initrd.img": true, "root.squashfs": true, "boot.ipxe": true}

// Server serves one Config.
type Server struct {
	cfg     *Config
	cluster *clusterdir.Dir
	log     *slog.Logger
	mux     *http.ServeMux

	mu    sync.Mutex
	etags map[string]string // file path → sha256, computed once
}

// New checks that the cluster directory opens and that every group's config renders, and
// returns the server's handler.
func New(cfg *Config, log *slog.Logger) (*Server, error) {
	d, err := clusterdir.Open(cfg.Cluster)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	s := &Server{cfg: cfg, cluster: d, log: log, mux: http.NewServeMux(), etags: map[string]string{}}
	for i := range cfg.Groups {
		if _, err := s.render(&cfg.Groups[i], Machine{MAC: "52:54:00:00:00:00"}); err != nil {
			return nil, fmt.Errorf("%w: groups[%d] (%s): %v", ErrConfig, i, cfg.Groups[i].Name, err)
		}
	}
	s.mux.HandleFunc("GET /boot.ipxe", s.bootScript)
	s.mux.HandleFunc("GET /bundle/{bundle}/ignition", s.ignition)
	s.mux.HandleFunc("GET /bundle/{bundle}/{file}", s.bundleFile)
	return s, nil
}

// ServeHTTP logs every request with the group it matched.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	s.log.Info("request", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr,
		"group", rec.Header().Get("X-Kiln-Group"), "status", rec.status, "bytes", rec.bytes, "duration", time.Since(start).Round(time.Millisecond).String())
}

// match finds the requesting machine's group, or answers 404.
func (s *Server) match(w http.ResponseWriter, r *http.Request) (*Group, Machine, bool) {
	m := machineFrom(r.URL.Query())
	g := s.cfg.Match(m)
	if g == nil {
		http.NotFound(w, r)
		return nil, m, false
	}
	w.Header().Set("X-Kiln-Group", g.Name)
	return g, m, true
}

// baseURL is how the machine reaches this server.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.URL != "" {
		return strings.TrimSuffix(s.cfg.URL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// bootScript is the group's bundle's iPXE script with base-url pointing at this server.
func (s *Server) bootScript(w http.ResponseWriter, r *http.Request) {
	g, _, ok := s.match(w, r)
	if !ok {
		return
	}
	script, err := os.ReadFile(filepath.Join(s.cfg.Bundles[g.Bundle], "boot.ipxe"))
	if err != nil {
		s.fail(w, "read boot.ipxe", err)
		return
	}
	base := s.baseURL(r) + "/bundle/" + g.Bundle
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(script), "\n") {
		if strings.HasPrefix(line, "isset ${base-url}") {
			line = "set base-url " + base + "\n"
		}
		out.WriteString(line)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(out.Bytes())
}

// bundleFile serves a bundle's file with Range support and its sha256 as ETag.
func (s *Server) bundleFile(w http.ResponseWriter, r *http.Request) {
	dir, ok := s.cfg.Bundles[r.PathValue("bundle")]
	file := r.PathValue("file")
	if !ok || !bundleFiles[file] {
		http.NotFound(w, r)
		return
	}
	path := filepath.Join(dir, file)
	f, err := os.Open(path)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.fail(w, "stat "+file, err)
		return
	}
	etag, err := s.etag(path, f)
	if err != nil {
		s.fail(w, "hash "+file, err)
		return
	}
	w.Header().Set("ETag", `"`+etag+`"`)
	http.ServeContent(w, r, file, fi.ModTime(), f)
}

// etag is a file's sha256, computed on first use.
func (s *Server) etag(path string, f *os.File) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.etags[path]; ok {
		return e, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	e := hex.EncodeToString(h.Sum(nil))
	s.etags[path] = e
	return e, nil
}

// ignition renders the machine's config. A machine whose group boots another bundle, or none,
// gets 404.
func (s *Server) ignition(w http.ResponseWriter, r *http.Request) {
	g, m, ok := s.match(w, r)
	if !ok {
		return
	}
	if g.Bundle != r.PathValue("bundle") {
		http.NotFound(w, r)
		return
	}
	data, err := s.render(g, m)
	if err != nil {
		s.fail(w, "render Ignition for group "+g.Name, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.coreos.ignition+json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(data)
}

// render is the Ignition config of machine m in group g.
func (s *Server) render(g *Group, m Machine) ([]byte, error) {
	role, _ := nodeconfig.ParseRole(g.Role)
	return ignitionconfig.Render(s.cluster, ignitionconfig.Options{Role: role, NodeName: g.nodeName(m), Butane: g.butane})
}

// fail logs the cause and answers 500 without it: errors may name files, never secrets, but the
// client needs neither.
func (s *Server) fail(w http.ResponseWriter, what string, err error) {
	s.log.Error(what, "error", err.Error())
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// recorder keeps the status and size of a response for the request log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }
func (r *recorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}
