package argocd_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"

	"github.com/kiln-ml/kiln/plugins"
	"github.com/kiln-ml/kiln/render"
)

// healthScripts are the health checks of the built-in renderers' kinds,
// by group/Kind, as Argo CD's renderer finds them.
func healthScripts(t *testing.T) map[string]string {
	t.Helper()
	kinds, err := render.NewKinds(plugins.Builtins()...)
	require.NoError(t, err)
	out := map[string]string{}
	for _, k := range kinds.All() {
		if k.Health != "" {
			out[k.Group+"/"+k.Kind] = k.Health
		}
	}
	return out
}

// health runs a health check the way Argo CD does (gopher-lua, the object
// as the global obj, the script returning a table with status and
// message).
func health(t *testing.T, groupKind, object string) (status, message string) {
	t.Helper()
	script, ok := healthScripts(t)[groupKind]
	require.True(t, ok, "no health check for %s", groupKind)
	var obj map[string]any
	require.NoError(t, json.Unmarshal([]byte(object), &obj))
	L := lua.NewState(lua.Options{SkipOpenLibs: false})
	defer L.Close()
	L.SetGlobal("obj", toLua(L, obj))
	fn, err := L.LoadString(script)
	require.NoError(t, err, "the script does not compile")
	L.Push(fn)
	require.NoError(t, L.PCall(0, 1, nil))
	ret, ok := L.Get(-1).(*lua.LTable)
	require.True(t, ok, "the script returned %s, not a table", L.Get(-1).Type())
	return ret.RawGetString("status").String(), ret.RawGetString("message").String()
}

func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case bool:
		return lua.LBool(v)
	}
	return lua.LNil
}

// Every script compiles, and every kind has one.
func TestHealthScriptsCompile(t *testing.T) {
	scripts := healthScripts(t)
	require.Len(t, scripts, 10)
	for gk, script := range scripts {
		L := lua.NewState()
		_, err := L.LoadString(script)
		L.Close()
		assert.NoError(t, err, gk)
	}
}

func TestTrainingHealth(t *testing.T) {
	for _, gk := range []string{"kubeflow.org/PyTorchJob", "kubeflow.org/TFJob", "kubeflow.org/XGBoostJob", "kubeflow.org/PaddleJob", "kubeflow.org/MPIJob"} {
		for _, tc := range []struct {
			name, obj, status, message string
		}{
			{"new", `{"spec": {}}`, "Progressing", "Waiting for the operator to start the job"},
			{"running", `{"status": {"conditions": [
				{"type": "Created", "status": "True", "message": "created"},
				{"type": "Running", "status": "True", "message": "job is running"}]}}`, "Progressing", "job is running"},
			{"succeeded", `{"status": {"conditions": [
				{"type": "Created", "status": "True"},
				{"type": "Running", "status": "False"},
				{"type": "Succeeded", "status": "True", "message": "job resnet successfully completed"}]}}`, "Healthy", "job resnet successfully completed"},
			{"failed after a restart", `{"status": {"conditions": [
				{"type": "Restarting", "status": "True", "reason": "Restarting"},
				{"type": "Failed", "status": "True", "message": "backoff limit reached"}]}}`, "Degraded", "backoff limit reached"},
			{"held by kueue", `{"status": {"conditions": [
				{"type": "Suspended", "status": "True", "reason": "JobSuspended"}]}}`, "Suspended", "JobSuspended"},
		} {
			t.Run(gk+"/"+tc.name, func(t *testing.T) {
				status, msg := health(t, gk, tc.obj)
				assert.Equal(t, tc.status, status)
				assert.Equal(t, tc.message, msg)
			})
		}
	}
}

// TrainJob conditions as Trainer v2.3.0 sets them: Suspended (False
// once Kueue resumes the job), then Complete or Failed.
func TestTrainJobHealth(t *testing.T) {
	const gk = "trainer.kubeflow.org/TrainJob"
	for _, tc := range []struct {
		name, obj, status, message string
	}{
		{"new", `{"spec": {}}`, "Progressing", "Waiting for the trainer controller to start the job"},
		{"held by kueue", `{"status": {"conditions": [
			{"type": "Suspended", "status": "True", "reason": "Suspended", "message": "TrainJob is suspended"}]}}`, "Suspended", "TrainJob is suspended"},
		{"resumed", `{"status": {"conditions": [
			{"type": "Suspended", "status": "False", "reason": "Resumed", "message": "TrainJob is resumed"}]}}`, "Progressing", "Running"},
		{"complete", `{"status": {"conditions": [
			{"type": "Suspended", "status": "False", "reason": "Resumed"},
			{"type": "Complete", "status": "True", "reason": "JobSetCompleted", "message": "jobset completed"}]}}`, "Healthy", "jobset completed"},
		{"failed", `{"status": {"conditions": [
			{"type": "Failed", "status": "True", "reason": "DeadlineExceeded", "message": "TrainJob exceeded its active deadline"}]}}`, "Degraded", "TrainJob exceeded its active deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, msg := health(t, gk, tc.obj)
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.message, msg)
		})
	}
}

func TestExperimentHealth(t *testing.T) {
	status, msg := health(t, "kubeflow.org/Experiment", `{"status": {"trialsSucceeded": 24, "conditions": [
		{"type": "Created", "status": "True"},
		{"type": "Running", "status": "False"},
		{"type": "Succeeded", "status": "True", "message": "Experiment has succeeded because max trial count has reached"}]}}`)
	assert.Equal(t, "Healthy", status)
	assert.Equal(t, "Experiment has succeeded because max trial count has reached (24 trials succeeded)", msg)
	status, _ = health(t, "kubeflow.org/Experiment", `{"status": {"conditions": [{"type": "Failed", "status": "True", "reason": "ExperimentFailed"}]}}`)
	assert.Equal(t, "Degraded", status)
	status, _ = health(t, "kubeflow.org/Experiment", `{}`)
	assert.Equal(t, "Progressing", status)
}

func TestNotebookHealth(t *testing.T) {
	for _, tc := range []struct {
		name, obj, status, message string
	}{
		{"starting", `{"status": {"readyReplicas": 0}}`, "Progressing", "Waiting for the notebook server to start"},
		{"ready", `{"status": {"readyReplicas": 1}}`, "Healthy", "The notebook server is ready"},
		{"bad image", `{"status": {"readyReplicas": 0, "containerState": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}}}`, "Degraded", "ImagePullBackOff: Back-off pulling image"},
		{"pulling", `{"status": {"containerState": {"waiting": {"reason": "ContainerCreating"}}}}`, "Progressing", "ContainerCreating"},
		{"culled", `{"metadata": {"annotations": {"kubeflow-resource-stopped": "2026-11-28T10:00:00Z"}}, "status": {"readyReplicas": 0}}`, "Suspended", "Stopped since 2026-11-28T10:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, msg := health(t, "kubeflow.org/Notebook", tc.obj)
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.message, msg)
		})
	}
}
