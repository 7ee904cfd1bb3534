namespace KubeCaRotate.Lab.ApiServer;

/// <summary>What tells the stand-in that a file it serves from changed: size and write time, as a poll would see it.</summary>
internal readonly record struct FileStamp(long Length, DateTime LastWriteUtc)
{
    public static FileStamp Of(string path)
    {
        var info = new FileInfo(path);
        info.Refresh();
        return info.Exists ? new FileStamp(info.Length, info.LastWriteTimeUtc) : default;
    }
}
