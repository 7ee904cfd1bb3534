namespace KubeCaRotate.Nodes;

/// <summary>A node operation failed; the message is a sentence naming the node and the path.</summary>
public sealed class NodeAccessException : IOException
{
    public NodeAccessException(string nodeName, string path, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        NodeName = nodeName;
        NodePath = path;
    }

    /// <summary>The node the operation was for.</summary>
    public string NodeName { get; }

    /// <summary>The node path (or program) the operation was about.</summary>
    public string NodePath { get; }
}
