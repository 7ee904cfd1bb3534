using KubeCaRotate.Lab.ApiServer;

namespace KubeCaRotate.Lab.Tests.ApiServer;

/// <summary>
/// kube-apiserver's graceful termination, which an HA load balancer relies on: from SIGTERM, /readyz fails with the
/// "shutdown" check while every other request is still served, for --shutdown-delay-duration.
/// </summary>
public sealed class ShutdownDelayTests
{
    [Fact]
    public void The_flag_is_read_as_a_go_duration()
    {
        var options = ApiServerOptions.Parse([.. StandInCluster.KubeadmArgs(null), "--shutdown-delay-duration=3s"], p => p);
        Assert.Equal(TimeSpan.FromSeconds(3), options.ShutdownDelayDuration);
        Assert.Equal(TimeSpan.Zero, ApiServerOptions.Parse(StandInCluster.KubeadmArgs(null), p => p).ShutdownDelayDuration);
    }

    [Fact]
    public async Task Once_shutdown_is_initiated_readyz_fails_and_everything_else_is_still_served()
    {
        await using var cluster = await StandInCluster.StartAsync();
        using var client = cluster.Client(cluster.AdminCertificate);
        Assert.Equal(200, (int)(await client.GetAsync("/readyz")).StatusCode);

        await cluster.Server.InitiateShutdownAsync();

        var readyz = await client.GetAsync("/readyz?verbose");
        Assert.Equal(500, (int)readyz.StatusCode);
        Assert.Contains("[-]shutdown failed: reason withheld", await readyz.Content.ReadAsStringAsync());
        Assert.Equal(200, (int)(await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(200, (int)(await client.GetAsync("/livez")).StatusCode);
        Assert.Equal(200, (int)(await client.GetAsync("/api/v1/namespaces")).StatusCode);
    }
}
