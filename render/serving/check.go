package serving

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/ir"
	"github.com/kiln-ml/kiln/render"
)

// MaxLabelLength is the longest DNS label: Kubernetes names of Services
// and the host labels KServe and Knative build from them.
const MaxLabelLength = 63

// metricsOf lists the autoscaling metrics each way of serving supports.
var metricsOf = map[string][]string{
	"Knative": {"concurrency", "rps", "cpu"},
	"hpa":     {"cpu", "memory"},
}

// Check reports what KServe, Istio or the environment would refuse or
// silently get wrong about a serving entry: names too long for what
// KServe derives, canary shares outside 0–100 or not adding up to 100,
// replica bounds upside down, metrics the autoscaler in use does not
// know, settings the runtime ignores, and GPUs beyond the environment's
// quota or per-pod maximum.
func Check(c *render.Context, e *entry) {
	s := e.s
	checkNames(c, e)
	if cn := s.Canary; cn != nil {
		p := ir.Join(e.path, "canary")
		switch {
		case cn.Percent < 0 || cn.Percent > 100:
			c.Errorf(ir.Join(p, "percent"), "canary.percent is %d; a share of traffic is between 0 and 100", cn.Percent)
		case cn.StablePercent != nil && (*cn.StablePercent+cn.Percent != 100):
			c.Errorf(ir.Join(p, "stablePercent"), "traffic weights add up to %d (stable %d + canary %d), not 100; set stablePercent to %d or leave it out", *cn.StablePercent+cn.Percent, *cn.StablePercent, cn.Percent, 100-cn.Percent)
		}
	}
	if s.Replicas.Min > s.Replicas.Max {
		c.Errorf(ir.Join(e.path, "replicas", "min"), "replicas.min (%d) is above replicas.max (%d)", s.Replicas.Min, s.Replicas.Max)
	}
	if s.Replicas.Min == 0 && !e.serverless() && !e.env.Production {
		c.Errorf(ir.Join(e.path, "replicas", "min"), "replicas.min is 0, but only Knative-mode KServe scales a model to zero; %s runs at least 1 replica: set min to 1 or more", e.mode())
	}
	if a := s.Autoscale; a != nil {
		key := "hpa"
		if e.serverless() {
			key = "Knative"
		}
		if !slices.Contains(metricsOf[key], a.Metric) {
			c.Errorf(ir.Join(e.path, "autoscale", "metric"), "%s cannot scale on %q: use %s", e.mode(), a.Metric, quoted(metricsOf[key]))
		}
	}
	checkRuntime(c, e)
	checkGPUs(c, e)
	checkGatewayAPI(c, e)
}

// mode names how the entry is served, for messages.
func (e *entry) mode() string {
	switch {
	case e.s.Runtime == "tfserving":
		return "TF Serving"
	case e.s.Runtime == "seldon":
		return "Seldon"
	case e.serverless():
		return "Knative-mode KServe"
	}
	return "Standard-mode KServe"
}

// checkNames checks the longest host label KServe and Knative derive from
// the name and the namespace: <name>-predictor-<namespace>, or
// -transformer-, for the canary's InferenceService too.
func checkNames(c *render.Context, e *entry) {
	if e.s.Runtime != "kserve" {
		return
	}
	longest := ""
	for _, n := range DerivedNames(e) {
		if len(n) > len(longest) {
			longest = n
		}
	}
	if over := len(longest) - MaxLabelLength; over > 0 {
		c.Errorf(e.path, "serving name %q is too long for namespace %q: KServe derives the host label %q (%d characters) from them, and DNS allows %d; shorten the name by %s", e.obj, e.env.Namespace, longest, len(longest), MaxLabelLength, plural(over, "character"))
	}
}

// DerivedNames lists the DNS labels KServe and Knative derive from a
// KServe entry in its environment.
func DerivedNames(e *entry) []string {
	roles := []string{RolePredictor}
	if e.s.Transformer != nil {
		roles = append(roles, RoleTransformer)
	}
	var out []string
	for _, track := range e.tracks() {
		for _, r := range roles {
			out = append(out, e.trackName(track)+"-"+r+"-"+e.env.Namespace)
		}
	}
	return out
}

// checkRuntime reports settings the runtime cannot serve or would ignore.
func checkRuntime(c *render.Context, e *entry) {
	s := e.s
	m := ir.Join(e.path, "model")
	if s.Model.Format == "custom" && s.Model.Image == "" {
		c.Errorf(ir.Join(m, "format"), "format \"custom\" runs your own model server: set model.image")
	}
	if s.Model.Format != "custom" && s.Model.Image != "" {
		c.Errorf(ir.Join(m, "image"), "model.image is used only with format \"custom\"; %q selects the runtime's own server", s.Model.Format)
	}
	switch s.Runtime {
	case "tfserving":
		if s.Model.Format != "tensorflow" {
			c.Errorf(ir.Join(m, "format"), "TF Serving serves TensorFlow SavedModels only, not %q: use runtime \"kserve\" or \"seldon\"", s.Model.Format)
		}
		// TensorFlow moved S3 out of its core file systems: the stock
		// tensorflow/serving images since 2.7 fail with "File system scheme
		// 's3' not implemented" (tensorflow/serving#1963).
		for _, u := range storageURIs(e) {
			switch {
			case strings.HasPrefix(u.uri, "s3://"):
				c.Errorf(u.path, "TF Serving cannot read s3:// (TensorFlow no longer builds S3 into tensorflow/serving since 2.7): serve %q with runtime \"kserve\" (format \"tensorflow\"), or copy the model to gs:// or a pvc://", u.uri)
			case !strings.HasPrefix(u.uri, "gs://") && !strings.HasPrefix(u.uri, "pvc://"):
				c.Errorf(u.path, "TF Serving reads models from gs:// or pvc://, not %q", u.uri)
			}
		}
	case "seldon":
		if _, ok := SeldonServers[s.Model.Format]; !ok && s.Model.Format != "custom" {
			c.Errorf(ir.Join(m, "format"), "Seldon Core has no prepackaged server for %q: use format \"custom\" with your own image, or runtime \"kserve\"", s.Model.Format)
		}
	}
	if s.Transformer != nil && s.Runtime != "kserve" {
		c.Errorf(ir.Join(e.path, "transformer"), "transformers are a KServe component; %s would ignore it", e.mode())
	}
	if x := s.Expose; x != nil && x.Gateway != "" && !e.env.Ingress.GatewayAPI() {
		for _, f := range []struct {
			name string
			set  bool
		}{{"tls", x.TLS != nil}, {"gatewaySelector", len(x.GatewaySelector) > 0}} {
			if f.set {
				c.Errorf(ir.Join(e.path, "expose", f.name), "expose.%s configures the Gateway kiln renders, but expose.gateway names an existing one (%s), which kiln leaves alone: set it there, or drop expose.gateway", f.name, x.Gateway)
			}
		}
	}
	checkCredentials(c, e)
}

// storageURIs lists the entry's model locations with their CUE paths.
func storageURIs(e *entry) []struct{ path, uri string } {
	out := []struct{ path, uri string }{{ir.Join(e.path, "model", "storageUri"), e.s.Model.StorageURI}}
	if cn := e.s.Canary; cn != nil {
		out = append(out, struct{ path, uri string }{ir.Join(e.path, "canary", "storageUri"), cn.StorageURI})
	}
	return out
}

// GCSCredentialFile is the only key of a credentials Secret KServe reads
// for gs:// (gcsCredentialFileName in KServe's inferenceservice-config, a
// cluster-wide setting): a Secret without it is skipped as unsupported
// (v0.20 pkg/credentials/service_account_credentials.go).
const GCSCredentialFile = "gcloud-application-credentials.json"

// checkCredentials reports a credentials key KServe would not read. KServe
// picks what a Secret holds by its keys: AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY for S3, gcloud-application-credentials.json for
// GCS; no setting on the InferenceService or service account names another.
func checkCredentials(c *render.Context, e *entry) {
	cr := e.s.Credentials
	if e.s.Runtime != "kserve" || cr == nil || cr.Key == "" || cr.Key == GCSCredentialFile {
		return
	}
	p := ir.Join(e.path, "credentials", "key")
	gcs := slices.ContainsFunc(storageURIs(e), func(u struct{ path, uri string }) bool { return strings.HasPrefix(u.uri, "gs://") })
	if gcs {
		c.Errorf(p, "KServe reads GCS credentials only from the Secret key %q (a cluster-wide setting), and skips a Secret without it, so the model would download with no credentials: store the key file in Secret %q under %q and set key to it or leave key out", GCSCredentialFile, cr.Secret, GCSCredentialFile)
		return
	}
	c.Errorf(p, "KServe does not read credentials.key: it recognises Secret %q by the keys it holds (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for S3); leave key out", cr.Secret)
}

// checkGPUs holds the model to the environment's per-pod maximum and
// quota, counting every replica the autoscaler may start of each version.
func checkGPUs(c *render.Context, e *entry) {
	env := e.env
	r := e.s.Resources
	if r.GPUs == 0 {
		return
	}
	total, breakdown := e.gpus()
	held := total / max(e.max, 1) * e.min // every replica holds the same
	c.NeedGPUs(render.GPUDemand{Path: e.path, Resource: r.GPUResource(), Held: held, Peak: total, What: breakdown})
	if env.GPU.Quota == 0 {
		c.Errorf(ir.Join(e.path, "resources", "gpus"), "%s serves on GPUs in %s (%s); %s has no GPU quota: set environments.%s.gpu.quota or serve on CPUs there", e.path, env.Name, breakdown, env.Name, env.Name)
		return
	}
	if r.GPUs > env.GPU.MaxPerPod {
		c.Errorf(ir.Join(e.path, "resources", "gpus"), "%s asks for %s per replica; %s allows at most %d per pod", e.path, count(r.GPUs, r), env.Name, env.GPU.MaxPerPod)
	}
	if total > env.GPU.Quota {
		c.Errorf(ir.Join(e.path, "replicas", "max"), "%s may use %s in %s (%s); %s allows %d: lower replicas.max or raise the quota", e.path, count(total, r), env.Name, breakdown, env.Name, env.GPU.Quota)
	}
}

// checkRoute reports two models claiming the same host and path.
func checkRoute(c *render.Context, seen map[string]string, e *entry) {
	x := e.s.Expose
	if x == nil {
		return
	}
	key := x.Host + e.prefix()
	if first, ok := seen[key]; ok {
		c.Errorf(ir.Join(e.path, "expose", "host"), "%s and %s both claim host %q and path %q; give one of them another host or path", first, e.path, x.Host, x.Path)
		return
	}
	seen[key] = e.path
}

// count spells n GPUs, or n MIG slices of the entry's profile.
func count(n int, r ir.Resources) string {
	if r.MIG != "" {
		return plural(n, "MIG "+r.MIG+" slice")
	}
	return plural(n, "GPU")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func quoted(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
