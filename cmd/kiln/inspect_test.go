package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/kilnproject/kiln/imagebuild"
	"github.com/kilnproject/kiln/internal/build/diskimage"
	"github.com/kilnproject/kiln/internal/cluster/token"
	"github.com/kilnproject/kiln/internal/common/secret"
	"github.com/kilnproject/kiln/internal/contract/imagemeta"
)

// A crafted image.json: a short hash, and names carrying terminal escapes.
func TestPrintInspectionOfACraftedImage(t *testing.T) {
	const esc = "\x1b]0;owned\x07\x1b[2J"
	ins := &imagebuild.Inspection{
		Path:       "evil.raw",
		Partitions: &diskimage.Table{Partitions: []diskimage.Partition{{Number: 1, Label: "ROOT" + esc, Type: "T" + esc, Size: 1 << 20}}},
		Metadata: &imagemeta.Metadata{
			Name: "node" + esc, Role: "worker" + esc, KubernetesVersion: "v1" + esc, KernelVersion: "6" + esc, KernelArgs: "a" + esc,
			Artifacts: []imagemeta.Artifact{{Name: "kubelet" + esc, Version: "1" + esc, SHA256: "abc"}, {Name: "k", Version: "1", SHA256: strings.Repeat("é", 20)}},
			Images:    []imagemeta.Image{{Ref: "pause" + esc, Digest: "sha256:1" + esc}},
		},
	}
	var out bytes.Buffer
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("printInspection panicked: %v", r)
			}
		}()
		if err := printInspection(&out, ins); err != nil {
			t.Fatal(err)
		}
	}()
	s := out.String()
	if strings.ContainsAny(s, "\x1b\x07") {
		t.Errorf("output carries control characters:\n%q", s)
	}
	if !strings.Contains(s, `node\x1b]0;owned\x07`) {
		t.Errorf("the name is not shown escaped:\n%s", s)
	}
	if !strings.Contains(s, "abc") {
		t.Errorf("the short hash is not shown:\n%s", s)
	}
	if !strings.Contains(s, "éééé") || strings.Contains(s, "\uFFFD") {
		t.Errorf("a long hash is not cut on a character boundary:\n%s", s)
	}
}

func TestPrintTokensEscapesControlCharacters(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	tokens := []*token.Token{{
		ID: "abcdef", Secret: secret.New("0123456789abcdef"), Expires: &exp,
		Description: "rack\x1b[31m 4\x1b]0;owned\x07", Usages: []string{"signing\x1b"}, Groups: []string{"system:bootstrappers:x\x1b"},
	}}
	var out bytes.Buffer
	cmd := &cobra.Command{}
	cmd.SetOut(&out)
	if err := printTokens(cmd, tokens); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); strings.ContainsAny(s, "\x1b\x07") || !strings.Contains(s, `rack\x1b[31m 4`) {
		t.Errorf("token list output:\n%q", s)
	}
}
