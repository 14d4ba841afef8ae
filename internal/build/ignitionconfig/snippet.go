package ignitionconfig

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/clarketm/json"
	butane "github.com/coreos/butane/config"
	"github.com/coreos/butane/config/common"
	ignerrors "github.com/coreos/ignition/v2/config/shared/errors"
	ignition "github.com/coreos/ignition/v2/config/v3_6"
	"github.com/coreos/ignition/v2/config/v3_6/types"
	"sigs.k8s.io/yaml"
)

// Errors of the operator's snippet.
var (
	// ErrSnippet means Butane or Ignition rejects the snippet; the message carries their
	// report, with the snippet's line numbers.
	ErrSnippet = errors.New("invalid Butane snippet")
	// ErrConflict means the snippet touches a path kiln writes.
	ErrConflict = errors.New("the Butane snippet conflicts with kiln")
)

// translateSnippet translates the operator's Butane snippet on its own, so that its report
// points at the operator's lines. Like "butane --strict", warnings (an unknown key is one)
// are errors.
func translateSnippet(snippet []byte) (types.Config, error) {
	var head struct {
		Variant string `json:"variant"`
		Version string `json:"version"`
	}
	want := fmt.Sprintf("kiln merges Butane variant %s, version %s or older", ButaneVariant, ButaneVersion)
	if err := yaml.Unmarshal(snippet, &head); err == nil && head.Variant != "" && head.Variant != ButaneVariant {
		return types.Config{}, fmt.Errorf("%w: variant %q: %s", ErrSnippet, head.Variant, want)
	}
	out, rpt, err := butane.TranslateBytes(snippet, common.TranslateBytesOptions{})
	var unknown common.ErrUnknownVersion
	if errors.Is(err, common.ErrInvalidVersion) || errors.Is(err, common.ErrNoVariant) || errors.As(err, &unknown) {
		return types.Config{}, fmt.Errorf("%w: %v (%s)", ErrSnippet, err, want)
	}
	if err := reportError(ErrSnippet, rpt, err); err != nil {
		return types.Config{}, err
	}
	cfg, rpt, err := ignition.ParseCompatibleVersion(out)
	if errors.Is(err, ignerrors.ErrUnknownVersion) {
		return types.Config{}, fmt.Errorf("%w: version %s translates to an Ignition spec newer than %s (%s)", ErrSnippet, head.Version, IgnitionVersion, want)
	}
	if err := reportError(ErrSnippet, rpt, err); err != nil {
		return types.Config{}, err
	}
	return cfg, nil
}

// checkConflicts refuses a snippet that would replace kiln's config or write a file, link or
// directory where kiln writes a file, or a file or link where kiln needs a directory.
func checkConflicts(files []content, extra types.Config) error {
	if extra.Ignition.Config.Replace.Source != nil {
		return fmt.Errorf("%w: ignition.config.replace would discard kiln's files; use ignition.config.merge", ErrConflict)
	}
	kiln := make([]string, 0, len(files))
	for _, f := range files {
		kiln = append(kiln, f.Path)
	}
	check := func(kind, p string, mayBeDir bool) error {
		p = path.Clean(p)
		if slices.Contains(kiln, p) {
			return fmt.Errorf("%w: storage.%s: %s is written by kiln", ErrConflict, kind, p)
		}
		if mayBeDir {
			return nil
		}
		for _, k := range kiln {
			if strings.HasPrefix(k, p+"/") {
				return fmt.Errorf("%w: storage.%s: %s is a directory kiln writes %s into", ErrConflict, kind, p, k)
			}
		}
		return nil
	}
	for _, f := range extra.Storage.Files {
		if err := check("files", f.Path, false); err != nil {
			return err
		}
	}
	for _, l := range extra.Storage.Links {
		if err := check("links", l.Path, false); err != nil {
			return err
		}
	}
	for _, d := range extra.Storage.Directories {
		if err := check("directories", d.Path, true); err != nil {
			return err
		}
	}
	return nil
}

// marshal writes a merged config as Butane does: compact, without empty fields.
func marshal(cfg types.Config) ([]byte, error) {
	data, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode Ignition config: %w", err)
	}
	return data, nil
}
