namespace KubeCaRotate.Trust;

/// <summary>How an edge fares. Ordered: a larger value is worse.</summary>
public enum EdgeState
{
    /// <summary>Both sides accept each other, as loaded and as on disk.</summary>
    Healthy,

    /// <summary>
    /// Works now (or cannot be told), but will break or needs a restart: the files on disk would break it at the
    /// component's next restart, or a file changed after its component started, which still uses the previous content.
    /// </summary>
    AtRisk,

    /// <summary>One side rejects the other with what it has loaded now.</summary>
    Broken,
}
