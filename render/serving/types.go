package serving

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// API versions kiln emits: the storage versions of the CRDs kiln is
// validated against (KServe v0.20, Istio 1.32, Seldon Core v1.17).
const (
	KServeAPIVersion = "serving.kserve.io/v1beta1"
	// KServeAlphaAPIVersion serves ClusterStorageContainer.
	KServeAlphaAPIVersion = "serving.kserve.io/v1alpha1"
	NetworkingIstio       = "networking.istio.io/v1"
	SecurityIstio         = "security.istio.io/v1"
	SeldonAPIVersion      = "machinelearning.seldon.io/v1"
	kserveDefaultModel    = "kserve-container"
)

// InferenceService is serving.kserve.io/v1beta1 InferenceService.
type InferenceService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              InferenceServiceSpec `json:"spec"`
}

// InferenceServiceSpec holds the components kiln renders.
type InferenceServiceSpec struct {
	Predictor   Predictor        `json:"predictor"`
	Transformer *KServeComponent `json:"transformer,omitempty"`
}

// KServeComponent is a KServe component: pod fields inline, plus the scaling
// and rollout fields of KServe's ComponentExtensionSpec.
type KServeComponent struct {
	MinReplicas          *int32            `json:"minReplicas,omitempty"`
	MaxReplicas          int32             `json:"maxReplicas,omitempty"`
	ScaleMetric          string            `json:"scaleMetric,omitempty"`
	ScaleTarget          *int32            `json:"scaleTarget,omitempty"`
	CanaryTrafficPercent *int64            `json:"canaryTrafficPercent,omitempty"`
	Labels               map[string]string `json:"labels,omitempty"`
	Annotations          map[string]string `json:"annotations,omitempty"`

	ServiceAccountName           string                            `json:"serviceAccountName,omitempty"`
	AutomountServiceAccountToken *bool                             `json:"automountServiceAccountToken,omitempty"`
	SecurityContext              *corev1.PodSecurityContext        `json:"securityContext,omitempty"`
	NodeSelector                 map[string]string                 `json:"nodeSelector,omitempty"`
	Tolerations                  []corev1.Toleration               `json:"tolerations,omitempty"`
	TopologySpreadConstraints    []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
	Containers                   []corev1.Container                `json:"containers,omitempty"`
	Volumes                      []corev1.Volume                   `json:"volumes,omitempty"`
}

// Predictor is the component that serves the model.
type Predictor struct {
	KServeComponent `json:",inline"`
	Model           *ModelSpec `json:"model,omitempty"`
	// StorageContainerName names the ClusterStorageContainer whose
	// container KServe merges into the storage-initializer it injects.
	StorageContainerName string `json:"storageContainerName,omitempty"`
}

// ClusterStorageContainer is serving.kserve.io/v1alpha1
// ClusterStorageContainer: a container KServe merges (strategic merge
// patch) into the storage-initializer it injects for the URIs it supports.
type ClusterStorageContainer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              StorageContainerSpec `json:"spec"`
}

// StorageContainerSpec is the container and the URIs it serves.
type StorageContainerSpec struct {
	Container           corev1.Container     `json:"container"`
	SupportedURIFormats []SupportedURIFormat `json:"supportedUriFormats"`
	WorkloadType        string               `json:"workloadType,omitempty"`
}

// SupportedURIFormat matches storage URIs by prefix.
type SupportedURIFormat struct {
	Prefix string `json:"prefix,omitempty"`
}

// ModelSpec is a model KServe serves with a runtime chosen by its format.
// The container fields kiln sets are inline, as in KServe's type.
type ModelSpec struct {
	ModelFormat     ModelFormat                  `json:"modelFormat"`
	RuntimeVersion  string                       `json:"runtimeVersion,omitempty"`
	ProtocolVersion string                       `json:"protocolVersion,omitempty"`
	StorageURI      string                       `json:"storageUri"`
	Resources       *corev1.ResourceRequirements `json:"resources,omitempty"`
	SecurityContext *corev1.SecurityContext      `json:"securityContext,omitempty"`
	VolumeMounts    []corev1.VolumeMount         `json:"volumeMounts,omitempty"`
}

// ModelFormat names the format (sklearn, pytorch, …).
type ModelFormat struct {
	Name string `json:"name"`
}

// Gateway is networking.istio.io/v1 Gateway.
type Gateway struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              GatewaySpec `json:"spec"`
}

// GatewaySpec selects ingress gateway pods and the servers they open.
type GatewaySpec struct {
	Selector map[string]string `json:"selector"`
	Servers  []GatewayServer   `json:"servers"`
}

// GatewayServer is one port of a gateway.
type GatewayServer struct {
	Port  GatewayPort `json:"port"`
	Hosts []string    `json:"hosts"`
	TLS   *ServerTLS  `json:"tls,omitempty"`
}

// GatewayPort is a port a gateway listens on.
type GatewayPort struct {
	Number   uint32 `json:"number"`
	Name     string `json:"name"`
	Protocol string `json:"protocol"`
}

// ServerTLS is a gateway server's TLS settings.
type ServerTLS struct {
	HTTPSRedirect  bool   `json:"httpsRedirect,omitempty"`
	Mode           string `json:"mode,omitempty"`
	CredentialName string `json:"credentialName,omitempty"`
}

// VirtualService is networking.istio.io/v1 VirtualService.
type VirtualService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              VirtualServiceSpec `json:"spec"`
}

// VirtualServiceSpec routes requests for hosts arriving through gateways.
type VirtualServiceSpec struct {
	Hosts    []string              `json:"hosts"`
	Gateways []string              `json:"gateways,omitempty"`
	HTTP     []VirtualServiceRoute `json:"http"`
}

// VirtualServiceRoute is one HTTP route of a VirtualService (Istio's
// HTTPRoute).
type VirtualServiceRoute struct {
	Name    string                 `json:"name"`
	Match   []HTTPMatchRequest     `json:"match,omitempty"`
	Rewrite *HTTPRewrite           `json:"rewrite,omitempty"`
	Route   []HTTPRouteDestination `json:"route"`
	Timeout string                 `json:"timeout,omitempty"`
	Retries *HTTPRetry             `json:"retries,omitempty"`
}

// HTTPMatchRequest matches a request by path prefix and headers.
type HTTPMatchRequest struct {
	URI     *StringMatch           `json:"uri,omitempty"`
	Headers map[string]StringMatch `json:"headers,omitempty"`
}

// StringMatch matches a string exactly or by prefix.
type StringMatch struct {
	Exact  string `json:"exact,omitempty"`
	Prefix string `json:"prefix,omitempty"`
}

// HTTPRewrite rewrites the path prefix and the Host (authority) header.
type HTTPRewrite struct {
	URI       string `json:"uri,omitempty"`
	Authority string `json:"authority,omitempty"`
}

// HTTPRouteDestination is a weighted destination.
type HTTPRouteDestination struct {
	Destination Destination `json:"destination"`
	Weight      int32       `json:"weight,omitempty"`
	// Headers set on requests to this destination; Istio turns a Host
	// set here into a host rewrite for this destination alone, so two
	// weighted destinations behind one gateway reach different hosts.
	Headers *Headers `json:"headers,omitempty"`
}

// Headers are header operations on requests.
type Headers struct {
	Request *HeaderOperations `json:"request,omitempty"`
}

// HeaderOperations sets headers.
type HeaderOperations struct {
	Set map[string]string `json:"set,omitempty"`
}

// Destination is a service, optionally a subset of it, and a port.
type Destination struct {
	Host   string        `json:"host"`
	Subset string        `json:"subset,omitempty"`
	Port   *PortSelector `json:"port,omitempty"`
}

// PortSelector selects a service port by number.
type PortSelector struct {
	Number uint32 `json:"number"`
}

// HTTPRetry retries failed requests.
type HTTPRetry struct {
	Attempts      int32  `json:"attempts"`
	PerTryTimeout string `json:"perTryTimeout,omitempty"`
	RetryOn       string `json:"retryOn,omitempty"`
}

// DestinationRule is networking.istio.io/v1 DestinationRule.
type DestinationRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              DestinationRuleSpec `json:"spec"`
}

// DestinationRuleSpec names subsets of a service and the traffic policy
// towards it.
type DestinationRuleSpec struct {
	Host          string         `json:"host"`
	TrafficPolicy *TrafficPolicy `json:"trafficPolicy,omitempty"`
	Subsets       []Subset       `json:"subsets,omitempty"`
}

// TrafficPolicy bounds connections and ejects failing endpoints.
type TrafficPolicy struct {
	ConnectionPool   *ConnectionPool   `json:"connectionPool,omitempty"`
	OutlierDetection *OutlierDetection `json:"outlierDetection,omitempty"`
}

// ConnectionPool limits connections to each endpoint.
type ConnectionPool struct {
	TCP  *TCPSettings  `json:"tcp,omitempty"`
	HTTP *HTTPSettings `json:"http,omitempty"`
}

// TCPSettings limits TCP connections.
type TCPSettings struct {
	MaxConnections int32 `json:"maxConnections,omitempty"`
}

// HTTPSettings limits HTTP requests.
type HTTPSettings struct {
	HTTP1MaxPendingRequests int32 `json:"http1MaxPendingRequests,omitempty"`
	HTTP2MaxRequests        int32 `json:"http2MaxRequests,omitempty"`
}

// OutlierDetection ejects endpoints that keep failing.
type OutlierDetection struct {
	Consecutive5xxErrors *uint32 `json:"consecutive5xxErrors,omitempty"`
	Interval             string  `json:"interval,omitempty"`
	BaseEjectionTime     string  `json:"baseEjectionTime,omitempty"`
	MaxEjectionPercent   int32   `json:"maxEjectionPercent,omitempty"`
}

// Subset is a named group of a service's endpoints, by pod labels.
type Subset struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
}

// AuthorizationPolicy is security.istio.io/v1 AuthorizationPolicy.
type AuthorizationPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              AuthorizationPolicySpec `json:"spec"`
}

// AuthorizationPolicySpec allows the listed sources to call the selected
// workloads.
type AuthorizationPolicySpec struct {
	Selector *WorkloadSelector `json:"selector,omitempty"`
	Action   string            `json:"action"`
	Rules    []Rule            `json:"rules,omitempty"`
}

// WorkloadSelector selects pods by labels.
type WorkloadSelector struct {
	MatchLabels map[string]string `json:"matchLabels"`
}

// Rule matches requests by their source.
type Rule struct {
	From []RuleFrom `json:"from"`
}

// RuleFrom is one allowed source.
type RuleFrom struct {
	Source Source `json:"source"`
}

// Source is a set of peer identities or namespaces (mTLS required).
type Source struct {
	Principals []string `json:"principals,omitempty"`
	Namespaces []string `json:"namespaces,omitempty"`
}

// PeerAuthentication is security.istio.io/v1 PeerAuthentication.
type PeerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              PeerAuthenticationSpec `json:"spec"`
}

// PeerAuthenticationSpec sets the mutual TLS mode.
type PeerAuthenticationSpec struct {
	MTLS MutualTLS `json:"mtls"`
}

// MutualTLS is the mTLS mode: STRICT accepts mTLS traffic only.
type MutualTLS struct {
	Mode string `json:"mode"`
}

// SeldonDeployment is machinelearning.seldon.io/v1 SeldonDeployment.
type SeldonDeployment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              SeldonDeploymentSpec `json:"spec"`
}

// SeldonDeploymentSpec is the protocol and the predictors traffic is
// split between.
type SeldonDeploymentSpec struct {
	Protocol   string            `json:"protocol,omitempty"`
	Predictors []SeldonPredictor `json:"predictors"`
}

// SeldonPredictor is one version of the model with its share of traffic.
type SeldonPredictor struct {
	Name           string                `json:"name"`
	Graph          SeldonGraph           `json:"graph"`
	ComponentSpecs []SeldonComponentSpec `json:"componentSpecs,omitempty"`
	Replicas       *int32                `json:"replicas,omitempty"`
	Traffic        int32                 `json:"traffic"`
	Labels         map[string]string     `json:"labels,omitempty"`
}

// SeldonGraph is the inference graph: a single model node.
type SeldonGraph struct {
	Name               string        `json:"name"`
	Type               string        `json:"type,omitempty"`
	Implementation     string        `json:"implementation,omitempty"`
	ModelURI           string        `json:"modelUri,omitempty"`
	EnvSecretRefName   string        `json:"envSecretRefName,omitempty"`
	ServiceAccountName string        `json:"serviceAccountName,omitempty"`
	Children           []SeldonGraph `json:"children,omitempty"`
}

// SeldonComponentSpec is the pod template of a predictor's models, with
// its autoscaler and disruption budget.
type SeldonComponentSpec struct {
	Metadata *SeldonMeta    `json:"metadata,omitempty"`
	Spec     corev1.PodSpec `json:"spec"`
	HPASpec  *SeldonHPASpec `json:"hpaSpec,omitempty"`
	PDBSpec  *SeldonPDBSpec `json:"pdbSpec,omitempty"`
	Replicas *int32         `json:"replicas,omitempty"`
}

// SeldonMeta is the pod metadata Seldon copies onto its pods.
type SeldonMeta struct {
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// SeldonHPASpec is the HorizontalPodAutoscaler Seldon creates.
type SeldonHPASpec struct {
	MinReplicas *int32         `json:"minReplicas,omitempty"`
	MaxReplicas int32          `json:"maxReplicas"`
	Metrics     []SeldonMetric `json:"metrics,omitempty"`
}

// SeldonMetric is an autoscaling/v2beta1 metric, the form Seldon Core v1
// takes: a resource at a target utilization of its request.
type SeldonMetric struct {
	Type     string               `json:"type"`
	Resource SeldonResourceMetric `json:"resource"`
}

// SeldonResourceMetric is a CPU or memory utilization target.
type SeldonResourceMetric struct {
	Name                     string `json:"name"`
	TargetAverageUtilization *int32 `json:"targetAverageUtilization,omitempty"`
}

// SeldonPDBSpec is the PodDisruptionBudget Seldon creates.
type SeldonPDBSpec struct {
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
}
