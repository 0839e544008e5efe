package schema

import "embed"

// FS holds the schema's CUE files. The binary carries them, so a spec needs
// no registry and no network to be checked.
//
//go:embed *.cue
var FS embed.FS

// ImportPath is the CUE import path of the schema package.
const ImportPath = "github.com/kiln-ml/kiln/schema"

// Definition is the definition every spec is unified with.
const Definition = "#System"
