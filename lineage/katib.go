package lineage

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// A Katib Experiment has no exit handler: nothing of kiln's runs when it
// ends, so kiln cannot write its record the way a pipeline's or an Argo
// sweep's run does. What the record needs is in the cluster, though: the
// Experiment's spec and status and its Trials. KatibInputs reads them,
// as `kubectl get experiment/NAME trials -l katib.kubeflow.org/experiment=NAME
// -o json` prints them (a List), so `kiln lineage record --katib FILE`
// writes the record of a finished Experiment when someone (a person, a
// CI job) runs it.

// katibObject is the part of a Katib Experiment or Trial a record takes.
type katibObject struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name   string            `json:"name"`
		UID    string            `json:"uid"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		// Experiment
		Objective struct {
			Type             string   `json:"type"`
			Goal             *float64 `json:"goal"`
			MetricName       string   `json:"objectiveMetricName"`
			MetricStrategies []struct {
				Name, Value string
			} `json:"metricStrategies"`
		} `json:"objective"`
		Algorithm struct {
			Name string `json:"algorithmName"`
		} `json:"algorithm"`
		// Trial
		ParameterAssignments []katibAssignment `json:"parameterAssignments"`
	} `json:"spec"`
	Status struct {
		StartTime      string           `json:"startTime"`
		CompletionTime string           `json:"completionTime"`
		Conditions     []katibCondition `json:"conditions"`
		// Experiment
		CurrentOptimalTrial struct {
			BestTrialName string `json:"bestTrialName"`
		} `json:"currentOptimalTrial"`
		// Trial
		Observation struct {
			Metrics []struct {
				Name, Min, Max, Latest string
			} `json:"metrics"`
		} `json:"observation"`
	} `json:"status"`
}

type katibAssignment struct{ Name, Value string }

type katibCondition struct{ Type, Status string }

// katibSweepLabel is the label kiln gives an Experiment: the sweep's name.
const katibSweepLabel = "app.kubernetes.io/name"

// KatibInputs fills in the inputs of a Katib Experiment's record from b:
// a List holding the Experiment and its Trials (an Experiment alone will
// do before it has any). The sweep is the Experiment's
// app.kubernetes.io/name label (kiln's sweep), unless in names one; the
// run is the Experiment, and its phase Succeeded or Failed once Katib
// says so, else Unknown.
func KatibInputs(b []byte, in *Inputs) error {
	var doc struct {
		katibObject
		Items []katibObject `json:"items"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("--katib: %w", err)
	}
	objs := doc.Items
	if doc.Kind == "Experiment" {
		objs = []katibObject{doc.katibObject}
	}
	var exp *katibObject
	var trials []katibObject
	for i, o := range objs {
		switch o.Kind {
		case "Experiment":
			if exp != nil {
				return fmt.Errorf("--katib: more than one Experiment (%s, %s)", exp.Metadata.Name, o.Metadata.Name)
			}
			exp = &objs[i]
		case "Trial":
			trials = append(trials, o)
		}
	}
	if exp == nil {
		return fmt.Errorf("--katib: no Experiment (want the JSON of 'kubectl get experiment/NAME trials -l katib.kubeflow.org/experiment=NAME -o json')")
	}
	if in.Sweep == "" {
		in.Sweep = exp.Metadata.Labels[katibSweepLabel]
	}
	if in.Sweep == "" {
		in.Sweep = exp.Metadata.Name
	}
	obj := exp.Spec.Objective
	in.Algorithm, in.Objective, in.Goal = exp.Spec.Algorithm.Name, obj.MetricName, obj.Type
	if obj.Goal != nil {
		in.Target = strconv.FormatFloat(*obj.Goal, 'g', -1, 64)
	}
	in.RunName, in.RunUID, in.Started = exp.Metadata.Name, exp.Metadata.UID, exp.Status.StartTime
	in.Phase = katibPhase(exp.Status.Conditions)
	if t, err := time.Parse(time.RFC3339, exp.Status.CompletionTime); err == nil {
		in.Finished = t
	}
	in.Best = exp.Status.CurrentOptimalTrial.BestTrialName
	// The metric value Katib ranks a trial by: the strategy the
	// Experiment gives the metric (kiln's are latest), latest by default.
	strategy := map[string]string{}
	for _, s := range obj.MetricStrategies {
		strategy[s.Name] = s.Value
	}
	type trial struct {
		Name       string             `json:"name"`
		Status     string             `json:"status"`
		Parameters map[string]string  `json:"parameters"`
		Metrics    map[string]float64 `json:"metrics"`
	}
	var hist struct {
		Trials []trial `json:"trials"`
		Reason string  `json:"reason"`
	}
	hist.Trials = []trial{}
	for _, o := range trials {
		t := trial{Name: o.Metadata.Name, Status: katibTrialStatus(o.Status.Conditions), Parameters: map[string]string{}, Metrics: map[string]float64{}}
		for _, a := range o.Spec.ParameterAssignments {
			t.Parameters[a.Name] = a.Value
		}
		for _, m := range o.Status.Observation.Metrics {
			v := m.Latest
			switch strategy[m.Name] {
			case "max":
				v = m.Max
			case "min":
				v = m.Min
			}
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				t.Metrics[m.Name] = f
			}
		}
		hist.Trials = append(hist.Trials, t)
	}
	if len(trials) == 0 && in.Best != "" {
		return fmt.Errorf("--katib: the Experiment's Trials are missing (list them with it: kubectl get experiment/%s trials -l katib.kubeflow.org/experiment=%s -o json)", exp.Metadata.Name, exp.Metadata.Name)
	}
	for _, c := range exp.Status.Conditions {
		if c.Status == "True" && (c.Type == "Succeeded" || c.Type == "Failed") {
			hist.Reason = "Katib: Experiment " + c.Type
		}
	}
	h, err := json.Marshal(hist)
	if err != nil {
		return err
	}
	in.History = string(h)
	return nil
}

// katibPhase is an Experiment's conditions as a record's phase.
func katibPhase(cs []katibCondition) string {
	for _, c := range cs {
		if c.Status == "True" && (c.Type == "Succeeded" || c.Type == "Failed") {
			return c.Type
		}
	}
	return "Unknown"
}

// katibTrialStatus is a Trial's conditions as a trial's status: Katib's
// terminal condition (Succeeded, Failed, EarlyStopped,
// MetricsUnavailable, Killed), else Running.
func katibTrialStatus(cs []katibCondition) string {
	status := "Running"
	for _, c := range cs {
		if c.Status != "True" {
			continue
		}
		switch c.Type {
		case "Succeeded", "Failed", "EarlyStopped", "MetricsUnavailable", "Killed":
			status = c.Type
		}
	}
	return status
}
