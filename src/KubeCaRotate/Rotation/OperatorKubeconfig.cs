using System.Text;
using KubeCaRotate.Layout;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>
/// The operator's own admin kubeconfig (the inventory's kubeconfig, on the machine the tool runs on) follows the
/// rotation so that it keeps working throughout (procedure row 10, "users' own kubeconfigs"): after the trust phase
/// its CA data holds old + new; after the switch its client certificate is re-issued from the new CA with its own
/// key; after complete its CA data holds the new CA alone. Each edit is the same pure function the node kubeconfigs
/// use, so it is idempotent. The file as it was is kept once beside it (&lt;file&gt;.before-&lt;rotation id&gt;, 0600),
/// and rollback puts it back.
/// </summary>
public sealed class OperatorKubeconfig(string path)
{
    private readonly LocalNode _local = new("operator", "/");

    public string Path { get; } = path;

    public string BackupPath(string rotationId) => $"{Path}.before-{rotationId}";

    public async Task FollowAsync(RotationPhase reached, IReadOnlyList<StagedCa> cas, RotationMode mode, CertificateIssuer issuer, string rotationId, bool dryRun, CancellationToken ct)
    {
        if (dryRun || cas.FirstOrDefault(c => c.Ca == CaKind.Cluster) is not { } cluster) return;
        var current = await _local.ReadFileAsync(Path, ct).ConfigureAwait(false);
        if (current is null) return;
        var source = $"the operator's kubeconfig {Path}";
        var next = reached switch
        {
            RotationPhase.Trusted => TrustStoreEdits.KubeconfigCaData(current, TrustStoreEdit.AddAccepted(cluster.New.Certificate), cluster.Old.Certificate, source),
            RotationPhase.Switched when mode == RotationMode.Rotate => Reissue(TrustStoreEdits.KubeconfigCaData(current, TrustStoreEdit.AddAccepted(cluster.New.Certificate), cluster.Old.Certificate, source), cluster, issuer, source),
            RotationPhase.Completed => TrustStoreEdits.KubeconfigCaData(current, TrustStoreEdit.SetOnly(cluster.New.Certificate), cluster.Old.Certificate, source),
            _ => current,
        };
        if (next.AsSpan().SequenceEqual(current)) return;
        if (!await _local.ExistsAsync(BackupPath(rotationId), ct).ConfigureAwait(false))
            await _local.WriteFileAsync(BackupPath(rotationId), current, FileModes.Private, ct).ConfigureAwait(false);
        await _local.WriteFileAsync(Path, next, FileModes.Private, ct).ConfigureAwait(false);
    }

    /// <summary>The backup to restore from when the file differs from it (rollback); null when there is none or nothing differs.</summary>
    public async Task<string?> RestoreNeededAsync(string rotationId, CancellationToken ct)
    {
        if (await _local.ReadFileAsync(BackupPath(rotationId), ct).ConfigureAwait(false) is not { } original) return null;
        var current = await _local.ReadFileAsync(Path, ct).ConfigureAwait(false);
        return current is not null && current.AsSpan().SequenceEqual(original) ? null : BackupPath(rotationId);
    }

    /// <summary>Puts the file back as it was before the rotation (rollback).</summary>
    public async Task RestoreAsync(string rotationId, CancellationToken ct)
    {
        if (await _local.ReadFileAsync(BackupPath(rotationId), ct).ConfigureAwait(false) is { } original)
            await _local.WriteFileAsync(Path, original, FileModes.Private, ct).ConfigureAwait(false);
    }

    private static byte[] Reissue(byte[] current, StagedCa cluster, CertificateIssuer issuer, string source)
    {
        var config = Kubeconfig.Parse(current, source);
        foreach (var user in config.Users)
        {
            if (user.ClientCertificateData is not { } data || user.ClientKeyData is not { } keyData) continue;
            var cert = PemBundle.ParseNonEmpty(Encoding.ASCII.GetString(data), $"{source} (user {user.Name})").First!;
            // Signed by the old CA itself, not merely by a CA of the same name: every kubeadm cluster's CA is CN=kubernetes,
            // and an operator's kubeconfig may hold users of other clusters, which must be left alone.
            if (!Trust.CaCatalog.SignedBy(cert, cluster.Old.Certificate) || PhaseSteps.IssuedBy(cert, cluster.New, issuer.Time.GetUtcNow())) continue;
            var key = PrivateKey.FromPem(Encoding.ASCII.GetString(keyData), $"{source} (user {user.Name})");
            var left = cluster.New.Certificate.NotAfter.ToUniversalTime() - issuer.Time.GetUtcNow().UtcDateTime;
            var validity = left < TimeSpan.FromHours(8760) ? left : TimeSpan.FromHours(8760);
            config.SetClientCertificateData(user.Name, Encoding.ASCII.GetBytes(issuer.Reissue(cert, key, cluster.New, validity).ExportCertificatePem() + "\n"), keyData);
        }
        return config.IsChanged ? config.ToBytes() : current;
    }
}
