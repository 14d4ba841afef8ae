package clusterdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kilnproject/kiln/internal/cluster/config"
	"github.com/kilnproject/kiln/internal/cluster/token"
	"github.com/kilnproject/kiln/internal/cluster/tokensecret"
	"github.com/kilnproject/kiln/internal/common/atomicfile"
)

// tokensFile is the format of tokens.yaml.
type tokensFile struct {
	Tokens []config.BootstrapToken `json:"bootstrapTokens"`
}

// Tokens reads the cluster's bootstrap tokens.
func (d *Dir) Tokens() ([]*token.Token, error) {
	return ReadTokens(filepath.Join(d.Path, TokensFile))
}

// ReadTokens reads a tokens.yaml file (the cluster directory's, or the copy a control-plane
// node receives); a missing file holds no tokens. Errors never contain a token.
func ReadTokens(path string) ([]*token.Token, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if err := config.CheckTokenTimes(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var f tokensFile
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var tokens []*token.Token
	for i, bt := range f.Tokens {
		t, err := tokensecret.FromConfig(bt, time.Now())
		if bt.Token == "" || err != nil {
			return nil, fmt.Errorf("%s: bootstrapTokens[%d] is not a valid token", path, i)
		}
		tokens = append(tokens, t)
	}
	return tokens, nil
}

// AddToken appends t to tokens.yaml, under the directory's lock: concurrent calls, from any
// process, each keep their token.
func (d *Dir) AddToken(t *token.Token) error {
	unlock, err := lock(d.Path)
	if err != nil {
		return err
	}
	defer unlock()
	tokens, err := d.Tokens()
	if err != nil {
		return err
	}
	return d.writeTokens(append(tokens, t))
}

func (d *Dir) writeTokens(tokens []*token.Token) error {
	var f tokensFile
	for _, t := range tokens {
		f.Tokens = append(f.Tokens, tokensecret.ToConfig(t))
	}
	data, err := yaml.Marshal(&f)
	if err != nil {
		return fmt.Errorf("encode tokens: %w", err)
	}
	return atomicfile.WriteFile(filepath.Join(d.Path, TokensFile), data, 0o600)
}

func writeConfig(path string, cfg *config.Config) error {
	data, err := cfg.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o644)
}
