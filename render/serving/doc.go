// Package serving renders serving entries: KServe InferenceServices
// (serving.kserve.io/v1beta1), TF Serving as a Deployment, Service and
// HorizontalPodAutoscaler, or Seldon Core SeldonDeployments
// (machinelearning.seldon.io/v1), and the Istio objects in front of them
// (networking.istio.io/v1 Gateway, VirtualService and DestinationRule,
// security.istio.io/v1 AuthorizationPolicy and a namespace-wide STRICT
// PeerAuthentication).
//
// kiln splits a canary itself in every mode, so the stable model runs
// from the first sync whatever the operators remember:
//   - KServe (both modes): the canary is a second InferenceService,
//     <name>-canary. Standard mode ignores canaryTrafficPercent, and
//     Knative mode honours it only once a revision was rolled out at 100%,
//     so neither is left to KServe. In Standard mode a Service in
//     front of both (<name>-serving) is split by kiln's DestinationRule
//     subsets and VirtualServices (one for the exposed host, one for
//     callers in the mesh). In Knative mode each share goes to
//     Knative's local gateway with its InferenceService's host, from the
//     exposed host's VirtualService (<name>-ingress: KServe owns and
//     overwrites the one named <name>) and from <name>-serving, an
//     ExternalName Service for callers in the mesh. Every
//     InferenceService is cluster-local, so KServe and Knative publish
//     nothing on their own domain. Models downloaded by KServe's
//     storage-initializer name a ClusterStorageContainer kiln renders
//     (kiln-<namespace>) whose container KServe merges into the
//     initializer, giving it the restricted security context.
//   - TF Serving: a Deployment per version behind one Service, split the
//     same way as Standard mode.
//   - Seldon: one SeldonDeployment whose predictors carry the traffic
//     shares; an exposed host is routed to each predictor's Service with
//     the same weights.
//
// Production environments run at least 2 replicas, spread across zones,
// with a PodDisruptionBudget. Check reports what the operators or the
// environment would refuse: derived names beyond 63 characters, canary
// shares outside 0–100 or not adding up to 100, replica bounds upside
// down, autoscaling metrics the mode does not support, GPUs beyond the
// quota, and two models on the same host and path.
package serving
