using System.Security.Cryptography.X509Certificates;
using System.Text;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Rotation;

/// <summary>
/// The old and new CA of one kind for a rotation, and the staged files that carry the new one to every control-plane
/// node. The new CA is made exactly once per rotation: <see cref="PrepareAsync"/> finds one already staged (by the
/// journal's fingerprint, or, before a journal exists, on any control-plane node) before it ever generates one.
/// </summary>
public sealed record StagedCa(CaKind Ca, CertificateAuthority Old, CertificateAuthority New, X509Certificate2? CrossSigned)
{
    public string NewSha256 => CertificateFacts.Sha256Fingerprint(New.Certificate);

    public string OldSha256 => CertificateFacts.Sha256Fingerprint(Old.Certificate);

    public JournalCa ToJournal() => new(Ca, OldSha256, NewSha256, CrossSigned is null ? null : CertificateFacts.Sha256Fingerprint(CrossSigned));

    /// <summary>The staged files with their modes: the key first (0600), the certificate last, so a complete certificate means a complete pair.</summary>
    public IReadOnlyList<(string Path, byte[] Content, UnixFileMode Mode)> Files(RotationPaths paths)
    {
        var files = new List<(string, byte[], UnixFileMode)> { (paths.StagedKey(Ca), Encoding.ASCII.GetBytes(New.Key.ToPem()), FileModes.Private) };
        if (CrossSigned is not null) files.Add((paths.StagedCrossSigned(Ca), Encoding.ASCII.GetBytes(CrossSigned.ExportCertificatePem() + "\n"), FileModes.Public));
        files.Add((paths.StagedCert(Ca), Encoding.ASCII.GetBytes(New.CertificatePem()), FileModes.Public));
        return files;
    }

    /// <summary>
    /// The new CA for <paramref name="request"/>: the staged pair matching <paramref name="journal"/> when the rotation
    /// is under way; otherwise a complete pair some control-plane node already stages (a run stopped before writing its
    /// journal); otherwise a new one made from the request and checked by <see cref="NewCaCheck"/>. The old CA is read
    /// from the first control-plane node (the certificate matching the key beside ca.crt).
    /// </summary>
    public static async Task<StagedCa> PrepareAsync(
        CaRotationRequest request, RotationMode mode, IReadOnlyList<INodeAccess> controlPlanes, RotationPaths paths,
        JournalCa? journal, CertificateIssuer issuer, CancellationToken ct = default, string? rotationId = null)
    {
        var anchor = controlPlanes[0];
        var old = await ReadActiveAsync(anchor, request.Ca, paths, journal, rotationId, ct).ConfigureAwait(false);
        foreach (var node in controlPlanes)
        {
            var staged = await ReadStagedAsync(node, request.Ca, paths, ct).ConfigureAwait(false);
            if (staged is null) continue;
            var fingerprint = CertificateFacts.Sha256Fingerprint(staged.Value.New.Certificate);
            if (journal is not null && fingerprint != journal.NewSha256) continue;
            // The switch writes the cross-signed copy the journal names after every serving leaf: a node without it cannot give it.
            if (journal?.CrossSignedSha256 is { } journaledCross && (staged.Value.CrossSigned is null || CertificateFacts.Sha256Fingerprint(staged.Value.CrossSigned) != journaledCross)) continue;
            return new StagedCa(request.Ca, old, staged.Value.New, staged.Value.CrossSigned);
        }
        if (journal is not null)
        {
            // After the switch the new pair is the active one; the staged copies go at the end of complete (so from then on
            // the cross-signed copy is gone too: only the switch needs it).
            foreach (var node in controlPlanes)
            {
                var active = await ReadPairAsync(node, request.Ca, paths, journal.NewSha256, ct).ConfigureAwait(false);
                if (active is not null) return new StagedCa(request.Ca, old, active, null);
            }
            throw new RotationException($"No control-plane node stages the new {RotationPaths.Name(request.Ca)} (sha256 {journal.NewSha256[..12]}) that the journal names under {NodePath.GetDirectory(paths.StagedCert(request.Ca))}; restore it from a backup of a control-plane node, or roll back.");
        }

        var now = issuer.Time.GetUtcNow();
        CertificateAuthority created;
        string source;
        switch (mode == RotationMode.Renew ? new NewCaSource.Renew() : request.Source)
        {
            case NewCaSource.Renew:
                created = new CertificateAuthority(issuer.SelfSign(CertificateTemplate.CloneOf(old.Certificate), old.Key, request.CaValidity), old.Key);
                source = $"renewed {RotationPaths.Name(request.Ca)}";
                break;
            case NewCaSource.BringYourOwn own:
                var bundle = PemBundle.ParseNonEmpty(own.CertificatePem, own.CertificateSource);
                created = new CertificateAuthority(bundle.First!, PrivateKey.FromPem(own.KeyPem, own.KeySource));
                source = own.CertificateSource;
                NewCaCheck.Validate(created.Certificate, created.Key, own.CertificateSource, own.KeySource, request.LeafValidity, now);
                break;
            case NewCaSource.Generate generate:
                var profile = KubeadmCatalog.Ca(request.Ca);
                created = issuer.NewCertificateAuthority(profile, generate.Algorithm ?? old.Key.Algorithm, request.CaValidity);
                source = $"generated {profile.Name}";
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(request));
        }
        NewCaCheck.Validate(created.Certificate, created.Key, source, source + " key", request.LeafValidity, now);
        X509Certificate2? cross = null;
        if (request.CrossSign && mode == RotationMode.Rotate)
        {
            var remaining = old.Certificate.NotAfter.ToUniversalTime() - now.UtcDateTime - CertificateIssuer.Backdate;
            var validity = remaining < request.CaValidity ? remaining : request.CaValidity;
            cross = issuer.Sign(CertificateTemplate.CloneOf(created.Certificate), created.Key, old, validity);
        }
        return new StagedCa(request.Ca, old, created, cross);
    }

    /// <summary>The complete staged pair on a node (certificate present and matching the key), or null.</summary>
    public static async Task<(CertificateAuthority New, X509Certificate2? CrossSigned)?> ReadStagedAsync(INodeAccess node, CaKind ca, RotationPaths paths, CancellationToken ct)
    {
        var cert = await node.ReadFileAsync(paths.StagedCert(ca), ct).ConfigureAwait(false);
        var key = await node.ReadFileAsync(paths.StagedKey(ca), ct).ConfigureAwait(false);
        if (cert is null || key is null) return null;
        var bundle = PemBundle.Parse(Encoding.ASCII.GetString(cert), $"{node.Name}:{paths.StagedCert(ca)}");
        var privateKey = PrivateKey.FromPem(Encoding.ASCII.GetString(key), $"{node.Name}:{paths.StagedKey(ca)}");
        if (bundle.First is not { } first || !privateKey.Matches(first)) return null;
        var crossBytes = await node.ReadFileAsync(paths.StagedCrossSigned(ca), ct).ConfigureAwait(false);
        var cross = crossBytes is null ? null : PemBundle.Parse(Encoding.ASCII.GetString(crossBytes), $"{node.Name}:{paths.StagedCrossSigned(ca)}").First;
        return (new CertificateAuthority(first, privateKey), cross);
    }

    /// <summary>
    /// The CA being replaced, read from the node's active files: the certificate of the CA file that matches the key
    /// beside it. On a resumed run the journal's old fingerprint picks that certificate out of the bundle. (Once the
    /// switch phase puts the new key beside ca.crt, the old CA must come from the journal and the backup instead: next slice.)
    /// </summary>
    private static async Task<CertificateAuthority> ReadActiveAsync(INodeAccess node, CaKind ca, RotationPaths paths, JournalCa? journal, string? rotationId, CancellationToken ct)
    {
        var certPath = paths.CaCert(ca);
        var keyPath = paths.CaKey(ca);
        if (journal is not null)
        {
            // Once the switch made the new pair active, the old one is in the rotation's backup.
            var fromFiles = await ReadPairAsync(node, ca, paths, journal.OldSha256, ct).ConfigureAwait(false);
            if (fromFiles is not null) return fromFiles;
            if (rotationId is not null)
            {
                var cert = await node.ReadFileAsync(paths.BackupCopy(rotationId, certPath), ct).ConfigureAwait(false);
                var key = await node.ReadFileAsync(paths.BackupCopy(rotationId, keyPath), ct).ConfigureAwait(false);
                if (cert is not null && key is not null)
                {
                    var bundle = PemBundle.Parse(Encoding.ASCII.GetString(cert), $"{node.Name}:{paths.BackupCopy(rotationId, certPath)}");
                    var privateKey = PrivateKey.FromPem(Encoding.ASCII.GetString(key), $"{node.Name}:{paths.BackupCopy(rotationId, keyPath)}");
                    var old = bundle.Certificates.FirstOrDefault(c => CertificateFacts.Sha256Fingerprint(c) == journal.OldSha256);
                    if (old is not null && privateKey.Matches(old)) return new CertificateAuthority(old, privateKey);
                }
            }
            throw new RotationException($"The old {RotationPaths.Name(ca)} (sha256 {journal.OldSha256[..12]}) that the journal names is neither in {node.Name}:{certPath} nor in the rotation's backup; restore {paths.BackupDir(rotationId ?? "<rotation>")} from another control-plane node.");
        }
        var certBytes = await node.ReadFileAsync(certPath, ct).ConfigureAwait(false)
            ?? throw new RotationException($"{node.Name}:{certPath} is missing; the {KubeadmCatalog.Ca(ca).Description} must be present on every control-plane node before a rotation.");
        var keyBytes = await node.ReadFileAsync(keyPath, ct).ConfigureAwait(false)
            ?? throw new RotationException($"{node.Name}:{keyPath} is missing: the {KubeadmCatalog.Ca(ca).Description} is external (kubeadm's external-CA mode), which this tool cannot rotate; rotate it with the external CA.");
        var active = PemBundle.ParseNonEmpty(Encoding.ASCII.GetString(certBytes), $"{node.Name}:{certPath}");
        var activeKey = PrivateKey.FromPem(Encoding.ASCII.GetString(keyBytes), $"{node.Name}:{keyPath}");
        var matching = active.Certificates.FirstOrDefault(activeKey.Matches)
            ?? throw new RotationException($"{node.Name}:{keyPath} matches no certificate of {certPath}; put the CA's own key beside it before rotating.");
        return new CertificateAuthority(matching, activeKey);
    }

    /// <summary>The certificate of the CA file with <paramref name="sha256"/> and the key beside it, when that key matches it.</summary>
    private static async Task<CertificateAuthority?> ReadPairAsync(INodeAccess node, CaKind ca, RotationPaths paths, string sha256, CancellationToken ct)
    {
        var cert = await node.ReadFileAsync(paths.CaCert(ca), ct).ConfigureAwait(false);
        var key = await node.ReadFileAsync(paths.CaKey(ca), ct).ConfigureAwait(false);
        if (cert is null || key is null) return null;
        var found = PemBundle.Parse(Encoding.ASCII.GetString(cert), $"{node.Name}:{paths.CaCert(ca)}").Certificates.FirstOrDefault(c => CertificateFacts.Sha256Fingerprint(c) == sha256);
        var privateKey = PrivateKey.FromPem(Encoding.ASCII.GetString(key), $"{node.Name}:{paths.CaKey(ca)}");
        return found is not null && privateKey.Matches(found) ? new CertificateAuthority(found, privateKey) : null;
    }
}
