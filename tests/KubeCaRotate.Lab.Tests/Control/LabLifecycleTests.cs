using System.Net;
using System.Net.Sockets;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Lab.Tests.ApiServer;

namespace KubeCaRotate.Lab.Tests.Control;

public class LabLifecycleTests
{
    /// <summary>Every process whose command line names the lab directory: what `lab down` must leave none of.</summary>
    private static List<int> ProcessesMentioning(string dir)
    {
        var found = new List<int>();
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out var pid) || pid == Environment.ProcessId) continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                var stat = File.ReadAllText(Path.Combine(proc, "stat"));
                var state = stat[(stat.LastIndexOf(')') + 2)..][0];
                if (cmdline.Contains(dir, StringComparison.Ordinal) && state != 'Z') found.Add(pid);
            }
            catch (IOException)
            {
            }
        }
        return found;
    }

    private static bool Listening(string address, int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(new IPEndPoint(IPAddress.Parse(address), port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Up_is_ready_within_30_seconds_and_down_leaves_no_process_or_port()
    {
        var dir = Path.Combine(Path.GetTempPath(), "kcr-lab-" + Guid.NewGuid().ToString("N")[..8]);
        var controller = new LabController(TextWriter.Null, TimeProvider.System);
        try
        {
            // The readiness wait is the lab's own deadline, not a timing assertion: lab up fails if the lab is not ready in 30 s.
            var lab = await controller.UpAsync(new LabUpOptions(dir, 3, 2, 2) { ReadyTimeout = TimeSpan.FromSeconds(30) }, CancellationToken.None);
            var running = controller.Processes(lab);
            Assert.Equal(lab.Nodes.Count, running.Count(p => p.Name == "agent" && p.Alive));
            Assert.Equal(3, running.Count(p => p.Name == "etcd" && p.Alive));
            Assert.Equal(3, running.Count(p => p.Name == "kube-apiserver" && p.Alive));
            Assert.NotEmpty(ProcessesMentioning(dir));

            var status = await ProcessRun.RunAsync("kubectl", ["--kubeconfig", lab.AdminKubeconfig, "get", "--raw", "/readyz"]);
            Assert.Equal("ok", status.EnsureSuccess().Stdout.Trim());

            await controller.DownAsync(dir, CancellationToken.None);
            Assert.Empty(ProcessesMentioning(dir));
            foreach (var n in lab.ControlPlanes)
            {
                Assert.False(Listening(n.Address, n.ApiServerPort), $"API server port of {n.Name} still open");
                Assert.False(Listening(n.Address, n.EtcdClientPort), $"etcd client port of {n.Name} still open");
                Assert.False(Listening(n.Address, n.EtcdPeerPort), $"etcd peer port of {n.Name} still open");
            }
            Assert.False(Listening(lab.EndpointAddress, lab.EndpointPort), "HA endpoint still open");
        }
        finally
        {
            if (ProcessesMentioning(dir).Count > 0 && File.Exists(Path.Combine(dir, LabTopology.FileName))) await controller.DownAsync(dir, CancellationToken.None);
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Up_refuses_a_directory_that_holds_something()
    {
        var dir = Directory.CreateTempSubdirectory("kcr-lab-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine");
            var e = await Assert.ThrowsAsync<LabException>(() => new LabController(TextWriter.Null, TimeProvider.System).UpAsync(new LabUpOptions(dir, 1, 0, 0), CancellationToken.None));
            Assert.Contains(dir, e.Message);
            Assert.Equal(["notes.txt"], Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
