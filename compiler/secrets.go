package compiler

import (
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"

	"github.com/kiln-ml/kiln/ir"
)

// kiln never holds secret values (see #SecretRef), but nothing stopped a
// literal token, key or password in env or args, which kiln would then
// write in plain text into manifests that go to Git. A literal is held to
// be a credential when its variable or flag is named like one (TOKEN,
// PASSWORD, API_KEY, …) or when it has the shape of a well-known token.
// A literal that only looks like one is marked with the field attribute
// @kiln(notsecret) on its field (on the env variable, the arg, or the
// whole args list).

// secretWords are the words (or pairs of words) of a variable or flag
// name that say it carries a credential; notSecretWords say it names where
// one is, or something else (a file, a path, a Secret's name, a count).
var (
	secretWords    = []string{"password", "passwd", "pwd", "secret", "token", "apikey", "credential", "credentials", "privatekey", "accesskey", "authkey"}
	secretPairs    = [][2]string{{"api", "key"}, {"access", "key"}, {"private", "key"}, {"secret", "key"}, {"auth", "key"}, {"client", "secret"}}
	notSecretWords = []string{"file", "path", "dir", "name", "ref", "url", "uri", "endpoint", "id", "header", "type", "mount", "location", "env", "var"}
	camelRE        = regexp.MustCompile(`([a-z0-9])([A-Z])`)
)

// namedLikeCredential reports whether a variable or flag name says it
// carries a credential: MY_API_TOKEN, dbPassword, --api-key, but not
// TOKEN_FILE, max_tokens, tokenizer or --secret-name.
func namedLikeCredential(name string) bool {
	words := strings.FieldsFunc(strings.ToLower(camelRE.ReplaceAllString(name, "${1}_${2}")), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	})
	secret := false
	for i, w := range words {
		if slices.Contains(notSecretWords, w) {
			return false
		}
		if slices.Contains(secretWords, w) {
			secret = true
		}
		if i > 0 && slices.Contains(secretPairs, [2]string{words[i-1], w}) {
			secret = true
		}
	}
	return secret
}

// secretShape matches values shaped like well-known credentials.
var secretShape = regexp.MustCompile(`(^|[^A-Za-z0-9])(` + strings.Join([]string{
	`gh[pousr]_[A-Za-z0-9]{30,}`,                     // GitHub tokens
	`github_pat_[A-Za-z0-9_]{30,}`,                   // GitHub fine-grained tokens
	`glpat-[A-Za-z0-9_-]{20,}`,                       // GitLab tokens
	`(AKIA|ASIA)[0-9A-Z]{16}`,                        // AWS access key IDs
	`xox[abprs]-[A-Za-z0-9-]{10,}`,                   // Slack tokens
	`sk-[A-Za-z0-9_-]{20,}`,                          // OpenAI-style API keys
	`hf_[A-Za-z0-9]{30,}`,                            // Hugging Face tokens
	`AIza[0-9A-Za-z_-]{35}`,                          // Google API keys
	`eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.`, // JWTs
	`-----BEGIN [A-Z ]*PRIVATE KEY-----`,             // PEM private keys
}, "|") + `)`)

// looksLikeCredential says why the literal value of name is held to be a
// credential, or "".
func looksLikeCredential(name, value string) string {
	if value == "" || strings.Contains(value, "{{") {
		// Empty, or filled in by Argo from a parameter or an item.
		return ""
	}
	if secretShape.MatchString(value) {
		return "has the shape of an access token or key"
	}
	if namedLikeCredential(name) && !strings.HasPrefix(value, "/") && !isPlaceholder(value) {
		return "is named like a credential (" + name + ")"
	}
	return ""
}

// isPlaceholder reports values that obviously hold no credential: booleans
// and numbers (e.g. a --max-tokens flag) or a reference to another
// variable ($(VAR), ${VAR}).
func isPlaceholder(v string) bool {
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return true
	}
	switch strings.ToLower(v) {
	case "true", "false", "none", "null":
		return true
	}
	return strings.HasPrefix(v, "$(") || strings.HasPrefix(v, "${")
}

var (
	envMapType   = reflect.TypeFor[map[string]ir.EnvVar]()
	argsMapType  = reflect.TypeFor[map[string]ir.Value]()
	stringsType  = reflect.TypeFor[[]string]()
	argListNames = []string{"args", "extraArgs", "command", "workerCommand"}
)

// checkCredentials reports literal credentials in env and args, unless
// marked @kiln(notsecret).
func (k checker) checkCredentials() {
	report := func(path, why string) {
		if k.notSecret(path) {
			return
		}
		k.errorf(path, "this literal %s, and kiln would write it in plain text into the manifests: put it in a Secret and refer to it ({secret: \"<name>\", key: \"<key>\"} in env), or, if it is not a secret, mark the field @kiln(notsecret)", why)
	}
	walkFields("", reflect.ValueOf(k.env.Spec), func(at *irPath, field string, v reflect.Value) {
		switch {
		case v.Type() == envMapType:
			for _, name := range slices.Sorted(maps.Keys(v.Interface().(map[string]ir.EnvVar))) {
				e := v.Interface().(map[string]ir.EnvVar)[name]
				if e.Secret == nil {
					if why := looksLikeCredential(name, e.Value); why != "" {
						report(ir.Join(at.String(), name), why)
					}
				}
			}
		case v.Type() == argsMapType:
			for _, name := range slices.Sorted(maps.Keys(v.Interface().(map[string]ir.Value))) {
				if why := looksLikeCredential(name, v.Interface().(map[string]ir.Value)[name].String()); why != "" {
					report(ir.Join(at.String(), name), why)
				}
			}
		case v.Type() == stringsType && slices.Contains(argListNames, field):
			args := v.Interface().([]string)
			for i, a := range args {
				name, value := "", a
				if flag, val, ok := strings.Cut(a, "="); ok && strings.HasPrefix(flag, "-") {
					name, value = strings.TrimLeft(flag, "-"), val
				} else if i > 0 && strings.HasPrefix(args[i-1], "-") && !strings.Contains(args[i-1], "=") && !strings.HasPrefix(a, "-") {
					name = strings.TrimLeft(args[i-1], "-")
				}
				if why := looksLikeCredential(name, value); why != "" {
					report(ir.Index(at.String(), i), why)
				}
			}
		}
	})
}

// notSecret reports whether the value at path, or the field holding it
// (an env map, an args list), carries @kiln(notsecret), in the base spec
// or in the environment's overrides.
func (k checker) notSecret(path string) bool {
	if !k.user.Exists() {
		return false
	}
	over := ir.Join(ir.Path("environments", k.env.Name, "overrides"), path)
	for _, p := range []string{path, ir.Parent(path), over, ir.Parent(over)} {
		a := k.user.LookupPath(toCUEPath(p)).Attribute("kiln")
		if a.Err() != nil {
			continue
		}
		for i := range a.NumArgs() {
			if s, _ := a.String(i); strings.TrimSpace(s) == "notsecret" {
				return true
			}
		}
	}
	return false
}

// toCUEPath turns a CUE path as ir writes it into a cue.Path.
func toCUEPath(path string) cue.Path {
	var sels []cue.Selector
	for _, label := range splitPath(path) {
		sels = append(sels, cue.Str(label))
	}
	return cue.MakePath(sels...)
}
