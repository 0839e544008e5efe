package pod

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/diag"
	"github.com/kiln-ml/kiln/ir"
)

// Problem is something a pod's spec gets wrong that the pod's owner
// reports at its own path: Field is the path below the entry (such as
// "resources.mig" or "datasets.1"), Related the CUE paths of other values
// involved.
type Problem struct {
	Field   string
	Related []string
	Msg     string
}

// Errors turns the problems of the entry at path into error diagnostics
// at the positions src records.
func Errors(src ir.Sources, path string, problems []Problem) diag.List {
	var out diag.List
	for _, p := range problems {
		at := path + "." + p.Field // Field is a path already
		d := diag.Errorf(src.Pos(at), at, "%s", p.Msg)
		for _, r := range p.Related {
			// Only a position recorded for the value or a parent of it,
			// not the spec's start.
			for q := r; q != ""; q = ir.Parent(q) {
				if pos, ok := src[q]; ok && pos.IsValid() {
					d.Related = append(d.Related, pos)
					break
				}
			}
		}
		out.Add(d)
	}
	return out
}

// DatasetConflicts reports datasets of one pod whose credentials would
// overwrite each other. A container has one AWS identity (the AWS_*
// variables of every s3:// dataset's Secret come in through envFrom, so
// the last Secret wins) and one GOOGLE_APPLICATION_CREDENTIALS file:
// s3:// datasets with different Secrets, or gs:// datasets with different
// key files, cannot share a pod. Field is the index of the later dataset
// in datasets.
func DatasetConflicts(env *ir.Environment, datasets []string) []Problem {
	var out []Problem
	// first dataset with credentials, per store
	first := map[string]string{}
	for i, name := range datasets {
		ds := env.Spec.Datasets[name]
		if ds == nil || ds.Credentials == nil {
			continue
		}
		store := credentialStore(ds.URI)
		if store == "" {
			continue
		}
		prev, ok := first[store]
		if !ok {
			first[store] = name
			continue
		}
		p := env.Spec.Datasets[prev]
		if sameCredentials(store, p.Credentials, ds.Credentials) {
			continue
		}
		what := "Secret " + credentialName(store, ds.Credentials)
		prevWhat := "Secret " + credentialName(store, p.Credentials)
		var how string
		switch store {
		case "s3":
			how = "both Secrets set the same AWS_* variables in the container and the last one wins, so one of the datasets is read with the other's keys"
		case "gs":
			how = "a container has one GOOGLE_APPLICATION_CREDENTIALS, so one of the datasets is read with the other's key"
		}
		out = append(out, Problem{
			Field:   ir.Index("datasets", i),
			Related: []string{ir.Path("datasets", prev, "credentials"), ir.Path("datasets", name, "credentials")},
			Msg: fmt.Sprintf("datasets %q (%s) and %q (%s) need different credentials on one pod: %s; give the pod one identity that can read both (one Secret), or read them in separate steps",
				prev, prevWhat, name, what, how),
		})
	}
	return out
}

// credentialStore is the store whose credentials a URI's Secret holds, if
// they go into the container in a way only one dataset can use.
func credentialStore(uri string) string {
	switch {
	case strings.HasPrefix(uri, "s3://"):
		return "s3"
	case strings.HasPrefix(uri, "gs://"):
		return "gs"
	}
	return ""
}

func sameCredentials(store string, a, b *ir.SecretRef) bool {
	if a.Secret != b.Secret {
		return false
	}
	// S3 credentials come in as the whole Secret; GCS as one key file.
	return store == "s3" || gcsKey(a) == gcsKey(b)
}

func credentialName(store string, r *ir.SecretRef) string {
	if store == "gs" {
		return fmt.Sprintf("%q, key %q", r.Secret, gcsKey(r))
	}
	return fmt.Sprintf("%q", r.Secret)
}

func gcsKey(r *ir.SecretRef) string {
	if r.Key == "" {
		return "key.json"
	}
	return r.Key
}

// MIGProfiles lists the MIG profiles (the <profile> of the extended
// resource nvidia.com/mig-<profile>) each MIG-capable GPU offers, from
// NVIDIA's MIG user guide. Products are matched by the value of the
// nvidia.com/gpu.product node label, see migFamily.
var MIGProfiles = map[string][]string{
	"A30":       {"1g.6gb", "2g.12gb", "4g.24gb"},
	"A100-40GB": {"1g.5gb", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"},
	"A100-80GB": {"1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"},
	"H100-80GB": {"1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"},
	"H100-94GB": {"1g.12gb", "1g.24gb", "2g.24gb", "3g.47gb", "4g.47gb", "7g.94gb"},
	"H200":      {"1g.18gb", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"},
}

// migFamily maps a GPU product label (NVIDIA-A100-SXM4-40GB,
// NVIDIA-A100-80GB-PCIe, NVIDIA-H100-80GB-HBM3, NVIDIA-H100-NVL,
// NVIDIA-H200, NVIDIA-A30, …) to its MIG profile list; "" for products
// kiln has no table for (Grace Hopper superchips come with more than one
// memory size, so they are not guessed).
func migFamily(product string) string {
	p := strings.ToUpper(product)
	switch {
	case strings.Contains(p, "GH200"), strings.Contains(p, "96GB"):
		return ""
	case strings.Contains(p, "H200"):
		return "H200"
	case strings.Contains(p, "H100") && (strings.Contains(p, "NVL") || strings.Contains(p, "94GB")):
		return "H100-94GB"
	case strings.Contains(p, "H100"):
		return "H100-80GB"
	case strings.Contains(p, "A100") && strings.Contains(p, "80GB"):
		return "A100-80GB"
	case strings.Contains(p, "A100"):
		return "A100-40GB"
	case strings.Contains(p, "A30"):
		return "A30"
	}
	return ""
}

// Product is the GPU product a pod with resources r is placed on: its
// own, else the environment's default; "" when none is named.
func Product(env *ir.Environment, r ir.Resources) string {
	if r.GPUProduct != "" {
		return r.GPUProduct
	}
	return env.GPU.DefaultProduct()
}

// ResourceProblems reports resources no node can satisfy or that ask for
// nothing: a MIG profile without a count (the pod would request no GPU at
// all), and a MIG profile the selected GPU product does not offer (the
// pod would stay Pending). Field is below the entry.
func ResourceProblems(env *ir.Environment, r ir.Resources) []Problem {
	if r.MIG == "" {
		return nil
	}
	var out []Problem
	if r.GPUs == 0 {
		out = append(out, Problem{Field: "resources.mig", Msg: fmt.Sprintf("mig is %q but resources.gpus is 0, so the pod requests no MIG slice and runs without a GPU; set gpus to the number of %s slices (1 for one)", r.MIG, r.MIG)})
	}
	product := Product(env, r)
	fam := migFamily(product)
	if fam == "" {
		return out
	}
	if profiles := MIGProfiles[fam]; !slices.Contains(profiles, r.MIG) {
		field := "resources.gpuProduct"
		if r.GPUProduct == "" {
			field = "resources.mig"
		}
		out = append(out, Problem{Field: field, Msg: fmt.Sprintf("MIG profile %q does not exist on %s (%s offers %s), so no node has nvidia.com/mig-%s and the pod stays Pending; pick one of those profiles or another gpuProduct",
			r.MIG, product, fam, strings.Join(profiles, ", "), r.MIG)})
	}
	return out
}
