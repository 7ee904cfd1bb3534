using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>The fingerprints of one CA being rotated: what it was and what it becomes (SHA-256 of the DER, upper-case hex).</summary>
public sealed record JournalCa(
    [property: JsonConverter(typeof(JsonStringEnumConverter<CaKind>))] CaKind Ca,
    string OldSha256,
    string NewSha256,
    string? CrossSignedSha256 = null);

/// <summary>A step that finished (applied and verified, or found already done) and when.</summary>
public sealed record JournalStep(string Id, DateTimeOffset At);

/// <summary>
/// The state of one rotation run, kept as JSON on every control-plane node (<see cref="RotationPaths.Journal"/>). It is
/// immutable: every change makes a new value with a higher <see cref="Generation"/>, so among copies that disagree the
/// newest is known. The new CA's fingerprint is what makes a resumed run use the same staged CA.
/// </summary>
public sealed record RotationJournal
{
    public const string ApiVersionValue = "kube-ca-rotate/v1";
    public const string KindValue = "RotationJournal";

    public string ApiVersion { get; init; } = ApiVersionValue;
    public string Kind { get; init; } = KindValue;
    public required string RotationId { get; init; }
    public long Generation { get; init; }
    public RotationPhase Phase { get; init; } = RotationPhase.Idle;
    public RotationMode Mode { get; init; } = RotationMode.Rotate;
    public IReadOnlyList<JournalCa> Cas { get; init; } = [];
    public IReadOnlyList<JournalStep> FinishedSteps { get; init; } = [];
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>A rotation id: UTC start time and 6 random hex digits, e.g. 20250102-030405-a1b2c3 (sorts by time, safe in paths).</summary>
    public static string NewRotationId(DateTimeOffset now) =>
        $"{now.UtcDateTime:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}";

    public bool IsFinished(string stepId) => FinishedSteps.Any(s => s.Id == stepId);

    public JournalCa? For(CaKind ca) => Cas.FirstOrDefault(c => c.Ca == ca);

    public RotationJournal WithStepFinished(string stepId, DateTimeOffset at) =>
        IsFinished(stepId) ? this : this with { FinishedSteps = [.. FinishedSteps, new JournalStep(stepId, at)], Generation = Generation + 1, UpdatedAt = at };

    public RotationJournal WithPhase(RotationPhase phase, DateTimeOffset at) =>
        Phase == phase ? this : this with { Phase = phase, Generation = Generation + 1, UpdatedAt = at };

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        RespectRequiredConstructorParameters = true,
    };

    public byte[] ToJson() => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(this, Options) + "\n");

    /// <summary>Reads a journal; a damaged or foreign file is a <see cref="RotationException"/> naming <paramref name="source"/>.</summary>
    public static RotationJournal Parse(byte[] json, string source)
    {
        RotationJournal? journal;
        try
        {
            journal = JsonSerializer.Deserialize<RotationJournal>(json, Options);
        }
        catch (JsonException e)
        {
            throw new RotationException($"The rotation journal {source} is not valid JSON ({e.Message.TrimEnd('.')}); restore it from another control-plane node's copy.", e);
        }
        if (journal is null || journal.ApiVersion != ApiVersionValue || journal.Kind != KindValue || string.IsNullOrEmpty(journal.RotationId))
            throw new RotationException($"{source} is not a kube-ca-rotate journal (apiVersion {ApiVersionValue}, kind {KindValue}, a rotationId); restore it from another control-plane node's copy.");
        return journal;
    }
}
