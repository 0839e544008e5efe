package compiler

import "testing"

func TestDescribeSchemaBound(t *testing.T) {
	for _, tc := range []struct {
		labels []string
		msg    string
		want   string
	}{
		{[]string{"training", "BERT"}, "field not allowed", `invalid name "BERT": use at most 50 lowercase letters, digits, '-' or '_', starting with a letter and ending with a letter or digit`},
		{[]string{"pipelines", "p", "steps", "Go"}, "field not allowed", `invalid step name "Go": use lowercase letters, digits, '-' or '_', starting with a letter`},
		// A valid name is not the problem: a field the schema does not
		// have keeps CUE's message.
		{[]string{"training", "bert"}, "field not allowed", "field not allowed"},
		{[]string{"trainig"}, "field not allowed", "field not allowed"},
		{[]string{"serving", "s", "canary", "percent"}, "invalid value 101 (out of bound <=100)", "invalid value 101: want a share of traffic, from 0 to 100 (#Percent)"},
		{nil, "invalid value 2147483648 (out of bound <=2147483647)", "2147483648 is out of range: at most 2147483647 (Kubernetes stores counts such as replicas, ports and limits as 32-bit integers)"},
		{nil, "invalid value -2147483649 (out of bound >=-2147483648)", "-2147483649 is out of range: at least -2147483648 (Kubernetes stores counts such as replicas, ports and limits as 32-bit integers)"},
		// >=0 is shared by several definitions: CUE's words stay.
		{nil, "invalid value -1 (out of bound >=0)", "invalid value -1 (out of bound >=0)"},
	} {
		if got := describeSchemaBound(tc.labels, tc.msg); got != tc.want {
			t.Errorf("describeSchemaBound(%q, %q) = %q, want %q", tc.labels, tc.msg, got, tc.want)
		}
	}
	if got := specLabels([]string{"#System", "sweeps", `"resnet-tune"`}); len(got) != 2 || got[1] != "resnet-tune" {
		t.Errorf("specLabels = %q", got)
	}
}
