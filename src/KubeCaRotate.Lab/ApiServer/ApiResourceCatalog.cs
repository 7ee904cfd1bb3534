namespace KubeCaRotate.Lab.ApiServer;

/// <summary>The resources the stand-in serves: those the rotation tool, the lab and kubectl touch.</summary>
public static class ApiResourceCatalog
{
    private static readonly string[] Common = ["metadata.name", "metadata.namespace"];

    public static readonly IReadOnlyList<ApiResource> All =
    [
        new("", "v1", "namespaces", "namespace", "Namespace", false, ["ns"], ["status"], [.. Common, "status.phase"]),
        new("", "v1", "nodes", "node", "Node", false, ["no"], ["status"], [.. Common, "spec.unschedulable"]),
        new("", "v1", "secrets", "secret", "Secret", true, [], [], [.. Common, "type"]),
        new("", "v1", "configmaps", "configmap", "ConfigMap", true, ["cm"], [], Common),
        new("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, ["sa"], ["token"], Common),
        new("", "v1", "pods", "pod", "Pod", true, ["po"], ["status"], [.. Common, "spec.nodeName", "status.phase", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.podIP", "status.nominatedNodeName"]),
        new("", "v1", "services", "service", "Service", true, ["svc"], ["status"], Common),
        new("", "v1", "endpoints", "endpoints", "Endpoints", true, ["ep"], [], Common),
        new("", "v1", "events", "event", "Event", true, ["ev"], [], [.. Common, "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"]),
        new("apps", "v1", "deployments", "deployment", "Deployment", true, ["deploy"], ["status"], Common),
        new("apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, ["ds"], ["status"], Common),
        new("apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, ["sts"], ["status"], Common),
        new("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, ["rs"], ["status"], [.. Common, "status.replicas"]),
        new("coordination.k8s.io", "v1", "leases", "lease", "Lease", true, [], [], Common),
        new("certificates.k8s.io", "v1", "certificatesigningrequests", "certificatesigningrequest", "CertificateSigningRequest", false, ["csr"], ["approval", "status"], [.. Common, "spec.signerName"]),
        new("apiregistration.k8s.io", "v1", "apiservices", "apiservice", "APIService", false, [], ["status"], Common),
        new("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "validatingwebhookconfiguration", "ValidatingWebhookConfiguration", false, [], [], Common),
        new("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration", "MutatingWebhookConfiguration", false, [], [], Common),
    ];

    public static IEnumerable<string> Groups => All.Where(r => r.Group.Length > 0).Select(r => r.Group).Distinct();

    public static IEnumerable<ApiResource> InGroupVersion(string group, string version) =>
        All.Where(r => r.Group == group && r.Version == version);

    public static ApiResource? Find(string group, string version, string name) =>
        All.FirstOrDefault(r => r.Group == group && r.Version == version && r.Name == name);

    public static ApiResource Namespaces => All[0];
}
