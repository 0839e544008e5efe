package sweep

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kiln-ml/kiln/ir"
)

// nasErrors renders a NAS sweep edited by edit and returns its errors as
// "path: message".
func nasErrors(t *testing.T, alg string, edit func(*ir.Sweep)) []string {
	t.Helper()
	sw := nasSweep(alg)
	edit(sw)
	_, diags := renderEnv(environment(64, resnet(1, 1), map[string]*ir.Sweep{"resnet-tune": sw}))
	var out []string
	for _, d := range diags {
		out = append(out, d.Path+": "+d.Msg)
	}
	return out
}

// What keeps an architecture search from running is an error where it
// is: the Argo backend, parameters beside nas, what Katib's ENAS and
// DARTS services refuse.
func TestNASErrors(t *testing.T) {
	const sw = `sweeps."resnet-tune"`
	tests := []struct {
		name, alg string
		edit      func(*ir.Sweep)
		want      []string
	}{
		{"argo backend", "enas", func(s *ir.Sweep) { s.Backend = "argo" }, []string{
			sw + `.backend: neural architecture search (algorithm "enas") runs on Katib's ENAS suggestion service, which the Argo backend has no counterpart for: set backend: "katib"`,
		}},
		{"parameters too", "darts", func(s *ir.Sweep) {
			s.Parameters = map[string]*ir.SweepParameter{"lr": {Min: fp(0.1), Max: fp(1), Scale: "linear"}}
		}, []string{
			sw + `.parameters: a neural architecture search takes its search space from nas, and Katib refuses an Experiment with both: remove parameters`,
		}},
		{"enas without sizes", "enas", func(s *ir.Sweep) { s.NAS.InputSizes, s.NAS.OutputSizes = nil, nil }, []string{
			sw + `.nas: ENAS needs nas.inputSizes, the network's input shape (e.g. [32, 32, 3])`,
			sw + `.nas: ENAS needs nas.outputSizes, the network's output shape (e.g. [10])`,
		}},
		{"unknown setting", "darts", func(s *ir.Sweep) { s.NAS.Settings["epochs"] = val("3") }, []string{
			sw + `.nas.settings.epochs: DARTS has no setting "epochs"; it has alpha_lr, alpha_weight_decay, batch_size, init_channels, num_epochs, num_nodes, num_workers, print_step, stem_multiplier, w_grad_clip, w_lr, w_lr_min, w_momentum, w_weight_decay`,
		}},
		{"no nas", "enas", func(s *ir.Sweep) { s.NAS = nil }, []string{
			sw + `.algorithm: algorithm "enas" searches architectures: describe the search space in nas: {layers, operations}`,
		}},
		{"nas with another algorithm", "enas", func(s *ir.Sweep) { s.Algorithm = "random" }, []string{
			sw + `.nas: nas is a neural architecture search, which algorithm "random" does not do: set algorithm "enas" or "darts", or remove nas`,
		}},
		{"operation without parameters, double without step", "enas", func(s *ir.Sweep) {
			s.NAS.Operations["identity"] = map[string]*ir.SweepParameter{}
			s.NAS.Operations["reduction"]["rate"] = &ir.SweepParameter{Min: fp(0.1), Max: fp(0.5), Scale: "linear"}
		}, []string{
			sw + `.nas.operations.identity: operation identity needs at least one parameter (Katib refuses an operation without one), e.g. filter_size: values: [3, 5]`,
			sw + `.nas.operations.reduction.rate: a double range of a NAS operation needs a step: Katib's NAS services enumerate its points`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.ElementsMatch(t, tc.want, nasErrors(t, tc.alg, tc.edit))
		})
	}
}

// A NAS Experiment has nasConfig and no parameters, and each trial gets
// the architecture as the args Katib's examples read.
func TestNASExperiment(t *testing.T) {
	items := renderCase(t, "enas", goldenCase{t: resnet(1, 1), sw: nasSweep("enas")})
	require.Len(t, items, 1)
	exp := items[0].Object.(*Experiment)
	assert.Empty(t, exp.Spec.Parameters)
	require.NotNil(t, exp.Spec.NasConfig)
	assert.Equal(t, int32(8), exp.Spec.NasConfig.GraphConfig.NumLayers)
	assert.Equal(t, "enas", exp.Spec.Algorithm.AlgorithmName)
	var args []any
	spec := exp.Spec.TrialTemplate.TrialSpec["spec"].(map[string]any)
	master := spec["pytorchReplicaSpecs"].(map[string]any)["Master"].(map[string]any)
	c := master["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	args = c["args"].([]any)
	assert.Contains(t, args, "--architecture=${trialParameters.neuralNetworkArchitecture}")
	assert.Contains(t, args, "--nn_config=${trialParameters.neuralNetworkConfig}")
}
