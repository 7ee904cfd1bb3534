namespace KubeCaRotate.Lab.Aggregator;

/// <summary>
/// The names of the lab's aggregated API server add-on: its group and version, the APIService, the Deployment, Service
/// and ServiceAccount kube-system/lab-aggregator, the Secret with its serving pair, and the image by which the kubelet
/// stand-in recognises its pods.
/// </summary>
public static class AggregatorNames
{
    public const string Namespace = "kube-system";
    public const string Name = "lab-aggregator";
    public const string Group = "metrics.lab.example";
    public const string Version = "v1beta1";
    public const string ApiServiceName = Version + "." + Group;
    public const string Image = "registry.example/lab-aggregator:1";
    public const string ServingSecret = Name + "-serving";

    /// <summary>Where the pod mounts its serving Secret (tls.crt, tls.key).</summary>
    public const string ServingCertDir = "/var/run/serving-cert";

    /// <summary>Where the lab records the extension-apiserver-authentication ConfigMap the pod read at its start.</summary>
    public const string AuthenticationConfigPath = "/var/run/lab-aggregator/extension-apiserver-authentication.json";

    /// <summary>The DNS name the API server checks on the serving certificate: SERVICE.NAMESPACE.svc.</summary>
    public static string ServiceDnsName => $"{Name}.{Namespace}.svc";

    /// <summary>True for the image of the lab's aggregated API server, whatever its tag.</summary>
    public static bool IsImage(string? image) => image is not null && image.Split(':')[0] == Image.Split(':')[0];
}
