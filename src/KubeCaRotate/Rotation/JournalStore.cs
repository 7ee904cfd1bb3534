using System.Text;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>How one control-plane node's journal copy compares with the newest.</summary>
public enum JournalCopyState
{
    /// <summary>The node holds the newest journal.</summary>
    Current,
    /// <summary>The node holds an older generation of the same rotation (a run stopped while writing the copies).</summary>
    Stale,
    /// <summary>The node holds no journal.</summary>
    Missing,
    /// <summary>The node's file cannot be read as a journal.</summary>
    Unreadable,
    /// <summary>The node's copy names a staged CA the node does not hold, or another rotation.</summary>
    Inconsistent,
}

public sealed record JournalCopy(string Node, JournalCopyState State, long? Generation, string? Detail);

/// <summary>What reading every copy found: the newest consistent journal (null when there is none) and each node's copy.</summary>
public sealed record JournalReading(RotationJournal? Newest, IReadOnlyList<JournalCopy> Copies)
{
    /// <summary>The copies that differ from the newest, e.g. for a warning "cp-2 holds generation 4 of 7".</summary>
    public IEnumerable<JournalCopy> Disagreeing => Copies.Where(c => c.State != JournalCopyState.Current && (Newest is not null || c.State != JournalCopyState.Missing));
}

/// <summary>
/// The journal on every control-plane node. Writing replaces each node's copy atomically (0600) and fails, after trying
/// every node, naming those it could not write. Reading picks the newest copy that is consistent with the staged CA on
/// its own node, and reports every node whose copy differs.
/// </summary>
public sealed class JournalStore(IReadOnlyList<INodeAccess> controlPlanes, RotationPaths paths)
{
    public async Task<JournalReading> ReadAsync(CancellationToken ct = default)
    {
        var found = new List<(INodeAccess Node, RotationJournal? Journal, JournalCopy Copy)>();
        foreach (var node in controlPlanes)
        {
            var bytes = await node.ReadFileAsync(paths.Journal, ct).ConfigureAwait(false);
            if (bytes is null)
            {
                found.Add((node, null, new JournalCopy(node.Name, JournalCopyState.Missing, null, null)));
                continue;
            }
            RotationJournal journal;
            try
            {
                journal = RotationJournal.Parse(bytes, $"{node.Name}:{paths.Journal}");
            }
            catch (RotationException e)
            {
                found.Add((node, null, new JournalCopy(node.Name, JournalCopyState.Unreadable, null, e.Message)));
                continue;
            }
            var problem = await StagedMismatchAsync(node, journal, ct).ConfigureAwait(false);
            found.Add(problem is null
                ? (node, journal, new JournalCopy(node.Name, JournalCopyState.Current, journal.Generation, null))
                : (node, null, new JournalCopy(node.Name, JournalCopyState.Inconsistent, journal.Generation, problem)));
        }

        var newest = found.Where(f => f.Journal is not null).Select(f => f.Journal!)
            .OrderByDescending(j => j.Generation).ThenByDescending(j => j.UpdatedAt).FirstOrDefault();
        var copies = found.Select(f => f.Journal is null || newest is null ? f.Copy
            : f.Journal.RotationId != newest.RotationId ? f.Copy with { State = JournalCopyState.Inconsistent, Detail = $"{f.Node.Name} holds rotation {f.Journal.RotationId}, the newest journal is rotation {newest.RotationId}" }
            : f.Journal.Generation < newest.Generation ? f.Copy with { State = JournalCopyState.Stale, Detail = $"{f.Node.Name} holds generation {f.Journal.Generation} of {newest.Generation}" }
            : f.Copy).ToList();
        return new JournalReading(newest, copies);
    }

    /// <summary>Writes <paramref name="journal"/> to every control-plane node (0600).</summary>
    public async Task WriteAsync(RotationJournal journal, CancellationToken ct = default)
    {
        var bytes = journal.ToJson();
        var failed = new List<string>();
        Exception? first = null;
        foreach (var node in controlPlanes)
        {
            try
            {
                await node.WriteFileAsync(paths.Journal, bytes, FileModes.Private, ct).ConfigureAwait(false);
            }
            catch (NodeAccessException e)
            {
                failed.Add(node.Name);
                first ??= e;
            }
        }
        if (failed.Count > 0)
            throw new RotationException($"The rotation journal could not be written on {string.Join(", ", failed)} ({first!.Message.TrimEnd('.')}); make the node reachable and run again: the run continues from the newest copy.", first);
    }

    /// <summary>Why the node's copy does not match the staged CA on the node, or null when it does (or nothing is staged there yet).</summary>
    private async Task<string?> StagedMismatchAsync(INodeAccess node, RotationJournal journal, CancellationToken ct)
    {
        foreach (var ca in journal.Cas)
        {
            var staged = await node.ReadFileAsync(paths.StagedCert(ca.Ca), ct).ConfigureAwait(false);
            if (staged is null) continue;
            var bundle = PemBundle.Parse(Encoding.ASCII.GetString(staged), $"{node.Name}:{paths.StagedCert(ca.Ca)}");
            var fingerprint = bundle.First is { } c ? CertificateFacts.Sha256Fingerprint(c) : "";
            if (fingerprint != ca.NewSha256)
                return $"{node.Name} stages a {RotationPaths.Name(ca.Ca)} with sha256 {fingerprint[..Math.Min(12, fingerprint.Length)]}, its journal names {ca.NewSha256[..12]}";
        }
        return null;
    }
}
