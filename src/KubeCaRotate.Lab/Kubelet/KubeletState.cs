using System.Text.Json;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// DIR/run/NODE/kubelet.json: what the running kubelet (agent) is, for `lab restart-kubelet` and the prober:
/// its pid and start, when it last reported the node Ready, the API server it talks to, the client certificate it
/// uses now (node path of the dated file and serial), and where its API listens.
/// </summary>
public sealed record KubeletState
{
    public required int Pid { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? ReadyAt { get; init; }
    public required string Server { get; init; }
    public required string KubeletApiUrl { get; init; }
    public required string ClientCaFile { get; init; }
    public string? ClientCertificateFile { get; init; }
    public required string ClientCertificateSerial { get; init; }
    public required DateTimeOffset ClientCertificateNotAfter { get; init; }
    public DateTimeOffset? LastRenewalAt { get; init; }
    public string? LastError { get; init; }

    public static string PathFor(string runDir, string node) => Path.Combine(runDir, node, "kubelet.json");

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public void Write(string runDir, string node)
    {
        var path = PathFor(runDir, node);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(this, Json));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    public static KubeletState? Read(string runDir, string node)
    {
        try
        {
            return JsonSerializer.Deserialize<KubeletState>(File.ReadAllText(PathFor(runDir, node)), Json);
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }
}
