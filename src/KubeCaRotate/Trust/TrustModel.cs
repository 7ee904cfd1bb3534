using System.Security.Cryptography.X509Certificates;
using KubeCaRotate.Cluster;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Trust;

/// <summary>
/// The trust graph of a kubeadm cluster: every connection as an edge, each side verified with real X.509 chain
/// building, twice: as loaded (what each component uses now: files it reads only at start are as they were at its
/// start) and as on disk (what it would use after a restart). Pure: evaluation does no I/O, so the rotation engine can
/// ask before every step what a change would break.
/// </summary>
public sealed class TrustModel
{
    private readonly KubeadmPaths _paths;
    private readonly CertificateCache _cache = new();
    private readonly TrustBundleVerifier _verifier = new();

    public TrustModel(KubeadmPaths? paths = null) => _paths = paths ?? KubeadmPaths.Default;

    /// <summary>Every edge of the snapshot at <paramref name="at"/> (default: when the snapshot was taken).</summary>
    public TrustReport Evaluate(ClusterSnapshot snapshot, DateTimeOffset? at = null) =>
        Evaluate(TrustWorld.From(snapshot, at ?? snapshot.TakenAt));

    /// <summary>
    /// What-if: the edges after applying <paramref name="changes"/> in order (file writes, object writes, restarts, as
    /// they would happen at <paramref name="at"/>), and the edges whose state they make worse, with the reasons.
    /// </summary>
    public WhatIfResult Evaluate(ClusterSnapshot snapshot, IEnumerable<ProposedChange> changes, DateTimeOffset? at = null)
    {
        var world = TrustWorld.From(snapshot, at ?? snapshot.TakenAt);
        var before = Evaluate(world);
        var afterReport = Evaluate(Applied(world.Clone(), changes));
        var beforeById = before.Edges.ToDictionary(e => e.Id, StringComparer.Ordinal);
        var worse = afterReport.Edges.Where(e => beforeById.GetValueOrDefault(e.Id) is not { } b ? e.State != EdgeState.Healthy : e.State > b.State).ToList();
        return new WhatIfResult(before, afterReport, worse);
    }

    /// <summary>
    /// Only the edges after <paramref name="changes"/>: what a caller that keeps the state before (the rotation's gate,
    /// once per step) needs, at half the cost of <see cref="Evaluate(ClusterSnapshot, IEnumerable{ProposedChange}, DateTimeOffset?)"/>.
    /// </summary>
    public TrustReport EvaluateAfter(ClusterSnapshot snapshot, IEnumerable<ProposedChange> changes, DateTimeOffset? at = null) =>
        Evaluate(Applied(TrustWorld.From(snapshot, at ?? snapshot.TakenAt), changes));

    private TrustWorld Applied(TrustWorld world, IEnumerable<ProposedChange> changes)
    {
        foreach (var change in changes) world.Apply(change, _paths.ManifestsDir);
        return world;
    }

    private TrustReport Evaluate(TrustWorld world)
    {
        var catalog = new CaCatalog();
        foreach (var node in world.Nodes.Values)
            foreach (var (path, f) in node.Files)
                if (f.Content is { } c) AddCertificates(catalog, path, c);
        foreach (var o in world.Objects.Values)
            if (o.Pem is { } pem) foreach (var cert in _cache.Certificates(pem)) catalog.Add(cert);
        if (world.OperatorKubeconfig is { } op) AddCertificates(catalog, op.Path, op.Content);

        var builder = new EdgeBuilder(world, _paths, _cache);
        var loaded = builder.Build(new WorldView(world, loaded: true));
        var disk = builder.Build(new WorldView(world, loaded: false)).ToDictionary(d => d.Id);
        var edges = new List<TrustEdge>(loaded.Count);
        foreach (var draft in loaded)
        {
            var (loadedReasons, unknown, notes) = Run(draft, catalog, world.At);
            var (diskReasons, _, _) = disk.TryGetValue(draft.Id, out var d) ? Run(d, catalog, world.At) : ([], [], []);
            notes.AddRange(draft.Notes);
            EdgeState state;
            var reasons = new List<string>();
            if (StoppedKubelet(world, draft) is { } stopped)
            {
                // Nothing of a stopped kubelet is loaded: it serves nothing and connects to nothing, and at its next
                // start it reads the files on disk.
                state = EdgeState.Broken;
                var (node, activeState) = stopped;
                reasons.Add($"Kubelet on node {node} is not running (systemd reports its unit {activeState}), so this connection is down; start it (systemctl start kubelet).");
                if (diskReasons.Count == 0) reasons.Add("The files on disk are right: when the kubelet starts this edge works.");
                reasons.AddRange(diskReasons.Select(r => "When it starts, with the files on disk: " + r));
            }
            else if (loadedReasons.Count > 0)
            {
                state = EdgeState.Broken;
                reasons.AddRange(loadedReasons);
                if (d is not null && diskReasons.Count == 0)
                    reasons.Add("The files on disk are right: restarting the component that still uses what it loaded at its start fixes this edge.");
            }
            else if (unknown.Count > 0)
            {
                state = EdgeState.AtRisk;
                reasons.AddRange(unknown);
                if (diskReasons.Count == 0) reasons.Add("The files on disk are right: after that restart this edge works.");
                reasons.AddRange(diskReasons.Select(r => "With the files on disk: " + r));
            }
            else if (diskReasons.Count > 0)
            {
                state = EdgeState.AtRisk;
                reasons.AddRange(diskReasons.Select(r => "After a restart, with the files on disk: " + r));
            }
            else
            {
                state = EdgeState.Healthy;
            }
            var (clientEnd, serverEnd) = Ends(d ?? draft, catalog);
            edges.Add(new TrustEdge(draft.Id, draft.Kind, draft.Client, draft.Server, state, reasons.Distinct().ToList(), notes.Distinct().ToList(), clientEnd, serverEnd));
        }
        var problems = world.Problems.Concat(builder.Problems).Distinct().ToList();
        return new TrustReport(world.At, edges, problems, catalog.All);
    }

    /// <summary>The node and systemd state of a stopped kubelet at either end of the edge, or null.</summary>
    private static (string Node, string ActiveState)? StoppedKubelet(TrustWorld world, EdgeDraft draft)
    {
        foreach (var end in new[] { draft.Client, draft.Server })
        {
            if (!end.EndsWith("/" + ComponentReloads.Kubelet, StringComparison.Ordinal)) continue;
            var node = end[..^(ComponentReloads.Kubelet.Length + 1)];
            if (world.StoppedKubelets.TryGetValue(node, out var state)) return (node, state);
        }
        return null;
    }

    private void AddCertificates(CaCatalog catalog, string path, byte[] content)
    {
        if (path.EndsWith(".conf", StringComparison.Ordinal) || path.EndsWith(".kubeconfig", StringComparison.Ordinal) || path.Contains("/cni/", StringComparison.Ordinal))
        {
            if (_cache.Kubeconfig(content, path).Config is { } k)
                foreach (var c in k.Clusters)
                    if (c.CertificateAuthorityData is { } data) foreach (var cert in _cache.Certificates(data)) catalog.Add(cert);
            return;
        }
        foreach (var cert in _cache.Certificates(content)) catalog.Add(cert);
    }

    private (List<string> Reasons, List<string> Unknown, List<string> Notes) Run(EdgeDraft draft, CaCatalog catalog, DateTimeOffset at)
    {
        var reasons = new List<string>();
        var unknown = new List<string>();
        var notes = new List<string>();
        foreach (var check in draft.Checks)
        {
            if (check.Trust.Note is { } n1) notes.Add(n1);
            if (check.Presented.Note is { } n2) notes.Add(n2);
            if (check.NotChecked is not null)
            {
                notes.Add($"{check.Verifier} → {check.Presenter}: not verified: {check.NotChecked}.");
                continue;
            }
            if (check.Trust.Unknown is { } u1 || check.Presented.Unknown is { } u2)
            {
                unknown.Add(Sentence(check.Trust.Unknown ?? check.Presented.Unknown!));
                continue;
            }
            if (check.Trust.Content is null)
            {
                reasons.Add($"{Capital(check.Verifier)} cannot verify {check.Presenter}: {check.Trust.Where} does not exist.");
                continue;
            }
            if (check.Presented.Content is null)
            {
                reasons.Add($"{Capital(check.Presenter)} has no certificate to present to {check.Verifier}: {check.Presented.Where} does not exist.");
                continue;
            }
            var bundle = _cache.Certificates(check.Trust.Content);
            var presented = _cache.Certificates(check.Presented.Content);
            var verdict = _verifier.Verify(presented, bundle, at, check.UsageOid, check.Host);
            if (verdict.Ok) continue;
            var verb = check.IsServerCheck ? "serves" : "presents";
            reasons.Add(verdict.Failure switch
            {
                ChainFailure.NothingTrusted => $"{Capital(check.Verifier)} trusts no certificate: {check.Trust.Where} holds none.",
                ChainFailure.NothingPresented => $"{Capital(check.Presenter)} {verb} no certificate: {check.Presented.Where} holds none.",
                ChainFailure.UntrustedIssuer =>
                    $"{Capital(check.Verifier)} trusts only {Names(bundle, catalog)} ({check.Trust.Where}); {check.Presenter} {verb} a certificate from {catalog.IssuerName(presented[0])} ({check.Presented.Where}).",
                _ => $"{Capital(check.Presenter)} {verdict.Detail} ({check.Presented.Where}), so {check.Verifier} rejects it.",
            });
        }
        return (reasons, unknown, notes);
    }

    private (EdgeEnd Client, EdgeEnd Server) Ends(EdgeDraft draft, CaCatalog catalog)
    {
        var serverCheck = draft.Checks.FirstOrDefault(c => c.IsServerCheck);
        var clientCheck = draft.Checks.FirstOrDefault(c => !c.IsServerCheck);
        EdgeEnd End(string description, Material? presents, Material? trusts)
        {
            var leaf = presents?.Content is { } p ? _cache.Certificates(p).FirstOrDefault() : null;
            var bundle = trusts?.Content is { } t ? _cache.Certificates(t) : [];
            return new EdgeEnd(description,
                leaf is null ? null : $"CN={CertificateFacts.CommonName(leaf)}, expires {Describe.Time(new DateTimeOffset(leaf.NotAfter.ToUniversalTime()))}",
                leaf is null ? null : catalog.IssuerOf(leaf)?.Name,
                presents?.Where,
                bundle.Select(catalog.Name).ToList(),
                trusts?.Where);
        }
        return (End(draft.ClientDescription, clientCheck?.Presented, serverCheck?.Trust), End(draft.ServerDescription, serverCheck?.Presented, clientCheck?.Trust));
    }

    private static string Names(IReadOnlyList<X509Certificate2> bundle, CaCatalog catalog) =>
        bundle.Count == 1 ? "CA " + catalog.Name(bundle[0]) : "CAs " + string.Join(", ", bundle.Select(catalog.Name));

    private static string Capital(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static string Sentence(string s) => Capital(s).TrimEnd('.') + ".";
}
