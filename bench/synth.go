package bench

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kiln-ml/kiln/schema"
)

// SystemSpec is the spec of a synthetic system of n models, each a
// distributed training job with GPUs, a pipeline whose one step runs that
// job, a sweep over it and a KServe endpoint with a canary: the shape of a
// repository that keeps many models in one system. envs environments
// (dev, staging, prod, then env3, env4, …) each override a little of every
// tenth model, as real environments do.
func SystemSpec(n, envs int) string {
	return systemSpec(synthSpec{pkg: "synth", name: "synth", images: `{
		trainer: "registry.example/trainer:1.0"
		tools:   "registry.example/tools:1.0"
	}`}, n, envs)
}

// synthSpec is what differs between the systems of a fleet: the package,
// the system's name (its namespace is <name>-ml), the value of images,
// and imports besides the schema.
type synthSpec struct {
	pkg, name, images string
	imports           []string
}

func systemSpec(spec synthSpec, n, envs int) string {
	var s strings.Builder
	fmt.Fprintf(&s, "package %s\n\nimport \"github.com/kiln-ml/kiln/schema\"\n", spec.pkg)
	for _, imp := range spec.imports {
		fmt.Fprintf(&s, "import %q\n", imp)
	}
	fmt.Fprintf(&s, `
schema.#System & {
	name:      %q
	namespace: "%s-ml"
	environments: {
`, spec.name, spec.name)
	for e := range max(envs, 1) {
		name := EnvName(e)
		fmt.Fprintf(&s, "\t\t%s: {\n\t\t\tgpu: quota: %d\n", name, 64*n+64)
		if e == 2 {
			s.WriteString("\t\t\tproduction: true\n")
		}
		if e > 0 {
			s.WriteString("\t\t\toverrides: {\n")
			for i := 0; i < n; i += 10 {
				fmt.Fprintf(&s, "\t\t\t\ttraining: \"job-%d\": workers: %d\n", i, 1+e%3)
				fmt.Fprintf(&s, "\t\t\t\tserving: \"model-%d\": replicas: max: %d\n", i, 4+e)
			}
			s.WriteString("\t\t\t}\n")
		}
		s.WriteString("\t\t}\n")
	}
	s.WriteString(`	}
	// The operator is configured to secure init-pytorch, so the
	// namespace stays restricted (and the render warns about nothing).
	trainingOperator: restricted: true
`)
	fmt.Fprintf(&s, "\timages: %s\n\ttraining: {\n", spec.images)
	for i := range n {
		fmt.Fprintf(&s, "\t\t\"job-%d\": {framework: \"pytorch\", image: images.trainer, command: [\"torchrun\", \"train.py\"], workers: %d, resources: {gpus: %d, cpu: \"4\", memory: \"16Gi\"}, args: {lr: 0.001, batch: 64, epochs: %d}}\n",
			i, 2+i%3, 1+i%2, 10+i%7)
	}
	s.WriteString("\t}\n\tpipelines: {\n")
	for i := range n {
		fmt.Fprintf(&s, "\t\t\"retrain-%d\": steps: {\n", i)
		fmt.Fprintf(&s, "\t\t\tprep: {image: images.tools, command: [\"prep\", \"--model\", \"%d\"], resources: {cpu: \"1\", memory: \"2Gi\"}}\n", i)
		fmt.Fprintf(&s, "\t\t\ttrain: {after: [\"prep\"], training: \"job-%d\"}\n", i)
		s.WriteString("\t\t}\n")
	}
	s.WriteString("\t}\n\tsweeps: {\n")
	for i := range n {
		fmt.Fprintf(&s, "\t\t\"tune-%d\": {trial: \"job-%d\", objective: {metric: \"val_accuracy\", goal: \"maximize\"}, algorithm: \"random\", parameters: lr: {min: 1e-4, max: 1e-1, scale: \"log\"}, maxTrials: 8, parallel: 2}\n", i, i)
	}
	s.WriteString("\t}\n\tserving: {\n")
	for i := range n {
		fmt.Fprintf(&s, "\t\t\"model-%d\": {model: {format: \"pytorch\", storageUri: \"s3://models/m%d/v1\"}, canary: {storageUri: \"s3://models/m%d/v2\", percent: 10}, replicas: {min: 1, max: 3}, resources: {gpus: 1, cpu: \"2\", memory: \"8Gi\"}}\n", i, i, i)
	}
	s.WriteString("\t}\n}\n")
	return s.String()
}

// EnvName is the name of the e-th environment of SystemSpec.
func EnvName(e int) string {
	if e < 3 {
		return []string{"dev", "staging", "prod"}[e]
	}
	return fmt.Sprintf("env%d", e)
}

// WriteSystem writes SystemSpec(n, envs) into dir as a CUE module with the
// schema vendored under cue.mod/pkg, so that plain `cue export` loads it
// exactly as kiln does.
func WriteSystem(dir string, n, envs int) error {
	if err := writeModule(dir, "bench.example/synth"); err != nil {
		return err
	}
	return writeFile(dir, "system.cue", SystemSpec(n, envs))
}

// FleetModule is the module path of WriteFleet's repository.
const FleetModule = "bench.example/fleet"

// FleetSystemDir is where WriteFleet puts system i, relative to its
// directory.
func FleetSystemDir(i int) string { return fmt.Sprintf("systems/sys-%03d", i) }

// WriteFleet writes a repository of several systems into dir: one CUE
// module holding systems/sys-NNN/ (FleetSystemDir), each a system of n
// models over envs environments as SystemSpec writes them, with a name and
// namespace of its own, all importing their images from a shared package,
// shared/: the shape of a repository that CI renders with kiln render
// ./... .
func WriteFleet(dir string, systems, n, envs int) error {
	if err := writeModule(dir, FleetModule); err != nil {
		return err
	}
	if err := writeFile(dir, "shared/images.cue", FleetImages("1.0")); err != nil {
		return err
	}
	for i := range systems {
		spec := synthSpec{pkg: "system", name: fmt.Sprintf("sys-%03d", i), images: "shared.images", imports: []string{FleetModule + "/shared"}}
		if err := writeFile(dir, FleetSystemDir(i)+"/system.cue", systemSpec(spec, n, envs)); err != nil {
			return err
		}
	}
	return nil
}

// FleetImages is the shared package of WriteFleet, with the images at
// tag.
func FleetImages(tag string) string {
	return fmt.Sprintf("package shared\n\nimages: {\n\ttrainer: \"registry.example/trainer:%s\"\n\ttools:   \"registry.example/tools:%s\"\n}\n", tag, tag)
}

// writeModule writes a CUE module's module.cue and vendors kiln's schema
// under its cue.mod/pkg.
func writeModule(dir, module string) error {
	if err := writeFile(dir, "cue.mod/module.cue", fmt.Sprintf("module: %q\nlanguage: version: \"v0.17.0\"\n", module+"@v0")); err != nil {
		return err
	}
	return fs.WalkDir(schema.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(schema.FS, p)
		if err != nil {
			return err
		}
		return writeFile(dir, "cue.mod/pkg/"+schema.ImportPath+"/"+p, string(src))
	})
}

func writeFile(dir, rel, content string) error {
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), 0o644)
}
