using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace KubeCaRotate.Lab.Prober;

/// <summary>The credentials of an edge, loaded: the client certificate to present, the token to send, how to check the server.</summary>
internal sealed record EdgeMaterial(X509Certificate2? ClientCertificate, string? Token, Func<X509Certificate?, X509Chain?, SslPolicyErrors, DateTimeOffset, string?>? CheckServer);
