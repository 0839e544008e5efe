package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
	"github.com/kiln-ml/kiln/render/sweep/sample"
	"github.com/kiln-ml/kiln/render/training"
)

// KatibAPIVersion is the version of Katib's Experiment.
const KatibAPIVersion = "kubeflow.org/v1beta1"

// Experiment is a Katib Experiment, with the fields kiln emits. Katib's
// CRD has no schema, so Check holds the sweep to the rules Katib's
// webhook applies.
type Experiment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ExperimentSpec `json:"spec"`
}

// ExperimentSpec is the search.
type ExperimentSpec struct {
	Objective            KatibObjective        `json:"objective"`
	Algorithm            KatibAlgorithm        `json:"algorithm"`
	EarlyStopping        *KatibAlgorithm       `json:"earlyStopping,omitempty"`
	Parameters           []KatibParameter      `json:"parameters,omitempty"`
	NasConfig            *NasConfig            `json:"nasConfig,omitempty"`
	TrialTemplate        TrialTemplate         `json:"trialTemplate"`
	ParallelTrialCount   int32                 `json:"parallelTrialCount"`
	MaxTrialCount        int32                 `json:"maxTrialCount"`
	MaxFailedTrialCount  *int32                `json:"maxFailedTrialCount,omitempty"`
	MetricsCollectorSpec *MetricsCollectorSpec `json:"metricsCollectorSpec,omitempty"`
}

// KatibObjective is the metric to optimise.
type KatibObjective struct {
	Type                  string           `json:"type"`
	Goal                  *float64         `json:"goal,omitempty"`
	ObjectiveMetricName   string           `json:"objectiveMetricName"`
	AdditionalMetricNames []string         `json:"additionalMetricNames,omitempty"`
	MetricStrategies      []MetricStrategy `json:"metricStrategies,omitempty"`
}

// MetricStrategy picks which reported value of a metric counts.
type MetricStrategy struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// KatibAlgorithm is a suggestion or early-stopping algorithm.
type KatibAlgorithm struct {
	AlgorithmName     string      `json:"algorithmName"`
	AlgorithmSettings []NameValue `json:"algorithmSettings,omitempty"`
}

// NameValue is one algorithm setting.
type NameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// KatibParameter is one dimension of the search space.
type KatibParameter struct {
	Name          string        `json:"name"`
	ParameterType string        `json:"parameterType"`
	FeasibleSpace FeasibleSpace `json:"feasibleSpace"`
}

// FeasibleSpace bounds a parameter. Distribution needs Katib v0.18 or
// later (log-uniform sampling of log-scale ranges).
type FeasibleSpace struct {
	Min          string   `json:"min,omitempty"`
	Max          string   `json:"max,omitempty"`
	Step         string   `json:"step,omitempty"`
	List         []string `json:"list,omitempty"`
	Distribution string   `json:"distribution,omitempty"`
}

// TrialTemplate is the job each trial runs.
type TrialTemplate struct {
	PrimaryContainerName string            `json:"primaryContainerName"`
	PrimaryPodLabels     map[string]string `json:"primaryPodLabels,omitempty"`
	SuccessCondition     string            `json:"successCondition"`
	FailureCondition     string            `json:"failureCondition"`
	TrialParameters      []TrialParameter  `json:"trialParameters"`
	TrialSpec            map[string]any    `json:"trialSpec"`
}

// TrialParameter names a search-space parameter inside the trial spec.
type TrialParameter struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Reference   string `json:"reference"`
}

// MetricsCollectorSpec says how Katib reads metrics.
type MetricsCollectorSpec struct {
	Source    *CollectorSource `json:"source,omitempty"`
	Collector Collector        `json:"collector"`
}

// CollectorSource is where the file collector reads, and what the
// collectors take for a metric line.
type CollectorSource struct {
	FileSystemPath *FileSystemPath `json:"fileSystemPath,omitempty"`
	Filter         *MetricsFilter  `json:"filter,omitempty"`
}

// MetricsFilter lists the regular expressions (name and value groups) a
// collector reads metrics with, in place of Katib's default.
type MetricsFilter struct {
	MetricsFormat []string `json:"metricsFormat"`
}

// Katib's default metric line, and DARTS's: its trials report the best
// genotype found, which is not a number.
const (
	katibDefaultMetricFormat = `([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)`
	dartsGenotypeFormat      = `([\w-]+)=(Genotype.*)`
)

// FileSystemPath is a metrics file.
type FileSystemPath struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
}

// Collector is the kind of metrics collector.
type Collector struct {
	Kind string `json:"kind"`
}

// katibAlgorithms maps kiln's algorithm names to Katib's.
var katibAlgorithms = map[string]string{
	"grid":      "grid",
	"random":    "random",
	"sobol":     "sobol",
	"hyperband": "hyperband",
	"bayesian":  "bayesianoptimization",
	"tpe":       "tpe",
	"enas":      "enas",
	"darts":     "darts",
}

// Conditions Katib evaluates (GJSON) on a training job's status: a v1
// job succeeds with Succeeded, a TrainJob with Complete; both fail with
// Failed.
const (
	jobSucceeded     = `status.conditions.#(type=="Succeeded")#|#(status=="True")#`
	trainJobComplete = `status.conditions.#(type=="Complete")#|#(status=="True")#`
	jobFailed        = `status.conditions.#(type=="Failed")#|#(status=="True")#`
)

// KatibRunsTrainJobs reports whether the environment's Katib runs
// TrainJobs as trials (katib.trainJobs).
func KatibRunsTrainJobs(s *ir.Spec) bool { return s.Katib != nil && s.Katib.TrainJobs }

// Katib renders sw as a Katib Experiment whose trials are the training
// job of sw.Trial with the parameters substituted into its args.
func Katib(sys *ir.System, env *ir.Environment, name string, sw *ir.Sweep) (*Experiment, error) {
	t := env.Spec.Training[sw.Trial]
	if t == nil {
		return nil, fmt.Errorf("no training job %q", sw.Trial)
	}
	space := sample.FromIR(sw.Parameters)
	spec := ExperimentSpec{
		Objective: KatibObjective{
			Type:                  sw.Objective.Goal,
			Goal:                  sw.Objective.Target,
			ObjectiveMetricName:   sw.Objective.Metric,
			AdditionalMetricNames: sw.Objective.AdditionalMetrics,
		},
		Algorithm:          KatibAlgorithm{AlgorithmName: katibAlgorithms[sw.Algorithm]},
		ParallelTrialCount: int32(sw.Parallel),
		MaxTrialCount:      int32(sw.MaxTrials),
	}
	// The last value a trial reports counts, as in the Argo backend.
	for _, m := range append([]string{sw.Objective.Metric}, sw.Objective.AdditionalMetrics...) {
		spec.Objective.MetricStrategies = append(spec.Objective.MetricStrategies, MetricStrategy{Name: m, Value: "latest"})
	}
	seed := strconv.Itoa(sw.Seed)
	switch sw.Algorithm {
	case "random", "bayesian", "tpe":
		spec.Algorithm.AlgorithmSettings = []NameValue{{Name: "random_state", Value: seed}}
	case "hyperband":
		hb := sw.Hyperband
		spec.Algorithm.AlgorithmSettings = []NameValue{
			{Name: "eta", Value: strconv.Itoa(hb.Eta)},
			{Name: "r_l", Value: strconv.Itoa(hb.Max)},
			{Name: "resource_name", Value: hb.Resource},
		}
	}
	// Always set: Katib's default (unset) never stops on failures, and
	// the schema's default (0) is that any failure does.
	n := int32(sw.MaxFailedTrials)
	spec.MaxFailedTrialCount = &n
	if es := sw.EarlyStopping; es != nil {
		spec.EarlyStopping = &KatibAlgorithm{AlgorithmName: "medianstop", AlgorithmSettings: []NameValue{
			{Name: "min_trials_required", Value: strconv.Itoa(es.Median.MinTrials)},
		}}
		if s := es.Median.StartStep; s != nil {
			spec.EarlyStopping.AlgorithmSettings = append(spec.EarlyStopping.AlgorithmSettings, NameValue{Name: "start_step", Value: strconv.Itoa(*s)})
		}
	}
	switch sw.Metrics.Collector {
	case "file":
		spec.MetricsCollectorSpec = &MetricsCollectorSpec{
			Source:    &CollectorSource{FileSystemPath: &FileSystemPath{Path: sw.Metrics.Path, Kind: "File"}},
			Collector: Collector{Kind: "File"},
		}
	default:
		spec.MetricsCollectorSpec = &MetricsCollectorSpec{Collector: Collector{Kind: "StdOut"}}
	}

	// The trial's args: the job's own, with each parameter replaced by
	// Katib's placeholder.
	trial := *t
	trial.Args = map[string]ir.Value{}
	for k, v := range t.Args {
		trial.Args[k] = v
	}
	for _, p := range space {
		spec.Parameters = append(spec.Parameters, katibParameter(p))
		trial.Args[p.Name] = placeholder(p.Name)
		spec.TrialTemplate.TrialParameters = append(spec.TrialTemplate.TrialParameters, TrialParameter{Name: p.Name, Reference: p.Name, Description: "sweep parameter " + p.Name})
	}
	if n := sw.NAS; n != nil {
		// Katib's NAS service gives each trial the architecture to
		// train, which the trial reads from its args.
		spec.NasConfig = nasConfig(n)
		spec.Algorithm.AlgorithmSettings = nasSettings(n)
		for _, p := range nasAlgorithms[sw.Algorithm].trial {
			trial.Args[p.arg] = placeholder(p.name)
			spec.TrialTemplate.TrialParameters = append(spec.TrialTemplate.TrialParameters, TrialParameter{Name: p.name, Reference: p.reference, Description: "architecture from " + sw.Algorithm + ": " + p.reference})
		}
		if sw.Algorithm == "darts" && sw.Metrics.Collector != "file" {
			spec.MetricsCollectorSpec.Source = &CollectorSource{Filter: &MetricsFilter{MetricsFormat: []string{katibDefaultMetricFormat, dartsGenotypeFormat}}}
		}
	}
	if hb := sw.Hyperband; hb != nil && sw.Algorithm == "hyperband" {
		spec.Parameters = append(spec.Parameters, KatibParameter{Name: hb.Resource, ParameterType: "int", FeasibleSpace: FeasibleSpace{Min: strconv.Itoa(hb.Min), Max: strconv.Itoa(hb.Max)}})
		trial.Args[hb.Resource] = placeholder(hb.Resource)
		spec.TrialTemplate.TrialParameters = append(spec.TrialTemplate.TrialParameters, TrialParameter{Name: hb.Resource, Reference: hb.Resource, Description: "hyperband resource"})
	}
	trialDeadline(&trial, sw)
	job := training.Job(sys, env, sw.Trial, &trial)
	js, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	var ts map[string]any
	if err := json.Unmarshal(js, &ts); err != nil {
		return nil, err
	}
	// Katib names each trial's job after the trial.
	if md, ok := ts["metadata"].(map[string]any); ok {
		delete(md, "name")
		delete(md, "creationTimestamp")
		if len(md) == 0 {
			delete(ts, "metadata")
		}
	}
	delete(ts, "status")
	spec.TrialTemplate.TrialSpec = ts
	spec.TrialTemplate.SuccessCondition = jobSucceeded
	spec.TrialTemplate.FailureCondition = jobFailed
	spec.TrialTemplate.PrimaryContainerName, spec.TrialTemplate.PrimaryPodLabels = primaryPod(t)
	if env.Spec.TrainingAPI(t) == ir.TrainingV2 {
		// A TrainJob completes with a Complete condition; its metrics
		// are in the log of the first node, or the MPI launcher.
		spec.TrialTemplate.SuccessCondition = trainJobComplete
		spec.TrialTemplate.PrimaryContainerName, spec.TrialTemplate.PrimaryPodLabels = training.PrimaryPodV2(t)
	}

	hashed, err := ExperimentName(name, spec)
	if err != nil {
		return nil, err
	}
	exp := &Experiment{
		TypeMeta:   metav1.TypeMeta{APIVersion: KatibAPIVersion, Kind: "Experiment"},
		ObjectMeta: metav1.ObjectMeta{Name: hashed},
		Spec:       spec,
	}
	if sw.KeepHistory {
		// Argo CD leaves the Experiment when a change renames it: its
		// trials and observation logs stay until someone deletes it.
		exp.Annotations = map[string]string{KeepAnnotation: KeepHistory}
	}
	return exp, nil
}

// KeepAnnotation and KeepHistory are the Argo CD sync option that keeps
// an Experiment of a sweep with keepHistory when it is renamed.
const (
	KeepAnnotation = "argocd.argoproj.io/sync-options"
	KeepHistory    = "Prune=false"
)

// HashLength is the length of the content hash suffix ("-" and 8 hex
// digits) of an Experiment's name.
const HashLength = 9

// ExperimentName is the sweep's object name with a hash of the
// Experiment's spec. Katib's webhook refuses most changes to an existing
// Experiment, so Argo CD could never sync a changed sweep in place: a
// changed spec is a new Experiment under a new name, and Argo CD prunes
// the old one (with its trials and Katib's observation logs) unless the
// sweep sets keepHistory. An unchanged spec keeps its name, so syncs do
// not flap.
func ExperimentName(name string, spec ExperimentSpec) (string, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return render.ObjectName(name) + "-" + hex.EncodeToString(sum[:])[:HashLength-1], nil
}

func placeholder(name string) ir.Value {
	b, _ := json.Marshal("${trialParameters." + name + "}")
	return ir.Value{RawMessage: b}
}

// katibParameter converts a parameter. A log-scale range becomes a
// log-uniform feasible space; with a step (on a log scale a factor, which
// Katib has no notion of) kiln lists the points instead.
func katibParameter(p sample.Param) KatibParameter {
	kp := KatibParameter{Name: p.Name, ParameterType: p.Type}
	switch {
	case !p.Numeric():
		kp.FeasibleSpace.List = p.Values
	case p.Log && p.Step > 0:
		kp.ParameterType = "discrete"
		kp.FeasibleSpace.List = p.GridValues()
	default:
		kp.FeasibleSpace.Min = p.Format(p.Min)
		kp.FeasibleSpace.Max = p.Format(p.Max)
		if p.Step > 0 {
			kp.FeasibleSpace.Step = p.Format(p.Step)
		}
		if p.Log {
			kp.FeasibleSpace.Distribution = "logUniform"
		}
	}
	return kp
}

// primaryPod is the container and pod labels of the replica whose log
// carries the job's metrics: the PyTorch master, TensorFlow chief and
// XGBoost master (job-role master), the MPI launcher, or else the first
// worker.
func primaryPod(t *ir.Training) (string, map[string]string) {
	const (
		role  = "training.kubeflow.org/job-role"
		typ   = "training.kubeflow.org/replica-type"
		index = "training.kubeflow.org/replica-index"
	)
	switch t.Framework {
	case "mpi":
		return "mpi-launcher", map[string]string{role: "launcher"}
	case "pytorch":
		if t.Elastic != nil {
			return "pytorch", map[string]string{typ: "worker", index: "0"}
		}
		return "pytorch", map[string]string{role: "master"}
	case "tensorflow":
		return "tensorflow", map[string]string{role: "master"}
	case "xgboost":
		return "xgboost", map[string]string{role: "master"}
	case "paddle":
		return "paddle", map[string]string{typ: "worker", index: "0"}
	case "mxnet":
		return "mxnet", map[string]string{typ: "worker", index: "0"}
	}
	return "", nil
}
