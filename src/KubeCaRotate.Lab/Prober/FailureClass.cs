namespace KubeCaRotate.Lab.Prober;

/// <summary>Why an attempt on a trust edge failed.</summary>
public enum FailureClass
{
    /// <summary>A certificate or credential was rejected: we did not trust the server, or it did not accept us (alert, close after the handshake, 401).</summary>
    Trust,

    /// <summary>The server was not there to ask: refused, timed out, reset before TLS, or 5xx/429 (e.g. an API server restarting).</summary>
    Availability,
}
