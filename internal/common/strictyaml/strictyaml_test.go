package strictyaml

import (
	"errors"
	"strings"
	"testing"
)

type inner struct {
	Port int `json:"port"`
}

type doc struct {
	Name  string `json:"name"`
	Inner inner  `json:"inner"`
}

func TestUnmarshal(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    doc
		wantErr string
	}{
		{name: "valid", in: "name: a\ninner: {port: 5}\n", want: doc{Name: "a", Inner: inner{Port: 5}}},
		{name: "unknown nested field", in: "name: a\ninner: {prot: 5}\n", wantErr: `field "inner.prot" is not supported by kiln`},
		{name: "duplicate field", in: "name: a\nname: b\n", wantErr: `already set`},
		{name: "wrong type", in: "name: a\ninner: {port: five}\n", wantErr: `port`},
		{name: "not yaml", in: "name: [a\n", wantErr: `invalid document`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got doc
			err := Unmarshal([]byte(tt.in), &got)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Unmarshal: %v", err)
				}
				if got != tt.want {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want ErrInvalid containing %q", err, tt.wantErr)
			}
		})
	}
}
