using System.Text.Json;
using System.Text.Json.Serialization;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// What a workload pod the kubelet runs is doing, as written to DIR/run/NODE/workloads/NAMESPACE_NAME.json for the
/// prober: which CA bundle and token it loaded at its start (host paths of the LoadedFiles copies, null when it has
/// none), whether its last call to the API server succeeded, and why not.
/// </summary>
public sealed record WorkloadPodState
{
    public required string Namespace { get; init; }
    public required string Name { get; init; }
    public required string Uid { get; init; }
    public required string Node { get; init; }
    public required string ServiceAccount { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    /// <summary>The LoadedFiles component: pod-NAMESPACE-NAME.</summary>
    public required string Component { get; init; }
    /// <summary>Host path of the ca.crt the pod loaded at start (kube-root-ca.crt then).</summary>
    public string? CaFile { get; init; }
    /// <summary>Host path of the token the pod loaded at start (its legacy token Secret, or a bound token from TokenRequest).</summary>
    public string? TokenFile { get; init; }
    /// <summary>The URL it calls (the HA endpoint) and the path.</summary>
    public required string Server { get; init; }
    public bool Ready { get; init; }
    public string? Message { get; init; }
    public DateTimeOffset? LastCallAt { get; init; }
    /// <summary>The port an aggregated API server pod serves on (the node's address), null for other pods.</summary>
    public int? ServingPort { get; init; }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static string FileName(string ns, string name) => $"{ns}_{name}.json";

    public static WorkloadPodState? Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<WorkloadPodState>(File.ReadAllText(path), Json);
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }
}
