using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using KubeCaRotate.Lab.Topology;

namespace KubeCaRotate.Lab.Prober;

/// <summary>DIR/probe.jsonl: one <see cref="ProbeRecord"/> per line, appended by the prober, read by `lab report` and `lab status`.</summary>
public sealed class ProbeLog(string path)
{
    public const string FileName = "probe.jsonl";

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // "a->b" stays readable; the file is never HTML
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public string Path { get; } = path;

    public static ProbeLog Of(LabTopology lab) => new(System.IO.Path.Combine(lab.Dir, FileName));

    public async Task AppendAsync(IEnumerable<ProbeRecord> records, CancellationToken ct)
    {
        var text = new StringBuilder();
        foreach (var r in records) text.Append(JsonSerializer.Serialize(r, JsonOptions)).Append('\n');
        if (text.Length == 0) return;
        await using var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), ct).ConfigureAwait(false);
    }

    /// <summary>Every record in the file, oldest first; a line being written (no newline yet) or not JSON is skipped.</summary>
    public IEnumerable<ProbeRecord> Read()
    {
        if (!File.Exists(Path)) yield break;
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[^1] != '}') continue;
            ProbeRecord? record;
            try
            {
                record = JsonSerializer.Deserialize<ProbeRecord>(line, JsonOptions);
            }
            catch (JsonException)
            {
                continue;
            }
            if (record is not null) yield return record;
        }
    }
}
