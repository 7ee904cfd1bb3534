namespace KubeCaRotate.Layout;

/// <summary>A file of the kubeadm layout (kubeconfig, manifest, kubelet config) could not be understood.</summary>
public sealed class LayoutFormatException : FormatException
{
    public LayoutFormatException(string message, string? sourceName, Exception? innerException = null)
        : base(message, innerException)
    {
        SourceName = sourceName;
    }

    /// <summary>The file the content came from, when the caller said.</summary>
    public string? SourceName { get; }
}
