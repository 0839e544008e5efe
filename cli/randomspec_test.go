package cli

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/validate/validatetest"
)

// TestGeneratedSpecsRenderValidObjects renders specs drawn at random (with
// a fixed seed) from the combinations kiln supports — every framework,
// serving runtime and mode, canary, sweep algorithm and backend (neural
// architecture search with ENAS and DARTS included), pipeline
// step kind, LLM on one node or several, production or not, MIG or whole
// GPUs, baseline or restricted — and holds every object of every spec kiln
// accepts to the CRDs, Argo's validator and Pod Security as `kiln check`
// does (see checkRendered). Hand-written goldens cover the cases someone
// thought of; this covers their combinations.
func TestGeneratedSpecsRenderValidObjects(t *testing.T) {
	validatetest.CRDs(t) // skip early without the CRDs
	rng := rand.New(rand.NewPCG(seedFromEnv(), 11))
	llmRng := rand.New(rand.NewPCG(seedFromEnv(), 14))
	nasRng := rand.New(rand.NewPCG(seedFromEnv(), 18))
	n := countFromEnv()
	accepted, nasAccepted := 0, 0
	for i := range n {
		src := randomSpec(rng)
		// LLM entries draw from their own stream, so the specs above
		// stay the ones earlier versions of this test drew.
		if llmRng.IntN(2) == 0 {
			src += randomLLM(llmRng)
		}
		// So do architecture searches.
		if nasRng.IntN(3) == 0 {
			src += randomNAS(nasRng)
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "system.cue"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			res, diags, err := build(context.Background(), dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diags.HasErrors() {
				for _, d := range diags {
					if d.Severity == diag.Error {
						t.Logf("refused: %s: %s", d.Path, d.Msg)
					}
				}
				// A combination kiln refuses must say why, at a place.
				for _, d := range diags {
					if !d.Pos.IsValid() && d.Path == "" {
						t.Errorf("diagnostic without position or path: %s", d.Msg)
					}
				}
				return
			}
			accepted++
			if strings.Contains(src, "nas: {") {
				nasAccepted++
				files, err := render.Files(res)
				if err != nil {
					t.Fatal(err)
				}
				experiments := 0
				for _, f := range files {
					if strings.Contains(string(f), "kind: Experiment") && strings.Contains(string(f), "nasConfig:") {
						experiments++
					}
				}
				if experiments == 0 {
					t.Errorf("a spec with an architecture search rendered no Experiment with a nasConfig")
				}
			}
			checkRendered(t, src, res)
		})
	}
	// The generator must mostly produce specs kiln accepts, or this test
	// checks nothing.
	if accepted < n*3/4 {
		t.Errorf("only %d of %d generated specs were accepted", accepted, n)
	}
	if nasAccepted == 0 {
		t.Errorf("no generated spec with an architecture search was accepted")
	}
}

func pick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

// randomSpec draws one spec.
func randomSpec(rng *rand.Rand) string {
	var b strings.Builder
	baseline := rng.IntN(8) == 0 // some entries ask for baseline
	security := ""
	if baseline {
		security = `, security: profile: "baseline"`
	}
	mig := rng.IntN(5) == 0
	gpu := func(n int) string {
		if n == 0 {
			return "{cpu: \"2\", memory: \"4Gi\"}"
		}
		if mig {
			return fmt.Sprintf("{gpus: %d, mig: \"1g.10gb\", memory: \"8Gi\"}", n)
		}
		return fmt.Sprintf("{gpus: %d, cpu: \"4\", memory: \"16Gi\", shm: \"2Gi\"}", n)
	}
	prod := rng.IntN(2) == 0
	fmt.Fprintf(&b, `package t

name:      "gen"
namespace: "gen-ml"
environments: {
	dev: gpu: {quota: 64, products: ["NVIDIA-A10G"]}
	prod: {production: %t, namespace: "gen-prod", gpu: quota: 128}
}
datasets: data: {uri: %q, credentials: secret: "creds"}
artifacts: s3: {bucket: "art", endpoint: "minio.minio:9000", insecure: true, credentials: secret: "minio"}
`, prod, pick(rng, "s3://bucket/data/", "gs://bucket/data/", "pvc://shared/data"))

	fw := pick(rng, "pytorch", "tensorflow", "xgboost", "paddle", "mxnet", "mpi")
	workers := 1 + rng.IntN(4)
	gpus := rng.IntN(3)
	extra := ""
	switch fw {
	case "tensorflow":
		extra = pick(rng, "", ", parameterServers: 1", ", evaluator: true")
	case "pytorch":
		if gpus > 0 {
			extra = pick(rng, "", `, nprocPerNode: "gpu"`)
		}
		if rng.IntN(3) == 0 {
			extra += fmt.Sprintf(", elastic: {minReplicas: 1, maxReplicas: %d}", workers+1)
		}
	}
	if rng.IntN(3) == 0 {
		extra += pick(rng, `, scheduling: {gang: "volcano", priorityClass: "ml-high"}`, `, scheduling: queue: "team-a"`, `, scheduling: gang: "coscheduling"`)
	}
	fmt.Fprintf(&b, "training: train: {framework: %q, image: \"ghcr.io/acme/t:1\", command: [\"python\", \"train.py\"], args: {lr: 0.01, epochs: 3}, datasets: [\"data\"], workers: %d, resources: %s%s%s}\n",
		fw, workers, gpu(gpus), extra, security)
	if rng.IntN(3) == 0 {
		fmt.Fprintf(&b, "training: solo: {framework: \"pytorch\", image: \"ghcr.io/acme/t:1\", resources: %s}\n", gpu(rng.IntN(2)))
	}
	// Kubeflow Trainer v2: the system, the entry or one environment
	// targets TrainJobs, for entries v2 can run (what it cannot is
	// covered by vet_trainer_v2.txtar). Gang scheduling and priority
	// classes get the entry a TrainingRuntime of its own.
	v2able := (fw == "pytorch" || fw == "xgboost" || fw == "mpi") && !strings.Contains(extra, "elastic")
	v2 := v2able && rng.IntN(3) == 0
	if v2 {
		b.WriteString(pick(rng, "trainer: api: \"v2\"\n", "training: train: api: \"v2\"\n", "environments: prod: overrides: trainer: api: \"v2\"\n"))
		if fw == "mpi" {
			fmt.Fprintf(&b, "training: train: runtime: %q\n", pick(rng, "deepspeed-distributed", "mlx-distributed"))
		}
	}

	switch rng.IntN(3) {
	case 0:
		algo := pick(rng, "grid", "random", "sobol", "hyperband")
		backend := pick(rng, "argo", "katib")
		hb := ""
		if algo == "hyperband" {
			hb = `, hyperband: {resource: "epochs", min: 1, max: 9, eta: 3}, maxTrials: 20`
			if backend == "katib" {
				hb = `, hyperband: {resource: "epochs", min: 1, max: 9, eta: 3}, parallel: 9, maxTrials: 27`
			}
		}
		lr := `lr: {min: 0.0001, max: 0.1, scale: "log"}`
		if algo == "grid" {
			lr = `lr: values: [0.001, 0.01]`
		}
		if backend == "katib" && v2 {
			// Katib runs TrainJob trials of v2 entries.
			b.WriteString("katib: trainJobs: true\n")
		}
		fmt.Fprintf(&b, "sweeps: tune: {trial: \"train\", backend: %q, objective: {metric: \"acc\", goal: \"maximize\"}, algorithm: %q, parameters: {%s, batch: values: [32, 64]}%s}\n", backend, algo, lr, hb)
	case 1:
		fmt.Fprintf(&b, `pipelines: retrain: {
	schedule: "0 3 * * 1"%s
	steps: {
		prep: {image: "ghcr.io/acme/tools:1", command: ["prep"], outputs: artifacts: ["shards"], datasets: ["data"]}
		train: {after: ["prep"], training: "train"}
		eval: {after: ["train"], image: "ghcr.io/acme/tools:1", inputs: artifacts: ["shards"], outputs: parameters: ["acc"], resources: %s}
	}
}
`, strings.Replace(security, ", ", "\n\t", 1), gpu(rng.IntN(2)))
	}

	runtime := pick(rng, "kserve", "kserve", "tfserving", "seldon")
	format := "sklearn"
	switch runtime {
	case "tfserving":
		format = "tensorflow"
	case "kserve":
		format = pick(rng, "sklearn", "pytorch", "onnx", "huggingface")
	}
	mode := pick(rng, "Knative", "Standard")
	canary := ""
	if rng.IntN(2) == 0 {
		canary = fmt.Sprintf(`, canary: {storageUri: "s3://models/m/2", percent: %d}`, 5+rng.IntN(50))
	}
	expose := ""
	if rng.IntN(2) == 0 {
		expose = `, expose: {host: "m.ml.acme.example", tls: secret: "m-tls", timeout: "30s", retries: 2}, access: namespaces: ["web"]`
	}
	autoscale := ""
	if runtime == "kserve" && mode == "Knative" {
		autoscale = `, autoscale: {metric: "concurrency", target: 4}`
	} else if rng.IntN(2) == 0 {
		autoscale = `, autoscale: {metric: "cpu", target: 70}`
	}
	fmt.Fprintf(&b, "serving: model: {runtime: %q, deploymentMode: %q, model: {format: %q, storageUri: \"s3://models/m/1\"}, credentials: secret: \"creds\", replicas: {min: 1, max: 3}, resources: %s%s%s%s%s}\n",
		runtime, mode, format, gpu(rng.IntN(2)), canary, expose, autoscale, security)

	if runtime == "kserve" && rng.IntN(3) == 0 {
		// A transformer and, with a canary, a tester header.
		fmt.Fprintf(&b, "serving: model: transformer: {image: \"ghcr.io/acme/tx:1\", resources: {cpu: \"1\", memory: \"1Gi\"}}\n")
	}
	if expose != "" && canary != "" && mode == "Standard" {
		b.WriteString("serving: model: expose: canaryHeader: {name: \"x-canary\", value: \"1\"}\n")
	}
	if rng.IntN(3) == 0 {
		b.WriteString(`environments: dev: patches: label: {target: kind: "ServiceAccount", merge: metadata: labels: team: "ml"}` + "\n")
	}
	if rng.IntN(2) == 0 {
		fmt.Fprintf(&b, "notebooks: lab: {image: \"kubeflownotebookswg/jupyter-scipy:v1.9.0\", workspace: \"10Gi\", datasets: [\"data\"], resources: %s, environments: [\"dev\"]}\n", gpu(rng.IntN(2)))
	}
	if rng.IntN(2) == 0 {
		b.WriteString("gitops: {repoURL: \"https://git.example/acme/gen-deploy.git\"}\nenvironments: prod: sync: automated: false\n")
	}
	// Serving through the Gateway API in prod, with or without Istio in
	// the mesh: HTTPRoutes on a Gateway in another namespace, per-track
	// Services for a canary, access as a NetworkPolicy without a mesh.
	// KServe routes this way in Standard mode only, and TLS is the
	// Gateway's, so prod drops expose.tls.
	if (runtime != "kserve" || mode == "Standard") && rng.IntN(2) == 0 {
		fmt.Fprintf(&b, "environments: prod: ingress: {api: \"gateway-api\", gateway: {name: \"shared\", namespace: \"gateways\", sectionName: \"https\"}, mesh: %q}\n", pick(rng, "istio", "none"))
		if expose != "" {
			b.WriteString("environments: prod: overrides: serving: model: expose: tls: null\n")
		}
	}
	return b.String()
}

// randomLLM draws a serving entry with an llm: an LLMInferenceService on
// one node or split across nodes by pipeline stage, from any store it
// loads, with or without a canary, credentials and the scheduler, and
// sometimes served as an InferenceService in dev.
func randomLLM(rng *rand.Rand) string {
	security := ""
	if rng.IntN(8) == 0 {
		security = `, security: profile: "baseline"`
	}
	nodes := pick(rng, 1, 1, 2)
	gpus := pick(rng, 1, 2, 4, 8)
	par := fmt.Sprintf("tensor: %d", gpus)
	if nodes > 1 {
		par += fmt.Sprintf(", pipeline: %d", nodes)
	} else if gpus > 1 && rng.IntN(3) == 0 {
		par = fmt.Sprintf("tensor: %d, pipeline: 2", gpus/2)
	}
	extra := ""
	if rng.IntN(2) == 0 {
		extra += fmt.Sprintf(`, canary: {storageUri: "hf://acme/chat-next", percent: %d}`, 5+rng.IntN(50))
	}
	if rng.IntN(2) == 0 {
		extra += `, credentials: secret: "creds"`
	}
	gateway := ""
	if rng.IntN(2) == 0 {
		gateway = `, gateway: "gateway-system/inference"`
	}
	out := fmt.Sprintf("serving: chat: {model: {format: \"huggingface\", storageUri: %q}, llm: {nodes: %d, parallelism: {%s}, maxModelLength: 8192, scheduler: %t%s}, resources: {gpus: %d, cpu: \"8\", memory: \"64Gi\"}%s%s}\n",
		pick(rng, "hf://acme/chat", "s3://models/chat/1", "pvc://models/chat"), nodes, par, rng.IntN(2) == 0, gateway, gpus, extra, security)
	if nodes == 1 && rng.IntN(3) == 0 {
		out += "environments: dev: overrides: serving: chat: llm: api: \"InferenceService\"\n"
	}
	return out
}

// randomNAS draws a neural architecture search: a Katib sweep with
// algorithm enas or darts over a training entry of its own (one process
// or several workers, with or without GPUs), with the search space in
// nas (layers, each algorithm's operations with list or integer-range
// parameters, some of its settings), so Katib's nasConfig is covered.
// katib.trainJobs is on, in case the system's trainer is v2.
func randomNAS(rng *rand.Rand) string {
	var b strings.Builder
	alg := pick(rng, "enas", "darts")
	workers := pick(rng, 1, 1, 2)
	res := pick(rng, `{cpu: "4", memory: "8Gi"}`, `{gpus: 1, cpu: "4", memory: "16Gi"}`)
	fmt.Fprintf(&b, "training: nasnet: {framework: \"pytorch\", image: \"ghcr.io/acme/nas:1\", command: [\"python\", \"run_trial.py\"], args: num_epochs: 1, workers: %d, resources: %s}\n", workers, res)
	b.WriteString("katib: trainJobs: true\n")
	choice := func(vs ...string) string { return `values: ["` + strings.Join(vs, `", "`) + `"]` }
	var ops []string
	var metric, sizes, settings string
	switch alg {
	case "enas":
		metric = "Validation-Accuracy"
		sizes = fmt.Sprintf(", inputSizes: [%d, %d, 3], outputSizes: [%d]", pick(rng, 28, 32), pick(rng, 28, 32), pick(rng, 10, 100))
		ops = append(ops, fmt.Sprintf("convolution: {filter_size: %s, num_filter: %s, stride: %s}", choice("3", "5", "7"), choice("32", "64"), choice("1", "2")))
		if rng.IntN(2) == 0 {
			ops = append(ops, fmt.Sprintf("separable_convolution: {filter_size: %s, num_filter: %s, stride: %s, depth_multiplier: %s}", choice("3", "5"), choice("32", "64"), choice("1"), choice("1", "2")))
		}
		if rng.IntN(2) == 0 {
			ops = append(ops, fmt.Sprintf("depthwise_convolution: {filter_size: %s, stride: %s, depth_multiplier: %s}", choice("3", "5"), choice("1"), choice("1", "2")))
		}
		if rng.IntN(2) == 0 {
			ops = append(ops, fmt.Sprintf("reduction: {reduction_type: %s, pool_size: {min: 2, max: 3}}", choice("max_pooling", "avg_pooling")))
		}
		settings = pick(rng, "", ", settings: {controller_train_steps: 30, controller_hidden_size: 64}", ", settings: controller_temperature: 5")
	case "darts":
		metric = "Best-Genotype"
		ops = append(ops, fmt.Sprintf("separable_convolution: filter_size: %s", choice("3", "5")))
		for _, op := range []string{"dilated_convolution", "avg_pooling", "max_pooling", "skip_connection"} {
			if rng.IntN(2) == 0 {
				ops = append(ops, fmt.Sprintf("%s: filter_size: %s", op, choice("3")))
			}
		}
		settings = pick(rng, "", ", settings: {num_epochs: 10, init_channels: 16, w_lr: 0.025}", `, settings: {num_nodes: 4, batch_size: 64}`)
	}
	trials := pick(rng, 1, 4, 12)
	parallel := min(trials, pick(rng, 1, 2, 3))
	fmt.Fprintf(&b, "sweeps: arch: {trial: \"nasnet\", backend: \"katib\", algorithm: %q, objective: {metric: %q, goal: \"maximize\"}, maxTrials: %d, parallel: %d%s, nas: {layers: %d%s, operations: {%s}%s}}\n",
		alg, metric, trials, parallel, pick(rng, "", `, trialTimeout: "2h"`), pick(rng, 1, 3, 8), sizes, strings.Join(ops, ", "), settings)
	return b.String()
}

// KILN_GEN_SEED and KILN_GEN_N explore further than the default run:
// KILN_GEN_SEED=7 KILN_GEN_N=500 go test ./cli -run TestGeneratedSpecs.
func seedFromEnv() uint64 {
	var s uint64 = 2026
	fmt.Sscan(os.Getenv("KILN_GEN_SEED"), &s)
	return s
}

func countFromEnv() int {
	n := 40
	fmt.Sscan(os.Getenv("KILN_GEN_N"), &n)
	return n
}
