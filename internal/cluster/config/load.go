package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kilnproject/kiln/internal/common/strictyaml"
)

// Config is what a kubeadm.yaml holds: one ClusterConfiguration and one InitConfiguration, both
// defaulted and validated.
type Config struct {
	Cluster ClusterConfiguration
	Init    InitConfiguration
}

// ErrInvalid marks a configuration that was read but is wrong.
var ErrInvalid = errors.New("invalid configuration")

// Default returns a Config holding only defaults.
func Default() *Config {
	c := &Config{}
	c.Cluster.SetDefaults()
	c.Init.SetDefaults()
	return c
}

// LoadFile reads a kubeadm.yaml. Errors name the file, the document and the field.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse decodes the YAML documents of a kubeadm.yaml strictly, then defaults and validates them.
// Each kind may appear once; both are optional.
func Parse(data []byte) (*Config, error) {
	c := &Config{}
	seen := map[string]bool{}
	for i, doc := range splitDocuments(data) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("document %d: %w: %v", i+1, ErrInvalid, err)
		}
		where := fmt.Sprintf("document %d (%s)", i+1, tm.Kind)
		if tm.APIVersion != APIVersion {
			return nil, fmt.Errorf("%s: %w: apiVersion %q is not supported, kiln reads %s (convert older files with \"kubeadm config migrate\")", where, ErrInvalid, tm.APIVersion, APIVersion)
		}
		if seen[tm.Kind] {
			return nil, fmt.Errorf("%s: %w: kind %s appears twice", where, ErrInvalid, tm.Kind)
		}
		seen[tm.Kind] = true
		var target any
		switch tm.Kind {
		case KindClusterConfiguration:
			target = &c.Cluster
		case KindInitConfiguration:
			target = &c.Init
			if err := CheckTokenTimes(doc); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		default:
			return nil, fmt.Errorf("%s: %w: kind %q is not supported by kiln (it reads %s and %s)", where, ErrInvalid, tm.Kind, KindClusterConfiguration, KindInitConfiguration)
		}
		if err := decodeStrict(doc, target); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	}
	c.Cluster.SetDefaults()
	c.Init.SetDefaults()
	if err := c.Cluster.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", KindClusterConfiguration, ErrInvalid, err)
	}
	if err := c.Init.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", KindInitConfiguration, ErrInvalid, err)
	}
	return c, nil
}

// decodeStrict rejects unknown and duplicate fields. A field of kubeadm's that kiln does not
// implement is unknown here, so the operator learns it by name instead of losing it silently.
func decodeStrict(doc []byte, into any) error {
	if err := strictyaml.Unmarshal(doc, into); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, strings.TrimPrefix(err.Error(), strictyaml.ErrInvalid.Error()+": "))
	}
	return nil
}

// splitDocuments splits a YAML stream on "---" separator lines and drops empty documents.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		if len(bytes.TrimSpace(stripComments(cur.Bytes()))) > 0 {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
		}
		cur.Reset()
	}
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if t := bytes.TrimRight(line, " \t\r\n"); bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) {
			flush()
			continue
		}
		cur.Write(line)
	}
	flush()
	return docs
}

func stripComments(doc []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out.Write(line)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// Marshal writes c as a two-document kubeadm.yaml that Parse reads back unchanged.
func (c *Config) Marshal() ([]byte, error) {
	cluster, err := yaml.Marshal(&c.Cluster)
	if err != nil {
		return nil, fmt.Errorf("marshal ClusterConfiguration: %w", err)
	}
	init, err := yaml.Marshal(&c.Init)
	if err != nil {
		return nil, fmt.Errorf("marshal InitConfiguration: %w", err)
	}
	return bytes.Join([][]byte{cluster, init}, []byte("---\n")), nil
}
