package sweep

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render/sweep/sample"
)

// NasConfig is a Katib Experiment's neural architecture search space.
type NasConfig struct {
	GraphConfig GraphConfig    `json:"graphConfig"`
	Operations  []NasOperation `json:"operations"`
}

// GraphConfig is the shape of the searched network.
type GraphConfig struct {
	NumLayers   int32   `json:"numLayers"`
	InputSizes  []int32 `json:"inputSizes,omitempty"`
	OutputSizes []int32 `json:"outputSizes,omitempty"`
}

// NasOperation is one operation a layer can pick, with its parameters.
type NasOperation struct {
	OperationType string           `json:"operationType"`
	Parameters    []KatibParameter `json:"parameters"`
}

// nasAlgorithms are the NAS algorithms, by name, with the settings
// Katib v0.19's suggestion service for each accepts (it refuses any
// other name, or, for DARTS, ignores it) and the trial parameters it
// gives each trial: the arg kiln passes it as and Katib's name for it.
var nasAlgorithms = map[string]struct {
	settings []string
	trial    []nasTrialParam
}{
	"enas": {
		settings: []string{
			"controller_baseline_decay", "controller_entropy_weight", "controller_hidden_size",
			"controller_learning_rate", "controller_log_every_steps", "controller_skip_target",
			"controller_skip_weight", "controller_tanh_const", "controller_temperature", "controller_train_steps",
		},
		trial: []nasTrialParam{
			{arg: "architecture", name: "neuralNetworkArchitecture", reference: "architecture"},
			{arg: "nn_config", name: "neuralNetworkConfig", reference: "nn_config"},
		},
	},
	"darts": {
		settings: []string{
			"alpha_lr", "alpha_weight_decay", "batch_size", "init_channels", "num_epochs", "num_nodes",
			"num_workers", "print_step", "stem_multiplier", "w_grad_clip", "w_lr", "w_lr_min",
			"w_momentum", "w_weight_decay",
		},
		trial: []nasTrialParam{
			{arg: "algorithm-settings", name: "algorithmSettings", reference: "algorithm-settings"},
			{arg: "search-space", name: "searchSpace", reference: "search-space"},
			{arg: "num-layers", name: "numberLayers", reference: "num-layers"},
		},
	},
}

// nasTrialParam is one value Katib's NAS suggestion gives a trial.
type nasTrialParam struct{ arg, name, reference string }

// IsNAS reports whether a sweep searches architectures.
func IsNAS(sw *ir.Sweep) bool {
	_, ok := nasAlgorithms[sw.Algorithm]
	return ok || sw.NAS != nil
}

// checkNAS reports what keeps a neural architecture search from running:
// a backend other than Katib, a search space missing or given as
// parameters, what Katib's ENAS and DARTS services refuse (ENAS without
// input and output sizes, an operation without parameters, a double
// range without a step, a setting they do not know).
func checkNAS(c *checker, path string, sw *ir.Sweep) {
	if !IsNAS(sw) {
		return
	}
	np := ir.Join(path, "nas")
	alg, isNAS := nasAlgorithms[sw.Algorithm]
	switch {
	case !isNAS:
		c.Errorf(np, "nas is a neural architecture search, which algorithm %q does not do: set algorithm \"enas\" or \"darts\", or remove nas", sw.Algorithm)
		return
	case sw.NAS == nil:
		c.Errorf(ir.Join(path, "algorithm"), "algorithm %q searches architectures: describe the search space in nas: {layers, operations}", sw.Algorithm)
		return
	}
	if sw.Backend != "katib" {
		c.Errorf(ir.Join(path, "backend"), "neural architecture search (algorithm %q) runs on Katib's %s suggestion service, which the Argo backend has no counterpart for: set backend: \"katib\"", sw.Algorithm, strings.ToUpper(sw.Algorithm))
	}
	if len(sw.Parameters) > 0 {
		c.Errorf(ir.Join(path, "parameters"), "a neural architecture search takes its search space from nas, and Katib refuses an Experiment with both: remove parameters")
	}
	n := sw.NAS
	if sw.Algorithm == "enas" {
		if len(n.InputSizes) == 0 {
			c.Errorf(np, "ENAS needs nas.inputSizes, the network's input shape (e.g. [32, 32, 3])")
		}
		if len(n.OutputSizes) == 0 {
			c.Errorf(np, "ENAS needs nas.outputSizes, the network's output shape (e.g. [10])")
		}
	}
	if len(n.Operations) == 0 {
		c.Errorf(ir.Join(np, "operations"), "nas needs at least one operation for the layers to pick from")
	}
	for _, op := range slices.Sorted(maps.Keys(n.Operations)) {
		opp := ir.Join(np, "operations", op)
		params := n.Operations[op]
		if len(params) == 0 {
			c.Errorf(opp, "operation %s needs at least one parameter (Katib refuses an operation without one), e.g. filter_size: values: [3, 5]", op)
		}
		for _, pn := range slices.Sorted(maps.Keys(params)) {
			p := params[pn]
			pp := ir.Join(opp, pn)
			sp := sample.ParamFromIR(pn, p)
			if len(p.Values) == 0 && (p.Min == nil || p.Max == nil) {
				c.Errorf(pp, "an operation parameter needs values, or min and max")
				continue
			}
			if sp.Type == sample.Double && len(p.Values) == 0 && p.Step == nil {
				c.Errorf(pp, "a double range of a NAS operation needs a step: Katib's NAS services enumerate its points")
			}
			if p.Scale == "log" {
				c.Errorf(ir.Join(pp, "scale"), "Katib's NAS services enumerate a range linearly: list the values instead of a log scale")
			}
		}
	}
	for _, s := range slices.Sorted(maps.Keys(n.Settings)) {
		if !slices.Contains(alg.settings, s) {
			c.Errorf(ir.Join(np, "settings", s), "%s has no setting %q; it has %s", strings.ToUpper(sw.Algorithm), s, strings.Join(alg.settings, ", "))
		}
	}
}

// nasConfig is the Katib nasConfig of a sweep's nas: operations in name
// order, each parameter a categorical list (Katib's ENAS service reads
// only categorical lists and int or double ranges, not discrete lists)
// or a range with a step (1 for an int range without one).
func nasConfig(n *ir.NAS) *NasConfig {
	out := &NasConfig{GraphConfig: GraphConfig{NumLayers: int32(n.Layers)}}
	for _, s := range n.InputSizes {
		out.GraphConfig.InputSizes = append(out.GraphConfig.InputSizes, int32(s))
	}
	for _, s := range n.OutputSizes {
		out.GraphConfig.OutputSizes = append(out.GraphConfig.OutputSizes, int32(s))
	}
	for _, op := range slices.Sorted(maps.Keys(n.Operations)) {
		o := NasOperation{OperationType: op}
		for _, p := range sample.FromIR(n.Operations[op]) {
			kp := katibParameter(p)
			switch {
			case len(kp.FeasibleSpace.List) > 0:
				kp.ParameterType = sample.Categorical
			case kp.FeasibleSpace.Step == "":
				kp.FeasibleSpace.Step = "1"
			}
			o.Parameters = append(o.Parameters, kp)
		}
		out.Operations = append(out.Operations, o)
	}
	return out
}

// nasSettings are the algorithm settings of a NAS sweep, in name order.
func nasSettings(n *ir.NAS) []NameValue {
	var out []NameValue
	for _, s := range slices.Sorted(maps.Keys(n.Settings)) {
		v := n.Settings[s]
		if f, ok := v.Float(); ok {
			out = append(out, NameValue{Name: s, Value: strconv.FormatFloat(f, 'g', -1, 64)})
		} else {
			out = append(out, NameValue{Name: s, Value: v.String()})
		}
	}
	return out
}
