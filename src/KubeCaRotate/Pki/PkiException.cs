namespace KubeCaRotate.Pki;

/// <summary>
/// Bad certificate or key material. The message is one sentence for an operator: it names the source
/// (usually a file) and says what to do.
/// </summary>
public class PkiException(string message, Exception? inner = null) : Exception(message, inner);
