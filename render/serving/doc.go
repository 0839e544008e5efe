// Package serving renders serving entries: KServe InferenceServices
// (serving.kserve.io/v1beta1), TF Serving as a Deployment, Service and
// HorizontalPodAutoscaler, or Seldon Core SeldonDeployments
// (machinelearning.seldon.io/v1), and the Istio objects in front of them
// (networking.istio.io/v1 Gateway, VirtualService and DestinationRule,
// security.istio.io/v1 AuthorizationPolicy and a namespace-wide STRICT
// PeerAuthentication).
//
// Who splits a canary depends on the mode, because the operators differ:
//   - Serverless KServe: KServe and Knative own routing. The one
//     InferenceService carries the canary model with canaryTrafficPercent;
//     KServe keeps the rest on the revision last rolled out at 100%. kiln
//     renders no VirtualService for the InferenceService's own host. An
//     exposed host goes through kiln's Gateway to Knative's local gateway
//     with the Host rewritten to the InferenceService's cluster-local
//     host, so KServe's split applies there too.
//   - RawDeployment KServe ignores canaryTrafficPercent: the canary is a
//     second InferenceService, <name>-canary, and a Service in front of
//     both (<name>-serving) is split by kiln's DestinationRule subsets and
//     VirtualServices (one for the exposed host, one for callers in the
//     mesh).
//   - TF Serving: a Deployment per version behind one Service, split the
//     same way.
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
