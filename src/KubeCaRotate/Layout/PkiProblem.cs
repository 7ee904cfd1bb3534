namespace KubeCaRotate.Layout;

public enum PkiProblemKind
{
    Expired,
    ExpiringSoon,
    NotYetValid,
    NotSignedByItsCa,
    KeyMismatch,
    BundleOrder,
    KubeconfigCaMismatch,
    KeyReadableByOthers,
    Unreadable,
    MissingKey,
}

/// <summary>A defect found in a certificate directory: where (file, or kubeconfig and field), what, and what to do.</summary>
public sealed record PkiProblem(string Source, PkiProblemKind Kind, string Message);
