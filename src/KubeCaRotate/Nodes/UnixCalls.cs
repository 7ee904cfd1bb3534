namespace KubeCaRotate.Nodes;

/// <summary>The POSIX file calls LocalNode needs, in one place, refused on Windows where they do not exist.</summary>
internal static class UnixCalls
{
    public static UnixFileMode GetMode(string hostPath)
    {
        if (OperatingSystem.IsWindows())
        {
            throw NotOnWindows();
        }

        return File.GetUnixFileMode(hostPath);
    }

    public static void SetMode(string hostPath, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            throw NotOnWindows();
        }

        File.SetUnixFileMode(hostPath, mode);
    }

    public static void CreateDirectory(string hostPath, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            throw NotOnWindows();
        }

        Directory.CreateDirectory(hostPath, mode);
    }

    /// <summary>Creates a new file readable and writable by its owner only, failing if it exists.</summary>
    public static FileStream CreatePrivateFile(string hostPath)
    {
        if (OperatingSystem.IsWindows())
        {
            throw NotOnWindows();
        }

        return new FileStream(hostPath, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            Options = FileOptions.Asynchronous,
        });
    }

    private static PlatformNotSupportedException NotOnWindows() =>
        new("Node file access needs a POSIX system (Linux); Windows is not supported.");
}
