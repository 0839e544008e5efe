package validate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// SplitYAML splits a multi-document YAML stream at its "---" separators, as
// kubectl does. Documents that hold only blank lines and comments are dropped.
// The documents are not parsed; each returned slice is a copy.
func SplitYAML(stream []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("splitting YAML stream: %w", err)
		}
		if isBlank(doc) {
			continue
		}
		docs = append(docs, bytes.Clone(doc))
	}
	return docs, nil
}
