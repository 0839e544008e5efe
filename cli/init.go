package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"
	"github.com/spf13/cobra"

	"github.com/kiln-ml/kiln/schema"
)

type initOptions struct {
	name      string
	namespace string
	force     bool
	template  string
}

// initTemplates are the scaffolds init writes, by --template name.
var initTemplates = map[string]*template.Template{
	"default": specTemplate,
	"llm":     llmTemplate,
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func (a *app) newInitCmd() *cobra.Command {
	var o initOptions
	cmd := &cobra.Command{
		Use:   "init DIR",
		Short: "Scaffold a working spec",
		Long: `Init creates DIR with a small, working spec (system.cue) and a cue.mod that
vendors kiln's schema, so editors and plain 'cue vet' understand the spec as
well as kiln does. kiln itself always uses the schema built into the binary.

--template chooses the scaffold: "default" trains a PyTorch model with
Trainer v2 in a weekly pipeline and serves it with KServe; "llm" is the shape
of the llm-finetune example, smaller: a Trainer v2 LoRA fine-tune on 2 nodes,
a TPE sweep of its learning rate and LoRA rank, an evaluation pipeline that
promotes the model as a canary, and vLLM serving through KServe's
LLMInferenceService, routed by a Gateway API Gateway.

Init refuses to write into a directory that already holds .cue files. With
--force it treats such a directory as an existing spec and upgrades it: it
refreshes the vendored schema (cue.mod/pkg/` + schema.ImportPath + `, in the
CUE module that holds DIR) to the schema of this kiln binary, removes schema
files this kiln no longer has, and touches nothing else: your .cue files and
cue.mod/module.cue stay as they are. Run it after upgrading kiln, so editors
and 'cue vet' check what kiln checks.`,
		Example: `  kiln init my-system
  kiln init --name fraud --namespace fraud-ml ./spec
  kiln init --template llm chat-tune   # an LLM fine-tune, sweep and vLLM serving
  kiln init --force ./spec     # after upgrading kiln: refresh the vendored schema`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runInit(cmd.Context(), args[0], o)
		},
	}
	cmd.Flags().StringVar(&o.name, "name", "", "system name (default: the directory name)")
	cmd.Flags().StringVar(&o.namespace, "namespace", "", "Kubernetes namespace (default: the system name)")
	cmd.Flags().StringVar(&o.template, "template", "default", `scaffold to write: "default" or "llm"`)
	cmd.Flags().BoolVar(&o.force, "force", false, "in a directory that already has a spec, refresh only the vendored schema (after upgrading kiln)")
	return cmd
}

func (a *app) runInit(ctx context.Context, dir string, o initOptions) error {
	tmpl, ok := initTemplates[o.template]
	if !ok {
		return usageError{fmt.Errorf("unknown template %q: want one of %s", o.template, strings.Join(slices.Sorted(maps.Keys(initTemplates)), ", "))}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if existing, _ := filepath.Glob(filepath.Join(abs, "*.cue")); len(existing) > 0 {
		if !o.force {
			return usageError{fmt.Errorf("%s already has .cue files; use --force to refresh its vendored schema", dir)}
		}
		return a.refreshSchema(ctx, dir, abs)
	}
	name := o.name
	if name == "" {
		name = strings.ToLower(filepath.Base(abs))
	}
	if !dnsLabel.MatchString(name) || len(name) > 63 {
		return usageError{fmt.Errorf("system name %q is not a DNS-1123 label; pass --name", name)}
	}
	ns := o.namespace
	if ns == "" {
		ns = name
	}
	if !dnsLabel.MatchString(ns) || len(ns) > 63 {
		return usageError{fmt.Errorf("namespace %q is not a DNS-1123 label", ns)}
	}

	files := map[string][]byte{}
	var spec strings.Builder
	if err := tmpl.Execute(&spec, map[string]string{
		"Package":   packageName(name),
		"Name":      name,
		"Namespace": ns,
		"Import":    schema.ImportPath,
	}); err != nil {
		return err
	}
	// The scaffold must parse whatever the name: a syntax error here is a
	// bug in kiln, not something the user could fix with --name.
	if _, err := parser.ParseFile("system.cue", spec.String()); err != nil {
		return fmt.Errorf("internal error: the scaffold for %q does not parse: %w", name, err)
	}
	files["system.cue"] = []byte(spec.String())
	files[filepath.Join("cue.mod", "module.cue")] = []byte(fmt.Sprintf("module: %q\nlanguage: version: \"v0.17.0\"\n", "example.com/"+name+"@v0"))
	vendored, err := vendoredSchema()
	if err != nil {
		return err
	}
	for rel, b := range vendored {
		files[rel] = b
	}
	// Check everything before writing anything.
	for rel := range files {
		if _, err := os.Stat(filepath.Join(abs, rel)); err == nil {
			if _, ok := vendored[rel]; ok {
				continue // a left-over vendored schema is refreshed
			}
			return fmt.Errorf("%s already exists; not overwriting it", filepath.Join(dir, rel))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := a.guardWrite(ctx, func() error { return writeFiles(abs, files) }); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "created %s: edit system.cue, then run: kiln vet %s && kiln render %s\n", dir, dir, dir)
	return nil
}

// schemaVendorDir is where a CUE module vendors kiln's schema.
var schemaVendorDir = filepath.Join("cue.mod", "pkg", filepath.FromSlash(schema.ImportPath))

// vendoredSchema is this binary's schema as a module vendors it: path
// relative to the module root -> contents.
func vendoredSchema() (map[string][]byte, error) {
	names, err := fs.Glob(schema.FS, "*.cue")
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, f := range names {
		b, err := fs.ReadFile(schema.FS, f)
		if err != nil {
			return nil, err
		}
		files[filepath.Join(schemaVendorDir, f)] = b
	}
	return files, nil
}

func writeFiles(root string, files map[string][]byte) error {
	for _, rel := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[rel], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// refreshSchema upgrades the spec in dir (abs): the vendored schema of the
// CUE module holding it becomes this binary's, schema files this kiln no
// longer has are removed, and nothing else is touched. A spec without a
// module gets one in dir, as init would have written it, so the vendored
// schema resolves.
func (a *app) refreshSchema(ctx context.Context, dir, abs string) error {
	root := moduleRoot(abs)
	if root != "" {
		// kiln's own repository imports the schema from its source;
		// a vendored copy there would shadow it.
		if b, err := os.ReadFile(filepath.Join(root, "cue.mod", "module.cue")); err == nil && bytes.Contains(b, []byte(`"github.com/kiln-ml/kiln`)) {
			return usageError{fmt.Errorf("%s is inside kiln's own module, which uses the schema from its source; nothing to refresh", dir)}
		}
	}
	files, err := vendoredSchema()
	if err != nil {
		return err
	}
	if root == "" {
		root = abs
		name := strings.ToLower(filepath.Base(abs))
		if !dnsLabel.MatchString(name) {
			name = "spec"
		}
		files[filepath.Join("cue.mod", "module.cue")] = []byte(fmt.Sprintf("module: %q\nlanguage: version: \"v0.17.0\"\n", "example.com/"+name+"@v0"))
	}
	vendor := filepath.Join(root, schemaVendorDir)
	old, err := filepath.Glob(filepath.Join(vendor, "*.cue"))
	if err != nil {
		return err
	}
	var stale []string
	for _, p := range old {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if _, keep := files[rel]; !keep {
			stale = append(stale, p)
		}
	}
	changed, removed := 0, len(stale)
	for rel, b := range files {
		if cur, err := os.ReadFile(filepath.Join(root, rel)); err != nil || !bytes.Equal(cur, b) {
			changed++
		}
	}
	// A signal waits for the files to be written and the stale ones
	// removed: the vendored schema is never half old, half new.
	err = a.guardWrite(ctx, func() error {
		if err := writeFiles(root, files); err != nil {
			return err
		}
		for _, p := range stale {
			if err := os.Remove(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	shown := filepath.Join(dir, schemaVendorDir)
	if r, err := filepath.Rel(abs, vendor); err == nil {
		shown = filepath.Join(dir, r)
	}
	fmt.Fprintf(a.stderr, "refreshed the vendored schema in %s (%d written, %d removed); nothing else changed\n", shown, changed, removed)
	return nil
}

// moduleRoot is the directory at or above dir holding cue.mod/module.cue,
// or "" when there is none.
func moduleRoot(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "cue.mod", "module.cue")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// packageName derives the CUE package of the scaffold from the system
// name: a DNS label may start with a digit or be a CUE keyword, neither of
// which is an identifier, so such names get the prefix "sys"; dashes are
// dropped. The system name itself stays as given.
func packageName(name string) string {
	id := strings.ReplaceAll(name, "-", "")
	if !ast.IsValidIdent(id) || cueKeywords[id] {
		id = "sys" + id
	}
	return id
}

// cueKeywords are the words the CUE parser does not take as a package
// name.
var cueKeywords = map[string]bool{
	"for": true, "in": true, "if": true, "let": true,
	"true": true, "false": true, "null": true, "func": true,
}

var specTemplate = template.Must(template.New("spec").Parse(`// {{.Name}}: an ML system described for kiln. Run 'kiln schema' for every
// field; 'kiln vet' checks this file, 'kiln render' writes the manifests.
package {{.Package}}

import "{{.Import}}"

schema.#System & {
	name:      "{{.Name}}"
	namespace: "{{.Namespace}}"
	owners: ["ml-team@example.com"]

	environments: {
		dev: {
			gpu: {quota: 4, products: ["NVIDIA-A10G"]}
			// What differs from the base spec, by name.
			overrides: training: model: workers: 1
		}
		prod: {
			production: true
			gpu: {quota: 16, products: ["NVIDIA-A100-SXM4-80GB"]}
		}
	}

	// Training runs on Kubeflow Trainer v2: each job is a TrainJob on a
	// runtime the cluster installs (torch-distributed for PyTorch). Set
	// "v1" for a cluster with the training operator's PyTorchJob, in one
	// environment with overrides: trainer: api: "v1".
	trainer: api: "v2"

	images: trainer: "ghcr.io/example/trainer:0.1.0"

	datasets: train: {
		uri: "s3://example-data/train/"
		// Access keys live in a Secret you create; kiln only names it.
		credentials: secret: "data-credentials"
	}

	training: model: {
		framework: "pytorch"
		image:     images.trainer
		// torchrun reads the rendezvous settings Trainer sets for it.
		command: ["torchrun", "train.py"]
		args: {epochs: 10, lr: 0.001}
		datasets: ["train"]
		workers: 2
		resources: {gpus: 1, cpu: "4", memory: "16Gi", shm: "2Gi"}
	}

	// Retrain every Monday: prepare the data, then run the training job
	// above (each run creates its own job from it).
	pipelines: retrain: {
		schedule: "0 3 * * 1"
		steps: {
			prepare: {image: images.trainer, command: ["python", "prepare.py"], datasets: ["train"]}
			train: {after: ["prepare"], training: "model"}
		}
	}

	// Serve the trained model (KServe); production environments get at
	// least two replicas and a disruption budget.
	serving: api: {
		// A PyTorch model, like the job above trains: a TorchServe model
		// store (config/ and model-store/) at this URI.
		model: {format: "pytorch", storageUri: "s3://example-models/model/v1"}
		credentials: secret: "data-credentials"
		replicas: {min: 1, max: 3}
		resources: {cpu: "1", memory: "2Gi"}
	}
}
`))

// llmTemplate is the llm-finetune example's shape, smaller: the same
// entries and settings a GenAI team starts from, with fewer GPUs.
var llmTemplate = template.Must(template.New("llm").Parse(`// {{.Name}}: an LLM fine-tuned and served with kiln. Run 'kiln schema' for
// every field; 'kiln vet' checks this file, 'kiln render' writes the
// manifests. examples/llm-finetune in kiln's repository is the full story.
package {{.Package}}

import "{{.Import}}"

schema.#System & {
	name:      "{{.Name}}"
	namespace: "{{.Namespace}}"
	owners: ["genai-team@example.com"]

	// Training runs on Kubeflow Trainer v2: each job is a TrainJob on a
	// runtime the cluster installs.
	trainer: api: "v2"

	environments: {
		dev: {
			gpu: {quota: 8, products: ["NVIDIA-L4"]}
			// What differs from the base spec, by name: one node in dev.
			overrides: {
				training: finetune: workers: 1
				pipelines: "eval-promote": schedule: suspend: true
			}
		}
		prod: {
			production: true
			gpu: {quota: 16, products: ["NVIDIA-H100-80GB-HBM3"]}
			// Exposed models route through the platform's Gateway API
			// Gateway (HTTPRoutes) rather than Istio's VirtualServices.
			ingress: {
				api: "gateway-api"
				gateway: {name: "inference", namespace: "gateway-system"}
			}
			// The newest promoted model takes 10% of the traffic.
			overrides: serving: chat: canary: {storageUri: "s3://example-models/chat/v2", percent: 10}
		}
	}

	images: {
		trainer: "ghcr.io/example/llm-trainer:0.1.0"
		tools:   "ghcr.io/example/llm-tools:0.1.0"
		// kiln itself, which runs the TPE sweep's suggester and the
		// promote step: build it from kiln's repository with
		// 'make image IMAGE=...'.
		kiln: "ghcr.io/example/kiln:0.1.0"
	}

	// A claim every node can mount (ReadOnlyMany), at /data/conversations.
	datasets: conversations: uri: "pvc://conversations"

	// A LoRA fine-tune on torch-distributed, 2 nodes of 2 GPUs each.
	// That runtime has no initializer jobs, so the dataset is mounted
	// and the trainer fetches the base model itself (HF_TOKEN).
	training: finetune: {
		framework: "pytorch"
		runtime:   "torch-distributed"
		image:     images.trainer
		command: ["torchrun", "finetune.py"]
		args: {base_model: "meta-llama/Llama-3.2-1B-Instruct", lr: 2e-4, lora_rank: 16}
		datasets: ["conversations"]
		env: HF_TOKEN: {secret: "hf-token", key: "token"}
		workers:      2
		nprocPerNode: "gpu"
		resources: {gpus: 2, cpu: "8", memory: "64Gi", shm: "8Gi"}
	}

	// TPE tunes the learning rate and LoRA rank on the eval_loss=… lines
	// the trainer prints.
	sweeps: tune: {
		trial:     "finetune"
		algorithm: "tpe"
		objective: {metric: "eval_loss", goal: "minimize"}
		parameters: {
			lr: {min: 1e-5, max: 1e-3, scale: "log"}
			lora_rank: values: [8, 16, 32]
		}
		maxTrials: 8
		parallel:  1
	}

	// Weekly: fine-tune, evaluate, and promote a good model as a canary
	// through a pull request on the deployment repository.
	pipelines: "eval-promote": {
		schedule: cron: "0 4 * * 1"
		steps: {
			finetune: training: "finetune"
			evaluate: {
				after: ["finetune"]
				image: images.tools
				command: ["python", "evaluate.py"]
				datasets: ["conversations"]
				outputs: parameters: ["score", "model_uri"]
				resources: {gpus: 1, memory: "16Gi"}
			}
			promote: {
				after: ["evaluate"]
				when: "evaluate.score > 0.8"
				inputs: parameters: model_uri: "evaluate.model_uri"
				promote: {
					serving: "chat"
					canary:  10
					repository: {
						url:  "https://github.com/example/{{.Name}}-deploy.git"
						spec: "{{.Name}}"
						credentials: secret: "git-token"
					}
				}
			}
		}
	}

	// vLLM behind KServe's LLMInferenceService, its HTTPRoute on the
	// named Gateway; a canary shares its route group.
	serving: chat: {
		model: {format: "huggingface", storageUri: "s3://example-models/chat/v1"}
		// Access keys live in a Secret you create; kiln only names it.
		credentials: secret: "model-credentials"
		llm: {
			maxModelLength: 4096
			gateway:        "gateway-system/inference"
		}
		resources: {gpus: 1, cpu: "4", memory: "24Gi"}
	}
}
`))
