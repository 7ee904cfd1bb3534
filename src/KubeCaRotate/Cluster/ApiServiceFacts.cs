namespace KubeCaRotate.Cluster;

/// <summary>An APIService served by an aggregated API server behind a Service (local APIServices have no service).</summary>
public sealed record ApiServiceFacts(string Name, string? ServiceNamespace, string? ServiceName, bool InsecureSkipTlsVerify, bool HasCaBundle);
