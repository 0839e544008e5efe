//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// isKilnStep reports whether a step's container runs kiln itself (the
// promote step, the lineage step of an exit handler): those the
// executor runs for real, with the kiln binary under test.
func isKilnStep(tmpl map[string]any) bool {
	cmd, _, _ := unstructured.NestedStringSlice(tmpl, "container", "command")
	return slices.Equal(cmd, []string{"kiln"})
}

// kilnStep runs a kiln step here, as its container would run it: the
// kiln binary the suite built, with the arguments and environment the
// controller resolved into the pod's template (ARGO_TEMPLATE: the
// workflow's parameters and global outputs already substituted). The
// pod's filesystem is a directory of its own: an argument under /tmp/
// (the step's --file, --result, --uri-file) and HOME point into it.
// Two things stand in for the outside world: a --repo the test maps
// (e.repos) is a local bare repository, pushed to directly (--github is
// dropped: there is no GitHub here), and the artifact repository is
// e.records, a directory in the layout `kiln lineage --records` reads
// (bucket/key → records/key). Then the step reports what argoexec
// would: each output parameter read from its valueFrom.path (its
// default if the file is missing, as argoexec does; the step fails
// without one), each output artifact copied to its key in e.records.
func (e *executor) kilnStep(ctx context.Context, tmpl map[string]any) (outputs map[string]any, ok bool, msg string) {
	name, _ := tmpl["name"].(string)
	root, err := os.MkdirTemp(e.pods, name+"-")
	if err != nil {
		return nil, false, err.Error()
	}
	inPod := func(p string) string {
		if strings.HasPrefix(p, "/tmp/") || p == "/tmp" {
			return filepath.Join(root, p)
		}
		return p
	}
	args, _, _ := unstructured.NestedStringSlice(tmpl, "container", "args")
	var argv []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--github":
			continue
		case a == "--repo" && i+1 < len(args) && e.repos[args[i+1]] != "":
			argv = append(argv, a, e.repos[args[i+1]])
			i++
		default:
			argv = append(argv, inPod(a))
		}
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=kiln e2e", "GIT_AUTHOR_EMAIL=e2e@kiln.dev", "GIT_COMMITTER_NAME=kiln e2e", "GIT_COMMITTER_EMAIL=e2e@kiln.dev"}
	envs, _, _ := unstructured.NestedSlice(tmpl, "container", "env")
	for _, v := range envs {
		ev, _ := v.(map[string]any)
		n, _ := ev["name"].(string)
		val, isValue := ev["value"].(string)
		if isValue { // secrets (a Git token) are not needed here
			env = append(env, n+"="+inPod(val))
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o755); err != nil {
		return nil, false, err.Error()
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, cl.kiln, argv...)
	cmd.Env = env
	cmd.Dir = filepath.Join(root, "tmp")
	out, err := cmd.CombinedOutput()
	e.mu.Lock()
	e.kilnRuns = append(e.kilnRuns, fmt.Sprintf("kiln %s\n%s", strings.Join(argv, " "), strings.TrimSpace(string(out))))
	e.mu.Unlock()
	if err != nil {
		return nil, false, fmt.Sprintf("kiln %s: %v: %s", argv[0], err, strings.TrimSpace(string(out)))
	}

	outputs = map[string]any{}
	ps, _, _ := unstructured.NestedSlice(tmpl, "outputs", "parameters")
	var params []any
	for _, p := range ps {
		pm, _ := p.(map[string]any)
		pn, _ := pm["name"].(string)
		path, _, _ := unstructured.NestedString(pm, "valueFrom", "path")
		if path == "" {
			continue
		}
		b, err := os.ReadFile(inPod(path))
		v := strings.TrimSuffix(string(b), "\n")
		if err != nil {
			def, hasDefault, _ := unstructured.NestedString(pm, "valueFrom", "default")
			if !hasDefault {
				return nil, false, fmt.Sprintf("output parameter %s: %v", pn, err)
			}
			v = def
		}
		params = append(params, reportedParam(pm, v))
	}
	if params != nil {
		outputs["parameters"] = params
	}
	if arts, _, _ := unstructured.NestedSlice(tmpl, "outputs", "artifacts"); arts != nil {
		up := uploaded(tmpl, arts)
		for _, a := range up {
			am := a.(map[string]any)
			path, _ := am["path"].(string)
			key, _, _ := unstructured.NestedString(am, "s3", "key")
			b, err := os.ReadFile(inPod(path))
			if err != nil {
				return nil, false, fmt.Sprintf("output artifact %s: %v", am["name"], err)
			}
			dst := filepath.Join(e.records, filepath.FromSlash(key))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return nil, false, err.Error()
			}
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				return nil, false, err.Error()
			}
		}
		outputs["artifacts"] = up
	}
	return outputs, true, "ran kiln " + argv[0]
}
