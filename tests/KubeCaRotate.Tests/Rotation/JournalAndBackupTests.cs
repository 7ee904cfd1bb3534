using System.Security.Cryptography.X509Certificates;
using System.Text;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;
using KubeCaRotate.Tests.Nodes;

namespace KubeCaRotate.Tests.Rotation;

public class JournalAndBackupTests
{
    private static readonly RotationPaths Paths = RotationPaths.Default;

    private static RotationJournal Journal(long generation) => new()
    {
        RotationId = "20250101-000000-abcdef", Generation = generation, Phase = RotationPhase.Trusting,
        Cas = [new JournalCa(CaKind.Cluster, new string('A', 64), new string('B', 64))],
        StartedAt = DateTimeOffset.UnixEpoch, UpdatedAt = DateTimeOffset.UnixEpoch.AddSeconds(generation),
    };

    [Fact]
    public async Task The_newest_copy_wins_and_stale_missing_and_damaged_copies_are_named()
    {
        using var r1 = new TemporaryNodeRoot();
        using var r2 = new TemporaryNodeRoot();
        using var r3 = new TemporaryNodeRoot();
        using var r4 = new TemporaryNodeRoot();
        var nodes = new INodeAccess[] { new LocalNode("cp-1", r1.Path), new LocalNode("cp-2", r2.Path), new LocalNode("cp-3", r3.Path), new LocalNode("cp-4", r4.Path) };
        var store = new JournalStore(nodes, Paths);
        Assert.Null((await store.ReadAsync()).Newest);

        await store.WriteAsync(Journal(3));
        await new JournalStore([nodes[0]], Paths).WriteAsync(Journal(3).WithStepFinished("trust/ca/stage/cp-1", DateTimeOffset.UnixEpoch.AddDays(1)));
        await nodes[2].WriteFileAsync(Paths.Journal, "{ not json"u8.ToArray(), FileModes.Private);
        await nodes[3].DeleteFileAsync(Paths.Journal);

        var reading = await store.ReadAsync();
        Assert.Equal(4, reading.Newest!.Generation);
        Assert.True(reading.Newest.IsFinished("trust/ca/stage/cp-1"));
        Assert.Equal(
            [JournalCopyState.Current, JournalCopyState.Stale, JournalCopyState.Unreadable, JournalCopyState.Missing],
            reading.Copies.Select(c => c.State));
        Assert.Contains("cp-2 holds generation 3 of 4", reading.Copies[1].Detail);
        Assert.Equal(3, reading.Disagreeing.Count());
        Assert.Equal(FileModes.Private, File.GetUnixFileMode(r1.Host(Paths.Journal)));
        // JSON round trip keeps every field, and phases are written as in DESIGN.md.
        var json = Encoding.UTF8.GetString(Journal(3).WithPhase(RotationPhase.RolledBack, DateTimeOffset.UnixEpoch).ToJson());
        Assert.Contains("\"phase\": \"rolled-back\"", json);
        var full = Journal(3).WithStepFinished("a", DateTimeOffset.UnixEpoch.AddHours(1));
        Assert.Equal(full.ToJson(), RotationJournal.Parse(full.ToJson(), "x").ToJson());
        Assert.Equal(new string('B', 64), RotationJournal.Parse(full.ToJson(), "x").For(CaKind.Cluster)!.NewSha256);
    }

    [Fact]
    public async Task A_copy_naming_a_staged_ca_its_node_does_not_hold_is_inconsistent_and_never_chosen()
    {
        using var r1 = new TemporaryNodeRoot();
        using var r2 = new TemporaryNodeRoot();
        var nodes = new INodeAccess[] { new LocalNode("cp-1", r1.Path), new LocalNode("cp-2", r2.Path) };
        var ca = CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(10));
        await nodes[1].WriteFileAsync(Paths.StagedCert(CaKind.Cluster), Encoding.ASCII.GetBytes(ca.CertificatePem()), FileModes.Public);
        await new JournalStore([nodes[0]], Paths).WriteAsync(Journal(2));
        await new JournalStore([nodes[1]], Paths).WriteAsync(Journal(9));
        var reading = await new JournalStore(nodes, Paths).ReadAsync();
        Assert.Equal(2, reading.Newest!.Generation);
        Assert.Equal(JournalCopyState.Inconsistent, reading.Copies[1].State);
        Assert.Contains("journal names", reading.Copies[1].Detail);
    }

    [Fact]
    public async Task Backups_keep_the_first_original_restore_byte_for_byte_with_mode_and_remove_files_that_were_absent()
    {
        using var root = new TemporaryNodeRoot();
        var node = new LocalNode("cp-1", root.Path);
        var backup = new FileBackup(node, Paths, "r1", TimeProvider.System);
        var key = "-----BEGIN EC PRIVATE KEY-----\nsecret\n-----END EC PRIVATE KEY-----\n"u8.ToArray();
        await node.WriteFileAsync("/etc/kubernetes/pki/ca.key", key, FileModes.Private);
        await node.WriteFileAsync("/etc/kubernetes/pki/ca.crt", "original"u8.ToArray(), FileModes.Public);

        Assert.True(await backup.BackupAsync("/etc/kubernetes/pki/ca.crt"));
        Assert.True(await backup.BackupAsync("/etc/kubernetes/pki/ca.key"));
        Assert.True(await backup.BackupAsync("/etc/kubernetes/pki/new.crt"));
        await node.WriteFileAsync("/etc/kubernetes/pki/ca.crt", "changed"u8.ToArray(), FileModes.Private);
        Assert.False(await backup.BackupAsync("/etc/kubernetes/pki/ca.crt")); // the first original wins
        await node.WriteFileAsync("/etc/kubernetes/pki/new.crt", "new"u8.ToArray(), FileModes.Public);
        await node.DeleteFileAsync("/etc/kubernetes/pki/ca.key");

        Assert.Equal(FileModes.Private, File.GetUnixFileMode(root.Host(Paths.BackupCopy("r1", "/etc/kubernetes/pki/ca.key"))));
        Assert.Equal(["/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/pki/ca.key", "/etc/kubernetes/pki/new.crt"], await backup.BackedUpPathsAsync());
        foreach (var path in await backup.BackedUpPathsAsync()) Assert.True(await backup.RestoreAsync(path));
        Assert.Equal("original"u8.ToArray(), File.ReadAllBytes(root.Host("/etc/kubernetes/pki/ca.crt")));
        Assert.Equal(FileModes.Public, File.GetUnixFileMode(root.Host("/etc/kubernetes/pki/ca.crt")));
        Assert.Equal(key, File.ReadAllBytes(root.Host("/etc/kubernetes/pki/ca.key")));
        Assert.Equal(FileModes.Private, File.GetUnixFileMode(root.Host("/etc/kubernetes/pki/ca.key")));
        Assert.False(File.Exists(root.Host("/etc/kubernetes/pki/new.crt")));

        // A tampered copy is refused and the file left alone.
        await node.WriteFileAsync(Paths.BackupCopy("r1", "/etc/kubernetes/pki/ca.crt"), "tampered"u8.ToArray(), FileModes.Private);
        var e = await Assert.ThrowsAsync<RotationException>(() => backup.RestoreAsync("/etc/kubernetes/pki/ca.crt"));
        Assert.Contains("not the original", e.Message);
    }
}

public class NewCaTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private static readonly CertificateIssuer Issuer = CertificateIssuer.System;

    private static CertificateAuthority Ca(TimeSpan validity) => Issuer.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, validity);

    [Fact]
    public void A_byo_ca_that_is_not_a_ca_has_another_key_or_expires_before_its_leaves_is_refused_in_one_sentence()
    {
        var good = Ca(TimeSpan.FromDays(3650));
        NewCaCheck.Validate(good.Certificate, good.Key, "org-ca.crt", "org-ca.key", TimeSpan.FromDays(365), Now);

        var leafKey = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var leaf = Issuer.Sign(CertificateTemplate.ForLeaf("x", [], [ExtendedKeyUsage.ServerAuth], SubjectAltNames.None), leafKey, good, TimeSpan.FromDays(3000));
        var notCa = Assert.Throws<RotationException>(() => NewCaCheck.Validate(leaf, leafKey, "org-ca.crt", "org-ca.key", TimeSpan.FromDays(365), Now));
        Assert.Contains("org-ca.crt is not a CA certificate", notCa.Message);

        var other = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var mismatch = Assert.Throws<RotationException>(() => NewCaCheck.Validate(good.Certificate, other, "org-ca.crt", "org-ca.key", TimeSpan.FromDays(365), Now));
        Assert.Contains("The key org-ca.key does not belong to the new CA org-ca.crt", mismatch.Message);

        var shortLived = Ca(TimeSpan.FromDays(30));
        var expires = Assert.Throws<RotationException>(() => NewCaCheck.Validate(shortLived.Certificate, shortLived.Key, "org-ca.crt", "org-ca.key", TimeSpan.FromDays(365), Now));
        Assert.Contains("expires on", expires.Message);
        Assert.Contains("before the leaves it will sign", expires.Message);

        var noSign = Issuer.SelfSign(new CertificateTemplate(new X500DistinguishedName("CN=no-sign"), true,
            [new X509BasicConstraintsExtension(true, false, 0, true), new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true)]), good.Key, TimeSpan.FromDays(3650));
        Assert.Contains("keyCertSign", Assert.Throws<RotationException>(() => NewCaCheck.Validate(noSign, good.Key, "org-ca.crt", "org-ca.key", TimeSpan.FromDays(365), Now)).Message);
    }

    [Fact]
    public async Task Renew_keeps_the_key_pair_and_cross_sign_chains_the_new_ca_to_the_old()
    {
        using var root = new TemporaryNodeRoot();
        var node = new LocalNode("cp-1", root.Path);
        var old = Ca(TimeSpan.FromDays(3650));
        await node.WriteFileAsync("/etc/kubernetes/pki/ca.crt", Encoding.ASCII.GetBytes(old.CertificatePem()), FileModes.Public);
        await node.WriteFileAsync("/etc/kubernetes/pki/ca.key", Encoding.ASCII.GetBytes(old.Key.ToPem()), FileModes.Private);

        var renewed = await StagedCa.PrepareAsync(new CaRotationRequest(CaKind.Cluster, new NewCaSource.Generate()) { CaValidity = TimeSpan.FromDays(7300) },
            RotationMode.Renew, [node], RotationPaths.Default, null, Issuer);
        Assert.True(old.Key.Matches(renewed.New.Certificate));
        Assert.Equal(old.Certificate.SubjectName.RawData, renewed.New.Certificate.SubjectName.RawData);
        Assert.True(renewed.New.Certificate.NotAfter > old.Certificate.NotAfter);
        // An old leaf still chains to the renewed CA alone: nothing needs re-issuing.
        var leafKey = PrivateKey.Generate(KeyAlgorithm.EcdsaP256);
        var leaf = Issuer.Sign(CertificateTemplate.ForLeaf("x", [], [ExtendedKeyUsage.ServerAuth], SubjectAltNames.None), leafKey, old, TimeSpan.FromDays(30));
        Assert.True(CertificateFacts.ChainsTo(leaf, [renewed.New.Certificate], Now));

        var rotated = await StagedCa.PrepareAsync(new CaRotationRequest(CaKind.Cluster, new NewCaSource.Generate(), CrossSign: true),
            RotationMode.Rotate, [node], RotationPaths.Default, null, Issuer);
        Assert.False(old.Key.Matches(rotated.New.Certificate));
        Assert.NotNull(rotated.CrossSigned);
        // A client that trusts only the old CA accepts a new-CA leaf when the server sends the cross-signed CA along.
        var newLeaf = Issuer.Sign(CertificateTemplate.ForLeaf("y", [], [ExtendedKeyUsage.ServerAuth], SubjectAltNames.None), leafKey, rotated.New, TimeSpan.FromDays(30));
        Assert.True(CertificateFacts.ChainsTo(newLeaf, [old.Certificate], Now, [rotated.CrossSigned!]));
        Assert.False(CertificateFacts.ChainsTo(newLeaf, [old.Certificate], Now));
    }
}
