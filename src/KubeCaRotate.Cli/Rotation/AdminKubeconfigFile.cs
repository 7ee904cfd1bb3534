namespace KubeCaRotate.Cli.Rotation;

/// <summary>The operator's new admin kubeconfig: it holds a private key, so it is written 0600 from the first byte (a temporary file renamed into place) and never printed.</summary>
public static class AdminKubeconfigFile
{
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>admin-&lt;rotation id&gt;.conf in the inventory's directory.</summary>
    public static string DefaultPath(string inventoryFile, string rotationId) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(inventoryFile))!, $"admin-{rotationId}.conf");

    public static async Task WriteAsync(string path, byte[] kubeconfig, CancellationToken ct)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = Mode }))
                await stream.WriteAsync(kubeconfig, ct);
            File.SetUnixFileMode(temp, Mode);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
