namespace KubeCaRotate.Lab.Etcd;

/// <summary>This member cannot serve the request now (down, untrusted, refusing us, no leader); another may.</summary>
internal sealed class EtcdEndpointUnreachableException(EtcdEndpoint endpoint, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public EtcdEndpoint Endpoint { get; } = endpoint;
}
