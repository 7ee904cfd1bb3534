using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Cluster;
using KubeCaRotate.Lab.Control;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Lab.Tests.Cluster;

/// <summary>
/// The API side of a rotation on a real lab: data fields of ConfigMaps and Secrets, object backups on the control-plane
/// nodes and their exact restore, the rotation lock Lease and the summary ConfigMap, each checked with kubectl.
/// </summary>
public sealed class ObjectsAndLockTests(ObjectsAndLockLab lab) : IClassFixture<ObjectsAndLockLab>
{
    private const string Ns = ObjectsAndLockLab.Namespace;

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private static ObjectTarget ConfigMap(string name) => new("v1", "ConfigMap", Ns, name);

    private static ObjectTarget Secret(string name) => new("v1", "Secret", Ns, name);

    private async Task<JsonObject> GetJsonAsync(string kind, string name, string ns = Ns) =>
        (JsonObject)JsonNode.Parse(await lab.KubectlOkAsync("get", kind, name, "-n", ns, "-o", "json"))!;

    private const string SamplePem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

    [Fact]
    public async Task ConfigMapFieldIsSetReadAndRemovedAloneAndTheObjectDeleted()
    {
        var name = Unique("fields");
        await lab.KubectlOkAsync("create", "configmap", name, "-n", Ns, "--from-literal=other=kept");
        var objects = new RotationObjects(lab.Connection);
        var target = ConfigMap(name);

        await objects.WriteFieldAsync(target, "ca.crt", SamplePem, CancellationToken.None);

        Assert.Equal(SamplePem, await lab.KubectlOkAsync("get", "cm", name, "-n", Ns, "-o", "jsonpath={.data.ca\\.crt}"));
        Assert.Equal("kept", await lab.KubectlOkAsync("get", "cm", name, "-n", Ns, "-o", "jsonpath={.data.other}"));
        Assert.Equal(SamplePem, await objects.ReadFieldAsync(target, "ca.crt", CancellationToken.None));
        Assert.Null(await objects.ReadFieldAsync(target, "absent", CancellationToken.None));

        await objects.WriteFieldAsync(target, "ca.crt", null, CancellationToken.None);

        var data = (await GetJsonAsync("configmap", name))["data"]!.AsObject();
        Assert.False(data.ContainsKey("ca.crt"), data.ToJsonString());
        Assert.Equal("kept", data["other"]!.GetValue<string>());
        Assert.Null(await objects.ReadFieldAsync(target, "ca.crt", CancellationToken.None));

        Assert.True(await objects.ExistsAsync(target, CancellationToken.None));
        Assert.True(await objects.DeleteAsync(target, CancellationToken.None));
        Assert.False(await objects.ExistsAsync(target, CancellationToken.None));
        Assert.False(await objects.DeleteAsync(target, CancellationToken.None));
        Assert.Contains("NotFound", (await lab.KubectlAsync("get", "cm", name, "-n", Ns)).Stderr);
        Assert.Null(await objects.ReadFieldAsync(target, "other", CancellationToken.None));
    }

    [Fact]
    public async Task SecretFieldIsWrittenBase64AndReadDecoded()
    {
        var name = Unique("secret-fields");
        await lab.KubectlOkAsync("create", "secret", "generic", name, "-n", Ns, "--from-literal=other=kept");
        var objects = new RotationObjects(lab.Connection);
        var target = Secret(name);

        await objects.WriteFieldAsync(target, "ca.crt", SamplePem, CancellationToken.None);

        var encoded = await lab.KubectlOkAsync("get", "secret", name, "-n", Ns, "-o", "jsonpath={.data.ca\\.crt}");
        Assert.Equal(SamplePem, Encoding.UTF8.GetString(Convert.FromBase64String(encoded)));
        Assert.Equal(SamplePem, await objects.ReadFieldAsync(target, "ca.crt", CancellationToken.None));
        Assert.Equal("kept", await objects.ReadFieldAsync(target, "other", CancellationToken.None));

        await objects.WriteFieldAsync(target, "ca.crt", null, CancellationToken.None);

        var data = (await GetJsonAsync("secret", name))["data"]!.AsObject();
        Assert.False(data.ContainsKey("ca.crt"), data.ToJsonString());
        Assert.True(await objects.DeleteAsync(target, CancellationToken.None));
        Assert.False(await objects.ExistsAsync(target, CancellationToken.None));
    }

    [Fact]
    public async Task AMissingObjectOrAnUnsupportedKindIsRefusedNamingIt()
    {
        var objects = new RotationObjects(lab.Connection);
        var missing = ConfigMap(Unique("missing"));

        var e = await Assert.ThrowsAsync<RotationException>(() => objects.WriteFieldAsync(missing, "ca.crt", "x", CancellationToken.None));
        Assert.Contains($"ConfigMap {Ns}/{missing.Name} does not exist", e.Message);
        Assert.Contains("NotFound", (await lab.KubectlAsync("get", "cm", missing.Name, "-n", Ns)).Stderr);

        var webhook = new ObjectTarget("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", null, "hook");
        var unsupported = await Assert.ThrowsAsync<RotationException>(() => objects.ReadFieldAsync(webhook, "caBundle", CancellationToken.None));
        Assert.Contains("ValidatingWebhookConfiguration hook", unsupported.Message);
    }

    [Fact]
    public async Task ABackedUpSecretIsRestoredExactlyAfterChangesAndTheBackupIsPrivateOnEveryControlPlane()
    {
        var name = Unique("backup-secret");
        await lab.KubectlOkAsync("create", "secret", "generic", name, "-n", Ns, "--type=example.com/rotation-test",
            "--from-literal=tls.key=-----BEGIN PRIVATE KEY-----\nMIIfake\n-----END PRIVATE KEY-----\n", "--from-literal=ca.crt=" + SamplePem);
        await lab.KubectlOkAsync("label", "secret", name, "-n", Ns, "tier=control", "keep=yes");
        await lab.KubectlOkAsync("annotate", "secret", name, "-n", Ns, "example.com/note=original");
        var before = await GetJsonAsync("secret", name);
        var backup = new ClusterObjectBackup(lab.Connection, lab.Nodes, lab.Paths, TimeProvider.System);
        var objects = new RotationObjects(lab.Connection);
        var target = Secret(name);
        var rotationId = Unique("rot");

        Assert.True(await backup.BackupAsync(rotationId, target));

        var path = backup.PathOf(rotationId, target);
        Assert.Equal(lab.Paths.BackupDir(rotationId) + $"/objects/Secret/{Ns}/{name}.json", path);
        var copies = new List<byte[]>();
        foreach (var cp in lab.Nodes.ControlPlanes)
        {
            Assert.Equal(FileModes.Private, await cp.Access.GetFileModeAsync(path));
            copies.Add((await cp.Access.ReadFileAsync(path))!);
        }
        Assert.Equal(2, copies.Count);
        Assert.Equal(copies[0], copies[1]);

        // Change data, labels, annotations; a second backup keeps the first original.
        await objects.WriteFieldAsync(target, "ca.crt", "changed", CancellationToken.None);
        await objects.WriteFieldAsync(target, "extra", "added", CancellationToken.None);
        await lab.KubectlOkAsync("label", "secret", name, "-n", Ns, "--overwrite", "keep-", "tier=changed", "new=label");
        await lab.KubectlOkAsync("annotate", "secret", name, "-n", Ns, "--overwrite", "example.com/note=changed");
        Assert.False(await backup.BackupAsync(rotationId, target));
        Assert.Equal(copies[0], await lab.Nodes.ControlPlanes[0].Access.ReadFileAsync(path));

        Assert.True(await backup.RestoreAsync(rotationId, target));

        var after = await GetJsonAsync("secret", name);
        foreach (var field in new[] { "data", "type" })
            Assert.True(JsonNode.DeepEquals(before[field], after[field]), $"{field}: {before[field]?.ToJsonString()} != {after[field]?.ToJsonString()}");
        foreach (var field in new[] { "labels", "annotations", "uid", "name", "namespace" })
            Assert.True(JsonNode.DeepEquals(before["metadata"]![field], after["metadata"]![field]), $"metadata.{field}: {before["metadata"]![field]?.ToJsonString()} != {after["metadata"]![field]?.ToJsonString()}");
        Assert.Contains(target, await backup.BackedUpAsync(rotationId));
        await lab.KubectlOkAsync("delete", "secret", name, "-n", Ns);
    }

    [Fact]
    public async Task ADeletedConfigMapIsCreatedAgainAndABackupOnOneNodeWinsAndIsCopiedToTheOthers()
    {
        var name = Unique("backup-cm");
        await lab.KubectlOkAsync("create", "configmap", name, "-n", Ns, "--from-literal=ca.crt=" + SamplePem, "--from-literal=other=value");
        await lab.KubectlOkAsync("label", "configmap", name, "-n", Ns, "app=rotation-test");
        var before = await GetJsonAsync("configmap", name);
        var backup = new ClusterObjectBackup(lab.Connection, lab.Nodes, lab.Paths, TimeProvider.System);
        var target = ConfigMap(name);
        var rotationId = Unique("rot");
        Assert.True(await backup.BackupAsync(rotationId, target));
        var path = backup.PathOf(rotationId, target);
        var original = await lab.Nodes.ControlPlanes[1].Access.ReadFileAsync(path);

        // A run killed after writing the backup on one node only: the next one keeps it and copies it over.
        Assert.True(await lab.Nodes.ControlPlanes[0].Access.DeleteFileAsync(path));
        await lab.KubectlOkAsync("patch", "configmap", name, "-n", Ns, "--type=merge", "-p", "{\"data\":{\"ca.crt\":\"changed\"}}");
        Assert.False(await backup.BackupAsync(rotationId, target));
        Assert.Equal(original, await lab.Nodes.ControlPlanes[0].Access.ReadFileAsync(path));
        Assert.Equal(FileModes.Private, await lab.Nodes.ControlPlanes[0].Access.GetFileModeAsync(path));

        await lab.KubectlOkAsync("delete", "configmap", name, "-n", Ns);
        Assert.True(await backup.RestoreAsync(rotationId, target));

        var after = await GetJsonAsync("configmap", name);
        Assert.True(JsonNode.DeepEquals(before["data"], after["data"]), after["data"]?.ToJsonString());
        Assert.True(JsonNode.DeepEquals(before["metadata"]!["labels"], after["metadata"]!["labels"]), after["metadata"]!["labels"]?.ToJsonString());
        Assert.False(await backup.RestoreAsync(rotationId, ConfigMap(Unique("never-backed-up"))));
        await lab.KubectlOkAsync("delete", "configmap", name, "-n", Ns);
    }

    [Fact]
    public async Task RestoringAnObjectThatWasAbsentDeletesIt()
    {
        var name = Unique("was-absent");
        var backup = new ClusterObjectBackup(lab.Connection, lab.Nodes, lab.Paths, TimeProvider.System);
        var target = Secret(name);
        var rotationId = Unique("rot");

        Assert.True(await backup.BackupAsync(rotationId, target));
        await lab.KubectlOkAsync("create", "secret", "generic", name, "-n", Ns, "--from-literal=made=later");
        Assert.False(await backup.BackupAsync(rotationId, target));

        Assert.True(await backup.RestoreAsync(rotationId, target));

        Assert.Contains("NotFound", (await lab.KubectlAsync("get", "secret", name, "-n", Ns)).Stderr);
        Assert.Equal([target], await backup.BackedUpAsync(rotationId));
        Assert.True(await backup.RestoreAsync(rotationId, target)); // already gone: still restored
    }

    // ---- the rotation lock ----

    private async Task ClearLeaseAsync() =>
        await lab.KubectlOkAsync("delete", "lease", ClusterRotationLock.Name, "-n", ClusterRotationLock.Namespace, "--ignore-not-found");

    private async Task<string> LeaseFieldAsync(string jsonPath) =>
        await lab.KubectlOkAsync("get", "lease", ClusterRotationLock.Name, "-n", ClusterRotationLock.Namespace, "-o", $"jsonpath={{{jsonPath}}}");

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(90);
        while (!await condition())
        {
            if (DateTimeOffset.UtcNow > deadline) throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(250);
        }
    }

    private static async Task<int> DeadPidAsync()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        await process.WaitForExitAsync();
        var pid = process.Id;
        Assert.False(Directory.Exists($"/proc/{pid}"), $"pid {pid} is still in use");
        return pid;
    }

    [Fact]
    public async Task ASecondRunIsRefusedNamingTheHolderWhileTheLeaseIsRenewedAndMayTakeItAfterRelease()
    {
        await ClearLeaseAsync();
        var pid = Environment.ProcessId;
        var first = new ClusterRotationLock(lab.Connection, TimeProvider.System, "host-a", pid);
        var second = new ClusterRotationLock(lab.Connection, TimeProvider.System, "host-b", 1);

        var held = await first.AcquireLeaseAsync("rot-a", CancellationToken.None);
        try
        {
            Assert.Equal($"rot-a@host-a/{pid}", await LeaseFieldAsync(".spec.holderIdentity"));
            Assert.Equal("15", await LeaseFieldAsync(".spec.leaseDurationSeconds"));
            var firstRenew = await LeaseFieldAsync(".spec.renewTime");

            var refused = await Assert.ThrowsAsync<RotationException>(() => second.AcquireAsync("rot-b", CancellationToken.None));
            Assert.Contains($"rotation rot-a held by host-a/{pid} since ", refused.Message);
            Assert.Contains("run again after the lease expires at ", refused.Message);

            // The holder keeps renewing in the background.
            await WaitForAsync(async () => await LeaseFieldAsync(".spec.renewTime") != firstRenew, "the lease to be renewed");
            Assert.Equal($"rot-a@host-a/{pid}", await LeaseFieldAsync(".spec.holderIdentity"));
            Assert.False(held.Lost.IsCancellationRequested);
        }
        finally
        {
            await held.DisposeAsync();
        }

        Assert.Equal("", await LeaseFieldAsync(".spec.holderIdentity"));
        await using (await second.AcquireAsync("rot-b", CancellationToken.None))
        {
            Assert.Equal("rot-b@host-b/1", await LeaseFieldAsync(".spec.holderIdentity"));
            Assert.Equal("1", await LeaseFieldAsync(".spec.leaseTransitions"));
        }
    }

    [Fact]
    public async Task AHolderWhoseProcessIsGoneOnThisHostIsTakenOverButNotOneOnAnotherHost()
    {
        await ClearLeaseAsync();
        var deadPid = await DeadPidAsync();
        var thisHost = Environment.MachineName;

        var elsewhere = await new ClusterRotationLock(lab.Connection, TimeProvider.System, "elsewhere", deadPid).AcquireLeaseAsync("rot-remote", CancellationToken.None);
        try
        {
            var refused = await Assert.ThrowsAsync<RotationException>(() => new ClusterRotationLock(lab.Connection, TimeProvider.System).AcquireAsync("rot-live", CancellationToken.None));
            Assert.Contains($"rotation rot-remote held by elsewhere/{deadPid}", refused.Message);
        }
        finally
        {
            await elsewhere.DisposeAsync();
        }

        var dead = await new ClusterRotationLock(lab.Connection, TimeProvider.System, thisHost, deadPid).AcquireLeaseAsync("rot-dead", CancellationToken.None);
        try
        {
            Assert.Equal($"rot-dead@{thisHost}/{deadPid}", await LeaseFieldAsync(".spec.holderIdentity"));

            await using (var live = await new ClusterRotationLock(lab.Connection, TimeProvider.System).AcquireLeaseAsync("rot-live", CancellationToken.None))
            {
                Assert.Equal($"rot-live@{thisHost}/{Environment.ProcessId}", await LeaseFieldAsync(".spec.holderIdentity"));
                // The displaced holder notices at its next renewal and stops.
                await WaitForAsync(() => Task.FromResult(dead.Lost.IsCancellationRequested), "the displaced holder to see it lost the lease");
                Assert.Contains($"taken over by rot-live@{thisHost}/{Environment.ProcessId}", dead.LostReason);
                Assert.False(live.Lost.IsCancellationRequested);
            }
        }
        finally
        {
            await dead.DisposeAsync();
        }
    }

    [Fact]
    public async Task ALeaseNotRenewedWithinItsDurationIsTakenOver()
    {
        await ClearLeaseAsync();
        var stale = DateTimeOffset.UtcNow.AddSeconds(-60).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
        var manifest = new JsonObject
        {
            ["apiVersion"] = "coordination.k8s.io/v1",
            ["kind"] = "Lease",
            ["metadata"] = new JsonObject { ["name"] = ClusterRotationLock.Name, ["namespace"] = ClusterRotationLock.Namespace },
            ["spec"] = new JsonObject
            {
                ["holderIdentity"] = "rot-old@elsewhere/1",
                ["leaseDurationSeconds"] = 15,
                ["acquireTime"] = stale,
                ["renewTime"] = stale,
                ["leaseTransitions"] = 3,
            },
        }.ToJsonString();
        (await lab.KubectlWithInputAsync(manifest, "create", "-f", "-")).EnsureSuccess();
        // As kube-apiserver, the lab refuses to overwrite a Lease blindly: a PUT without resourceVersion (kubectl replace would fill one in).
        using (var admin = LabClients.FromKubeconfig(lab.Lab.AdminKubeconfig, TimeSpan.FromSeconds(30)))
        using (var blind = await admin.PutAsync($"{lab.Lab.EndpointUrl}/apis/coordination.k8s.io/v1/namespaces/{ClusterRotationLock.Namespace}/leases/{ClusterRotationLock.Name}",
                   new StringContent(manifest, Encoding.UTF8, "application/json")))
        {
            Assert.Equal(422, (int)blind.StatusCode);
            Assert.Contains("must be specified for an update", await blind.Content.ReadAsStringAsync());
        }

        await using (await new ClusterRotationLock(lab.Connection, TimeProvider.System, "host-new", Environment.ProcessId).AcquireAsync("rot-new", CancellationToken.None))
        {
            Assert.Equal($"rot-new@host-new/{Environment.ProcessId}", await LeaseFieldAsync(".spec.holderIdentity"));
            Assert.Equal("4", await LeaseFieldAsync(".spec.leaseTransitions"));
        }
    }

    [Fact]
    public async Task OfTwoRunsRacingForTheLockExactlyOneWins()
    {
        // Round 0 races to create the Lease; the later ones race to replace the released Lease under the same resourceVersion.
        await ClearLeaseAsync();
        for (var round = 0; round < 6; round++)
        {
            var contenders = new[] { "racer-1", "racer-2" }
                .Select(host => new ClusterRotationLock(lab.Connection, TimeProvider.System, host, Environment.ProcessId))
                .ToArray();
            using var start = new Barrier(contenders.Length);
            var attempts = contenders.Select((c, i) => Task.Run(async () =>
            {
                start.SignalAndWait();
                return await c.AcquireLeaseAsync($"rot-{round}-{i}", CancellationToken.None);
            })).ToArray();
            try
            {
                await Task.WhenAll(attempts);
            }
            catch (RotationException)
            {
            }

            var won = attempts.Where(a => a.IsCompletedSuccessfully).Select(a => a.Result).ToList();
            try
            {
                Assert.Single(won);
                var lost = Assert.Single(attempts, a => a.IsFaulted);
                var refusal = Assert.IsType<RotationException>(lost.Exception!.InnerException);
                Assert.Contains($"rotation {won[0].Holder.RotationId} held by {won[0].Holder.Host}/", refusal.Message);
                Assert.Equal(won[0].Holder.ToString(), await LeaseFieldAsync(".spec.holderIdentity"));
            }
            finally
            {
                foreach (var held in won) await held.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task TheSummaryConfigMapHoldsTheJournalsStateAndNoKeyMaterial()
    {
        await lab.KubectlOkAsync("delete", "configmap", ClusterRotationLock.Name, "-n", ClusterRotationLock.Namespace, "--ignore-not-found");
        var now = DateTimeOffset.UtcNow;
        var journal = new RotationJournal
        {
            RotationId = RotationJournal.NewRotationId(now),
            Phase = RotationPhase.Trusted,
            Cas = [new JournalCa(CaKind.Cluster, new string('A', 64), new string('B', 64)), new JournalCa(CaKind.Etcd, new string('C', 64), new string('D', 64), new string('E', 64))],
            FinishedSteps = [new JournalStep("ca/stage", now), new JournalStep("ca/trust/cp-1", now)],
            StartedAt = now,
            UpdatedAt = now,
        };
        var rotationLock = new ClusterRotationLock(lab.Connection, TimeProvider.System);

        await rotationLock.PublishSummaryAsync(journal, CancellationToken.None);

        var summary = await GetJsonAsync("configmap", ClusterRotationLock.Name, ClusterRotationLock.Namespace);
        var data = summary["data"]!.AsObject();
        Assert.Equal(journal.RotationId, data["rotationId"]!.GetValue<string>());
        Assert.Equal("trusted", data["phase"]!.GetValue<string>());
        Assert.Equal("rotate", data["mode"]!.GetValue<string>());
        Assert.Equal("2", data["finishedSteps"]!.GetValue<string>());
        Assert.Equal(new string('A', 64), data["ca.oldSha256"]!.GetValue<string>());
        Assert.Equal(new string('B', 64), data["ca.newSha256"]!.GetValue<string>());
        Assert.Equal(new string('E', 64), data["etcd-ca.crossSignedSha256"]!.GetValue<string>());
        Assert.True(DateTimeOffset.TryParse(data["updatedAt"]!.GetValue<string>(), CultureInfo.InvariantCulture, out _));
        Assert.DoesNotContain("-----BEGIN", summary.ToJsonString());
        Assert.DoesNotContain("PRIVATE", summary.ToJsonString());

        // Published again: replaced, not merged (a CA no longer in the journal leaves no key behind).
        var later = journal.WithPhase(RotationPhase.Switching, now.AddMinutes(1)) with { Cas = [journal.Cas[0]] };
        await rotationLock.PublishSummaryAsync(later.WithStepFinished("ca/switch/cp-1", now.AddMinutes(1)), CancellationToken.None);

        data = (await GetJsonAsync("configmap", ClusterRotationLock.Name, ClusterRotationLock.Namespace))["data"]!.AsObject();
        Assert.Equal("switching", data["phase"]!.GetValue<string>());
        Assert.Equal("3", data["finishedSteps"]!.GetValue<string>());
        Assert.False(data.ContainsKey("etcd-ca.newSha256"), data.ToJsonString());
    }
}
