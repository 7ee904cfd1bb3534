using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Topology;

namespace KubeCaRotate.Lab.Tests.Control;

/// <summary>Bringing a test's lab up and, whatever happened, down and away: one place for every lab fixture.</summary>
public static class TestLab
{
    public static string NewDir(string prefix) => Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>Starts a lab in <paramref name="options"/>.Dir; on failure nothing is left running or on disk.</summary>
    public static async Task<LabTopology> UpAsync(LabUpOptions options, TextWriter? log = null)
    {
        try
        {
            return await new LabController(log ?? TextWriter.Null, TimeProvider.System).UpAsync(options, CancellationToken.None);
        }
        catch
        {
            await DownAndRemoveAsync(options.Dir);
            throw;
        }
    }

    /// <summary>Stops every process of the lab (if one was started) and removes its directory.</summary>
    public static async Task DownAndRemoveAsync(string dir)
    {
        try
        {
            if (File.Exists(Path.Combine(dir, LabTopology.FileName))) await new LabController(TextWriter.Null, TimeProvider.System).DownAsync(dir, CancellationToken.None);
        }
        finally
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
