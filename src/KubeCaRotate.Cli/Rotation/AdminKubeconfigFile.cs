namespace KubeCaRotate.Cli.Rotation;

/// <summary>The operator's new admin kubeconfig: it holds a private key, so it is written 0600 from the first byte (a temporary file renamed into place) and never printed.</summary>
public static class AdminKubeconfigFile
{
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>admin-&lt;rotation id&gt;.conf in <paramref name="directory"/> (the inventory's, or the kubeconfig's when the nodes were found from the API).</summary>
    public static string DefaultPath(string directory, string rotationId) =>
        Path.Combine(Path.GetFullPath(directory), $"admin-{rotationId}.conf");

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
