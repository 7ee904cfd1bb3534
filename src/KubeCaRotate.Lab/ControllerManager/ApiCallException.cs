using System.Net;

namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>An API request a control-plane stand-in made that the API server answered with an error (or did not answer).</summary>
public sealed class ApiCallException(HttpStatusCode? status, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>Null when the API server could not be reached.</summary>
    public HttpStatusCode? Status { get; } = status;

    public bool IsConflict => Status == HttpStatusCode.Conflict;

    public bool IsNotFound => Status == HttpStatusCode.NotFound;

    public bool IsAlreadyExists => Status == HttpStatusCode.Conflict && Message.Contains("already exists", StringComparison.Ordinal);
}
