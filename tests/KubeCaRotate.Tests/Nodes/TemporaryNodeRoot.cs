namespace KubeCaRotate.Tests.Nodes;

/// <summary>A fresh directory standing for a node's "/", removed after the test.</summary>
public sealed class TemporaryNodeRoot : IDisposable
{
    public TemporaryNodeRoot()
    {
        Path = Directory.CreateTempSubdirectory("kcr-node-").FullName;
    }

    public string Path { get; }

    /// <summary>The host path for a node path.</summary>
    public string Host(string nodePath) => Path + nodePath;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
