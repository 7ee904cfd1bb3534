using System.Text.Json.Serialization;

namespace KubeCaRotate.Lab.Prober;

/// <summary>
/// One attempt on one trust edge, one JSON line of DIR/probe.jsonl:
/// <c>{"time":"…","edge":"admin->cp-1/kube-apiserver","kind":"admin","client":"admin","server":"cp-1/kube-apiserver",
/// "url":"https://127.0.0.11:6443/api","ok":false,"latencyMs":2.1,"status":null,"class":"trust","error":"…"}</c>.
/// </summary>
public sealed record ProbeRecord
{
    [JsonPropertyName("time")] public required DateTimeOffset Time { get; init; }

    [JsonPropertyName("edge")] public required string Edge { get; init; }

    [JsonPropertyName("kind")] public required EdgeKind Kind { get; init; }

    [JsonPropertyName("client")] public required string Client { get; init; }

    [JsonPropertyName("server")] public required string Server { get; init; }

    [JsonPropertyName("url")] public required string Url { get; init; }

    [JsonPropertyName("ok")] public required bool Ok { get; init; }

    [JsonPropertyName("latencyMs")] public required double LatencyMs { get; init; }

    /// <summary>The HTTP status the server answered with, when it answered.</summary>
    [JsonPropertyName("status")] public int? Status { get; init; }

    /// <summary>Set when <see cref="Ok"/> is false.</summary>
    [JsonPropertyName("class")] public FailureClass? Class { get; init; }

    /// <summary>Why the attempt failed, as a sentence naming the server; never a key or token.</summary>
    [JsonPropertyName("error")] public string? Error { get; init; }
}
