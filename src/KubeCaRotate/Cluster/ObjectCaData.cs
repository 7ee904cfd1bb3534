namespace KubeCaRotate.Cluster;

/// <summary>
/// One field of one object that holds PEM certificates: a ConfigMap key, a Secret key (decoded), a webhook's or
/// APIService's caBundle, cluster-info's embedded kubeconfig. <see cref="ChangedAt"/> is when the object last changed
/// (the newest managedFields time), when the API server records it.
/// </summary>
public sealed record ObjectCaData(ObjectRef Object, string Field, string Pem, DateTimeOffset? ChangedAt)
{
    public string Location => $"{Object} {Field}";
}
