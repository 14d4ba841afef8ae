package ignitionconfig

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/vincent-petithory/dataurl"
)

// File is one storage.files entry of a config, decoded.
type File struct {
	Path string
	Mode fs.FileMode
	// Contents are the decoded bytes of a data: URL; nil for a remote source.
	Contents []byte
	// Source is the URL of a remote source; empty for a data: URL.
	Source string
}

// DecodeFiles parses an Ignition 3.6 config with Ignition's own parser and returns its files,
// their data: URLs decoded and decompressed as Ignition does on the node.
func DecodeFiles(ign []byte) ([]File, error) {
	cfg, err := parse(ign)
	if err != nil {
		return nil, err
	}
	var files []File
	for _, f := range cfg.Storage.Files {
		out := File{Path: f.Path, Mode: 0o644} // Ignition's default for files
		if f.Mode != nil {
			out.Mode = fs.FileMode(*f.Mode)
		}
		if src := f.Contents.Source; src != nil {
			data, err := decodeDataURL(*src, f.Contents.Compression)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Path, err)
			}
			if data == nil {
				out.Source = *src
			}
			out.Contents = data
		}
		files = append(files, out)
	}
	return files, nil
}

// decodeDataURL returns the bytes of a data: URL, gunzipped when compression is "gzip"; nil for
// any other URL.
func decodeDataURL(src string, compression *string) ([]byte, error) {
	if !strings.HasPrefix(src, "data:") {
		return nil, nil
	}
	u, err := dataurl.DecodeString(src)
	if err != nil {
		return nil, fmt.Errorf("data URL: %w", err)
	}
	data := u.Data
	if compression != nil && *compression == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}
