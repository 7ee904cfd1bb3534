using System.Text;
using KubeCaRotate.Cli.Rotation;
using KubeCaRotate.Tests.TestSupport;

namespace KubeCaRotate.Tests.Cli;

public class AdminKubeconfigFileTests
{
    [Fact]
    public async Task The_new_admin_kubeconfig_is_written_0600_even_over_a_file_that_was_readable_by_others()
    {
        using var tmp = new TempDir();
        var path = tmp["admin-20260501-100000-abcdef.conf"];
        File.WriteAllText(path, "old");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var content = Encoding.ASCII.GetBytes("apiVersion: v1\nkind: Config\n");

        await AdminKubeconfigFile.WriteAsync(path, content, CancellationToken.None);

        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal([Path.GetFileName(path)], Directory.EnumerateFileSystemEntries(tmp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void By_default_it_goes_next_to_the_inventory_named_by_the_rotation()
    {
        Assert.Equal("/srv/cluster/admin-20260501-100000-abcdef.conf", AdminKubeconfigFile.DefaultPath("/srv/cluster", "20260501-100000-abcdef"));
    }
}
