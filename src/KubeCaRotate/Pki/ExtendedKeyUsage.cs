using System.Security.Cryptography;

namespace KubeCaRotate.Pki;

public enum ExtendedKeyUsage
{
    ServerAuth,
    ClientAuth,
}

public static class ExtendedKeyUsages
{
    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    public static Oid ToOid(this ExtendedKeyUsage usage) => usage switch
    {
        ExtendedKeyUsage.ServerAuth => new Oid(ServerAuthOid, "Server Authentication"),
        ExtendedKeyUsage.ClientAuth => new Oid(ClientAuthOid, "Client Authentication"),
        _ => throw new ArgumentOutOfRangeException(nameof(usage)),
    };

    public static string Describe(string oid) => oid switch
    {
        ServerAuthOid => "serverAuth",
        ClientAuthOid => "clientAuth",
        _ => oid,
    };
}
