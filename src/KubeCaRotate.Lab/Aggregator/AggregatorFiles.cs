using KubeCaRotate.Lab.Topology;

namespace KubeCaRotate.Lab.Aggregator;

/// <summary>
/// Where the lab's aggregated API server keeps its files, under DIR/aggregator: its own serving CA and serving pair,
/// the port it listens on (127.0.0.1), and the service-account files the kubelet would mount into its pod
/// (serviceaccount/token, ca.crt, namespace), which it reads once at its start as client-go's in-cluster config does.
/// </summary>
public sealed record AggregatorFiles(string Dir)
{
    public const string Namespace = "kube-system";
    public const string Name = "lab-aggregator";
    public const string Group = "metrics.lab.example";
    public const string Version = "v1beta1";
    public const string ApiServiceName = Version + "." + Group;

    public static AggregatorFiles For(LabTopology lab) => new(Path.Combine(lab.Dir, "aggregator"));

    public string ServingCaCert => Path.Combine(Dir, "serving-ca.crt");
    public string ServingCert => Path.Combine(Dir, "tls.crt");
    public string ServingKey => Path.Combine(Dir, "tls.key");
    public string PortFile => Path.Combine(Dir, "port");
    public string ServiceAccountDir => Path.Combine(Dir, "serviceaccount");
    public string Token => Path.Combine(ServiceAccountDir, "token");
    public string CaCert => Path.Combine(ServiceAccountDir, "ca.crt");
    public string NamespaceFile => Path.Combine(ServiceAccountDir, "namespace");

    /// <summary>The DNS name the API server checks on the serving certificate: SERVICE.NAMESPACE.svc.</summary>
    public static string ServiceDnsName => $"{Name}.{Namespace}.svc";

    public static string PidFile(LabTopology lab) => Path.Combine(lab.RunDir, "aggregator.pid");

    public static string LogFile(LabTopology lab) => Path.Combine(lab.LogDir, "aggregator.log");
}
