// Package serving renders serving entries: KServe InferenceServices
// (serving.kserve.io/v1beta1), TF Serving as a Deployment, Service and
// HorizontalPodAutoscaler, or Seldon Core SeldonDeployments
// (machinelearning.seldon.io/v1), and the routes in front of them, by the
// environment's ingress:
//   - istio (the default): networking.istio.io/v1 Gateway, VirtualService
//     and DestinationRule, security.istio.io/v1 AuthorizationPolicy and a
//     namespace-wide STRICT PeerAuthentication;
//   - gateway-api: gateway.networking.k8s.io/v1 HTTPRoutes on the
//     environment's Gateway (httproute.go builds them, exported for other
//     renderers that route to models), a Service per version for the
//     weighted backendRefs, with Istio in the mesh a GAMMA HTTPRoute for
//     callers in the mesh and the AuthorizationPolicy, and without a mesh
//     a NetworkPolicy for access. Knative-mode KServe is refused there:
//     its requests go through Knative's networking layer.
//
// KServe's deployment modes go by their v0.20 names, Standard and
// Knative; the old names RawDeployment and Serverless render as the new
// ones with a warning.
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
//     initializer, giving it the restricted security context. A model
//     server's CPU is limited at its request: KServe merges the model
//     container into its runtime's, whose CPU limit would otherwise stay.
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
