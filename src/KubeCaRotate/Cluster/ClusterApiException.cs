namespace KubeCaRotate.Cluster;

/// <summary>An API call that failed for good; the message names the object and the answer.</summary>
public sealed class ClusterApiException(string message, int? statusCode = null, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The HTTP status of the last answer, when there was one.</summary>
    public int? StatusCode { get; } = statusCode;

    public bool IsNotFound => StatusCode == 404;
}
