// Package strictyaml decodes YAML into Go types the strict way kiln reads every file a person
// writes: an unknown or duplicated field is an error that names the field, never ignored.
package strictyaml

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// ErrInvalid marks a document that is not valid YAML or does not fit the target type.
var ErrInvalid = errors.New("invalid document")

var unknownField = regexp.MustCompile(`unknown field "([^"]+)"`)

// Unmarshal decodes one YAML document into the value into points to. Unknown fields are reported
// as `field "a.b" is not supported by kiln`.
func Unmarshal(doc []byte, into any) error {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	strictErrs, err := sigsjson.UnmarshalStrict(js, into, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(strictErrs) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(strictErrs))
	for _, e := range strictErrs {
		if m := unknownField.FindStringSubmatch(e.Error()); m != nil {
			msgs = append(msgs, fmt.Sprintf("field %q is not supported by kiln", m[1]))
		} else {
			msgs = append(msgs, e.Error())
		}
	}
	return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(msgs, "; "))
}
