package diag

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Format names an output format for diagnostics.
type Format string

// The formats kiln prints diagnostics in.
const (
	Text   Format = "text"   // file:line:col: path: message, like go vet
	JSON   Format = "json"   // {"diagnostics":[…]}
	GitHub Format = "github" // GitHub Actions workflow commands
)

// Formats lists the valid formats, for flag help and validation.
var Formats = []Format{Text, JSON, GitHub}

// ParseFormat checks a format name given on the command line.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown output format %q (want text, json or github)", s)
}

// Write prints l to w in format f. Related positions are printed on their
// own indented lines in text form.
func Write(w io.Writer, f Format, l List) error {
	switch f {
	case JSON:
		out := struct {
			Diagnostics List `json:"diagnostics"`
		}{Diagnostics: l}
		if out.Diagnostics == nil {
			out.Diagnostics = List{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case GitHub:
		for _, d := range l {
			if _, err := fmt.Fprintln(w, githubCommand(d)); err != nil {
				return err
			}
		}
		return nil
	default:
		for _, d := range l {
			if _, err := fmt.Fprintln(w, d.String()); err != nil {
				return err
			}
			for _, r := range d.Related {
				if _, err := fmt.Fprintf(w, "\t%s\n", r); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// githubCommand formats d as a workflow command so GitHub marks the line in
// the pull request: ::error file=F,line=L,col=C,title=T::message.
func githubCommand(d Diagnostic) string {
	var props []string
	if d.Pos.File != "" {
		props = append(props, "file="+escapeProperty(d.Pos.File))
		if d.Pos.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", d.Pos.Line))
		}
		if d.Pos.Col > 0 {
			props = append(props, fmt.Sprintf("col=%d", d.Pos.Col))
		}
	}
	if d.Path != "" {
		props = append(props, "title="+escapeProperty(d.Path))
	}
	cmd := "::" + d.Severity.String()
	if len(props) > 0 {
		cmd += " " + strings.Join(props, ",")
	}
	msg := d.Message()
	if d.Path != "" {
		msg = d.Path + ": " + msg
	}
	return cmd + "::" + escapeData(msg)
}

// escapeData and escapeProperty follow the escaping rules of the GitHub
// Actions toolkit, so messages with newlines or commas survive.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
