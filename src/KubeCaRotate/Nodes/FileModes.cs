namespace KubeCaRotate.Nodes;

/// <summary>The file modes kubeadm uses, and their octal spelling.</summary>
public static class FileModes
{
    /// <summary>0600: private keys and kubeconfigs.</summary>
    public const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>0644: certificates and other public files.</summary>
    public const UnixFileMode Public = Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>0755: directories.</summary>
    public const UnixFileMode Directory = Public | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>The mode as four octal digits, e.g. "0600".</summary>
    public static string ToOctal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0xFFF, 8).PadLeft(3, '0');
}
