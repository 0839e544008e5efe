package compiler

import (
	"context"
	"encoding/json"
	"testing"
)

func TestScratch(t *testing.T) {
	sys, diags := Compile(context.Background(), "../examples/skin-lesion", Options{})
	for _, d := range diags {
		t.Log(d.String(), d.Related)
	}
	if sys == nil {
		t.Fatal("nil")
	}
	for _, e := range sys.Environments {
		b, _ := json.MarshalIndent(e.Spec, "", " ")
		t.Logf("%s %+v\n%s", e.Name, e.GPU, b[:600])
		t.Log(e.Sources)
	}
}
