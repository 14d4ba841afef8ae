package ignitionconfig

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	butane "github.com/coreos/butane/config"
	"github.com/coreos/butane/config/common"
	ignition "github.com/coreos/ignition/v2/config/v3_6"
	"github.com/coreos/ignition/v2/config/v3_6/types"
	"github.com/coreos/vcontext/report"
)

// The Butane variant and version kiln writes, and the Ignition spec they translate to.
const (
	ButaneVariant   = "fcos"
	ButaneVersion   = "1.7.0"
	IgnitionVersion = "3.6.0"
)

// ErrInvalidConfig means Butane or Ignition rejected a config kiln made; the message carries
// their report.
var ErrInvalidConfig = errors.New("config rejected by Butane or Ignition")

// butaneDoc is the subset of a Butane fcos 1.7.0 document kiln writes.
type butaneDoc struct {
	Variant  string          `json:"variant"`
	Version  string          `json:"version"`
	Ignition *butaneIgnition `json:"ignition,omitempty"`
	Storage  *butaneStorage  `json:"storage,omitempty"`
}

type butaneIgnition struct {
	Config struct {
		Merge []butaneResource `json:"merge"`
	} `json:"config"`
}

type butaneStorage struct {
	Files []butaneFile `json:"files"`
}

type butaneFile struct {
	Path     string         `json:"path"`
	Mode     int            `json:"mode"`
	Contents butaneResource `json:"contents"`
}

type butaneResource struct {
	Inline       *string             `json:"inline,omitempty"`
	Source       *string             `json:"source,omitempty"`
	Verification *butaneVerification `json:"verification,omitempty"`
}

type butaneVerification struct {
	Hash string `json:"hash"`
}

// build translates kiln's files, merges the operator's snippet and checks the result.
func build(files []content, snippet []byte) ([]byte, error) {
	doc := butaneDoc{Variant: ButaneVariant, Version: ButaneVersion, Storage: &butaneStorage{}}
	for _, f := range files {
		bf := butaneFile{Path: f.Path, Mode: int(f.Mode.Perm())}
		if utf8.Valid(f.data) {
			s := string(f.data)
			bf.Contents.Inline = &s // Butane picks the smallest encoding, gzip included
		} else {
			s := "data:;base64," + base64.StdEncoding.EncodeToString(f.data)
			bf.Contents.Source = &s
		}
		doc.Storage.Files = append(doc.Storage.Files, bf)
	}
	out, err := translateKiln(doc)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(snippet)) == 0 {
		return out, nil
	}
	base, err := parse(out)
	if err != nil {
		return nil, err
	}
	extra, err := translateSnippet(snippet)
	if err != nil {
		return nil, err
	}
	if err := checkConflicts(files, extra); err != nil {
		return nil, err
	}
	merged, err := marshal(ignition.Merge(base, extra))
	if err != nil {
		return nil, err
	}
	if _, err := parse(merged); err != nil {
		return nil, fmt.Errorf("merge the Butane snippet: %w", err)
	}
	return merged, nil
}

// translateKiln runs a document kiln wrote through Butane and Ignition. Any complaint is a bug
// in kiln, so warnings count as errors.
func translateKiln(doc butaneDoc) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // JSON is YAML: Butane reads it as is
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode Butane document: %w", err)
	}
	out, rpt, err := butane.TranslateBytes(buf.Bytes(), common.TranslateBytesOptions{Pretty: false})
	if err := reportError(ErrInvalidConfig, rpt, err); err != nil {
		return nil, err
	}
	if _, err := parse(out); err != nil {
		return nil, err
	}
	return out, nil
}

// parse checks data with Ignition's own 3.6 parser, failing on errors and warnings alike.
func parse(data []byte) (types.Config, error) {
	cfg, rpt, err := ignition.Parse(data)
	if err := reportError(ErrInvalidConfig, rpt, err); err != nil {
		return types.Config{}, err
	}
	return cfg, nil
}

// reportError turns a failed or complaining translation into base, followed by the error and
// the report with its line and column numbers. Info entries pass.
func reportError(base error, rpt report.Report, err error) error {
	var lines []string
	for _, e := range rpt.Entries {
		if e.Kind.IsFatal() || e.Kind == report.Warn {
			lines = append(lines, "  "+e.String())
		}
	}
	if err == nil && len(lines) == 0 {
		return nil
	}
	var msg string
	if err != nil {
		msg = ": " + err.Error()
	}
	if len(lines) > 0 {
		msg += ":\n" + strings.Join(lines, "\n")
	}
	return fmt.Errorf("%w%s", base, msg)
}
