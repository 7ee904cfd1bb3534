using System.Text;
using KubeCaRotate.Layout;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Tests.Rotation;

/// <summary>The pure edits, replayed over a whole transition old → old+new → new with no cluster, Talos style.</summary>
public class TrustStoreEditsTests
{
    private static readonly CertificateAuthority Old = CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(3650));
    private static readonly CertificateAuthority New = CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.ClusterCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(3650));

    private static byte[] Pem(params CertificateAuthority[] cas) => Encoding.ASCII.GetBytes(string.Concat(cas.Select(c => c.CertificatePem())));

    private static PemBundle Parse(byte[] pem) => PemBundle.Parse(Encoding.ASCII.GetString(pem), "test");

    private static void AssertSame(PemBundle bundle, params CertificateAuthority[] expected) =>
        Assert.Equal(expected.Select(c => CertificateFacts.Sha256Fingerprint(c.Certificate)), bundle.Certificates.Select(CertificateFacts.Sha256Fingerprint));

    /// <summary>Applies an edit twice: the second time must return the very bytes of the first.</summary>
    private static byte[] Idempotent(Func<byte[], byte[]> edit, byte[] input)
    {
        var once = edit(input);
        var twice = edit(once);
        Assert.Same(once, twice);
        return once;
    }

    [Fact]
    public void Ca_bundle_keeps_the_certificate_of_the_key_beside_it_first_through_the_whole_transition()
    {
        var start = Pem(Old);
        // trust: old key beside → old first, new after.
        var trusting = Idempotent(b => TrustStoreEdits.CaBundleFile(b, TrustStoreEdit.AddAccepted(New.Certificate), Old.Key, "ca.crt"), start);
        AssertSame(Parse(trusting), Old, New);
        // switch: the new key goes beside → the new CA leads, the old one is still trusted.
        var switched = Idempotent(b => TrustStoreEdits.CaBundleFile(b, TrustStoreEdit.AddAccepted(New.Certificate), New.Key, "ca.crt"), trusting);
        AssertSame(Parse(switched), New, Old);
        // complete: drop the old CA.
        var done = Idempotent(b => TrustStoreEdits.CaBundleFile(b, TrustStoreEdit.Drop(Old.Certificate), New.Key, "ca.crt"), switched);
        AssertSame(Parse(done), New);
        Assert.Equal(Pem(New), done);
        // set-only from any point lands on the same single certificate.
        Assert.Equal(Pem(New), TrustStoreEdits.CaBundleFile(trusting, TrustStoreEdit.SetOnly(New.Certificate), New.Key, "ca.crt"));
    }

    [Fact]
    public void A_file_that_already_satisfies_an_edit_comes_back_byte_for_byte_even_with_foreign_text()
    {
        var withComment = Encoding.ASCII.GetBytes("# kept by the operator\n" + Old.CertificatePem() + New.CertificatePem());
        Assert.Same(withComment, TrustStoreEdits.CaBundleFile(withComment, TrustStoreEdit.AddAccepted(New.Certificate), Old.Key, "ca.crt"));
        var foreign = CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.EtcdCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(1));
        Assert.Same(withComment, TrustStoreEdits.CaBundleFile(withComment, TrustStoreEdit.Drop(foreign.Certificate), null, "ca.crt"));
    }

    [Fact]
    public void Dropping_the_last_ca_or_losing_the_key_certificate_is_refused_with_a_sentence()
    {
        var e = Assert.Throws<RotationException>(() => TrustStoreEdits.CaBundleFile(Pem(Old), TrustStoreEdit.Drop(Old.Certificate), null, "cp-1:/etc/kubernetes/pki/ca.crt"));
        Assert.Contains("cp-1:/etc/kubernetes/pki/ca.crt", e.Message);
        Assert.Contains("trusting nothing", e.Message);
        var k = Assert.Throws<RotationException>(() => TrustStoreEdits.CaBundleFile(Pem(Old), TrustStoreEdit.SetOnly(New.Certificate), Old.Key, "ca.crt"));
        Assert.Contains("key beside it", k.Message);
    }

    [Fact]
    public void Kubeconfig_ca_data_goes_old_to_both_to_new_and_other_clusters_are_left_alone()
    {
        var other = CertificateIssuer.System.NewCertificateAuthority(KubeadmCatalog.EtcdCa, KeyAlgorithm.EcdsaP256, TimeSpan.FromDays(10));
        var config = Kubeconfig.Create("kubernetes", "https://127.0.0.10:6443", Pem(Old), "kubernetes-admin", Encoding.ASCII.GetBytes("cert"), Encoding.ASCII.GetBytes("key"));
        var text = config.ToYaml().Replace("- cluster:", "- cluster:\n    certificate-authority-data: " + Convert.ToBase64String(Pem(other)) + "\n    server: https://elsewhere:6443\n  name: elsewhere\n- cluster:", StringComparison.Ordinal);
        var start = Encoding.UTF8.GetBytes(text);
        Assert.Equal(2, Kubeconfig.Parse(start).Clusters.Count);

        var both = Idempotent(b => TrustStoreEdits.KubeconfigCaData(b, TrustStoreEdit.AddAccepted(New.Certificate), Old.Certificate, "admin.conf"), start);
        var cas = TrustStoreEdits.KubeconfigCas(both, "admin.conf");
        AssertSame(cas["kubernetes"], Old, New);
        AssertSame(cas["elsewhere"], other);
        var only = Idempotent(b => TrustStoreEdits.KubeconfigCaData(b, TrustStoreEdit.Drop(Old.Certificate), Old.Certificate, "admin.conf"), both);
        AssertSame(TrustStoreEdits.KubeconfigCas(only, "admin.conf")["kubernetes"], New);
        AssertSame(TrustStoreEdits.KubeconfigCas(only, "admin.conf")["elsewhere"], other);
        // Everything but the CA data is what it was: users, contexts, the other cluster's server.
        var parsed = Kubeconfig.Parse(only);
        Assert.Equal("kubernetes-admin@kubernetes", parsed.CurrentContext);
        Assert.Equal("https://elsewhere:6443", parsed.GetCluster("elsewhere")!.Server);
    }

    [Fact]
    public void Controller_manager_signer_flags_go_to_the_copy_and_back_and_the_manifest_is_otherwise_untouched()
    {
        var spec = new ControlPlaneNodeSpec { NodeName = "cp-1", AdvertiseAddress = "127.0.0.11" };
        var start = KubeadmManifests.KubeControllerManager(spec).ToBytes();
        const string copy = "/etc/kubernetes/pki/.kube-ca-rotate/signer/ca.crt";
        var moved = Idempotent(b => TrustStoreEdits.ManifestFlag(b, "cluster-signing-cert-file", copy, "kcm"), start);
        Assert.Equal(copy, TrustStoreEdits.ManifestFlagValue(moved, "cluster-signing-cert-file", "kcm"));
        Assert.Equal("/etc/kubernetes/pki/ca.crt", TrustStoreEdits.ManifestFlagValue(moved, "root-ca-file", "kcm"));
        var back = Idempotent(b => TrustStoreEdits.ManifestFlag(b, "cluster-signing-cert-file", "/etc/kubernetes/pki/ca.crt", "kcm"), moved);
        Assert.Equal(start, back);

        var restarted = Idempotent(b => TrustStoreEdits.ManifestAnnotation(b, FileStep.RestartAnnotation, "r1/step", "kcm"), back);
        Assert.NotEqual(back, restarted);
        Assert.Equal("r1/step", StaticPodManifest.Parse(restarted).GetAnnotation(FileStep.RestartAnnotation));
    }

    [Fact]
    public void Kubelet_client_ca_file_is_read_and_moved_without_touching_the_rest()
    {
        var start = KubeletConfigFile.Create(new KubeletConfigSpec()).ToBytes();
        Assert.Equal("/etc/kubernetes/pki/ca.crt", TrustStoreEdits.KubeletClientCaFile(start, "config.yaml"));
        var moved = Idempotent(b => TrustStoreEdits.SetKubeletClientCaFile(b, "/etc/kubernetes/pki/ca-bundle.crt", "config.yaml"), start);
        Assert.Equal("/etc/kubernetes/pki/ca-bundle.crt", TrustStoreEdits.KubeletClientCaFile(moved, "config.yaml"));
        Assert.Equal(start, TrustStoreEdits.SetKubeletClientCaFile(moved, "/etc/kubernetes/pki/ca.crt", "config.yaml"));
    }
}
