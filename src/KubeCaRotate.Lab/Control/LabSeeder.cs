using System.Text;
using k8s;
using k8s.Models;
using KubeCaRotate.Layout;
using KubeCaRotate.Lab.Topology;
using KubeCaRotate.Nodes;
using KubeCaRotate.Pki;

namespace KubeCaRotate.Lab.Control;

/// <summary>
/// Creates, through the API and as the admin user, the objects a kubeadm cluster has after `kubeadm init` and its
/// add-ons, plus K application namespaces: Nodes, kube-proxy and CoreDNS, cluster-info, kubeadm-config,
/// kubelet-config, kube-root-ca.crt everywhere, and per namespace a service account with a legacy token Secret and a
/// Deployment that uses it.
/// </summary>
public sealed class LabSeeder(LabTopology lab, TimeProvider time)
{
    public async Task SeedAsync(CancellationToken ct)
    {
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(lab.AdminKubeconfig);
        using var client = new Kubernetes(config);
        var first = lab.ControlPlanes.First();
        var node = new LocalNode(first.Name, lab.NodeRoot(first));
        var caPem = Encoding.ASCII.GetString((await node.ReadFileAsync(KubeadmPaths.Default.CaCert, ct).ConfigureAwait(false))!);
        var saKey = PrivateKey.FromPem(Encoding.ASCII.GetString((await node.ReadFileAsync(KubeadmPaths.Default.ServiceAccountKey, ct).ConfigureAwait(false))!), "sa.key");

        var namespaces = new List<string> { "default", "kube-system", "kube-public", "kube-node-lease" };
        namespaces.AddRange(Enumerable.Range(1, lab.Namespaces).Select(i => $"lab-{i}"));
        foreach (var ns in namespaces)
        {
            // The API server creates the system namespaces itself at start, as the real one does.
            await CreateUnlessExistsAsync(() => client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } }, cancellationToken: ct)).ConfigureAwait(false);
            await CreateUnlessExistsAsync(() => client.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "default" } }, ns, cancellationToken: ct)).ConfigureAwait(false);
            // The controller-manager's root-ca-cert-publisher may have created it already.
            await CreateUnlessExistsAsync(() => client.CoreV1.CreateNamespacedConfigMapAsync(RootCaConfigMap(caPem), ns, cancellationToken: ct)).ConfigureAwait(false);
        }

        foreach (var n in lab.Nodes)
            await client.CoreV1.CreateNodeAsync(NodeObject(n, time.GetUtcNow()), cancellationToken: ct).ConfigureAwait(false);

        await SeedKubeadmObjectsAsync(client, caPem, ct).ConfigureAwait(false);
        await SeedAddonsAsync(client, ct).ConfigureAwait(false);

        for (var i = 1; i <= lab.Namespaces; i++)
        {
            var ns = $"lab-{i}";
            var sa = await client.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "app" } }, ns, cancellationToken: ct).ConfigureAwait(false);
            await client.CoreV1.CreateNamespacedSecretAsync(LegacyTokenSecret(ns, "app", sa.Metadata.Uid ?? "", "app-token", caPem, saKey), ns, cancellationToken: ct).ConfigureAwait(false);
            await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("app", ns, 1, "app", "registry.example/app:1"), ns, cancellationToken: ct).ConfigureAwait(false);
        }
    }

    /// <summary>kube-root-ca.crt as the controller-manager's root-ca-cert-publisher writes it.</summary>
    public static V1ConfigMap RootCaConfigMap(string caPem) => new()
    {
        Metadata = new V1ObjectMeta { Name = "kube-root-ca.crt", Annotations = new Dictionary<string, string> { ["kubernetes.io/description"] = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters." } },
        Data = new Dictionary<string, string> { ["ca.crt"] = caPem },
    };

    /// <summary>A legacy kubernetes.io/service-account-token Secret as the tokens controller fills it: ca.crt, namespace and a token signed with sa.key.</summary>
    public static V1Secret LegacyTokenSecret(string ns, string serviceAccount, string serviceAccountUid, string name, string caPem, PrivateKey saKey)
    {
        var token = ServiceAccountTokens.IssueLegacy(saKey, ns, serviceAccount, serviceAccountUid, name);
        return new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = name, Annotations = new Dictionary<string, string> { ["kubernetes.io/service-account.name"] = serviceAccount, ["kubernetes.io/service-account.uid"] = serviceAccountUid } },
            Type = "kubernetes.io/service-account-token",
            Data = new Dictionary<string, byte[]> { ["ca.crt"] = Encoding.ASCII.GetBytes(caPem), ["namespace"] = Encoding.ASCII.GetBytes(ns), ["token"] = Encoding.ASCII.GetBytes(token) },
        };
    }

    /// <summary>The Node object of a lab node as its kubelet registers it: labels, InternalIP, Ready, the kubelet's port.</summary>
    public static V1Node NodeObject(LabNode n, DateTimeOffset now)
    {
        var labels = new Dictionary<string, string>
        {
            ["kubernetes.io/hostname"] = n.Name, ["kubernetes.io/os"] = "linux", ["kubernetes.io/arch"] = "amd64",
        };
        if (n.IsControlPlane) labels["node-role.kubernetes.io/control-plane"] = "";
        return new V1Node
        {
            Metadata = new V1ObjectMeta { Name = n.Name, Labels = labels, Annotations = new Dictionary<string, string> { ["kubeadm.alpha.kubernetes.io/cri-socket"] = "unix:///var/run/containerd/containerd.sock" } },
            Spec = n.IsControlPlane ? new V1NodeSpec { Taints = [new V1Taint { Key = "node-role.kubernetes.io/control-plane", Effect = "NoSchedule" }] } : new V1NodeSpec(),
            Status = new V1NodeStatus
            {
                Addresses = [new V1NodeAddress { Type = "InternalIP", Address = n.Address }, new V1NodeAddress { Type = "Hostname", Address = n.Name }],
                Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", Reason = "KubeletReady", Message = "kubelet is posting ready status", LastHeartbeatTime = now.UtcDateTime, LastTransitionTime = now.UtcDateTime }],
                DaemonEndpoints = new V1NodeDaemonEndpoints { KubeletEndpoint = new V1DaemonEndpoint { Port = n.KubeletPort } },
                NodeInfo = new V1NodeSystemInfo { KubeletVersion = "v1.33.0", KubeProxyVersion = "v1.33.0", OperatingSystem = "linux", Architecture = "amd64", ContainerRuntimeVersion = "containerd://1.7.0", OsImage = "kube-ca-rotate lab", KernelVersion = Environment.OSVersion.Version.ToString(), MachineID = n.Name, SystemUUID = n.Name, BootID = n.Name },
            },
        };
    }

    private async Task SeedKubeadmObjectsAsync(Kubernetes client, string caPem, CancellationToken ct)
    {
        // cluster-info holds a kubeconfig with exactly one unnamed cluster: the endpoint and the CA (kubeadm's bootstrap-token phase).
        var clusterInfo = $$"""
            apiVersion: v1
            clusters:
            - cluster:
                certificate-authority-data: {{Convert.ToBase64String(Encoding.ASCII.GetBytes(caPem))}}
                server: {{lab.EndpointUrl}}
              name: ""
            contexts: null
            current-context: ""
            kind: Config
            preferences: {}
            users: null

            """;
        await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "cluster-info" }, Data = new Dictionary<string, string> { ["kubeconfig"] = clusterInfo } }, "kube-public", cancellationToken: ct).ConfigureAwait(false);

        var clusterConfiguration = $$"""
            apiServer: {}
            apiVersion: kubeadm.k8s.io/v1beta4
            caCertificateValidityPeriod: 87600h0m0s
            certificateValidityPeriod: 8760h0m0s
            certificatesDir: /etc/kubernetes/pki
            clusterName: kubernetes
            controlPlaneEndpoint: {{lab.ControlPlaneEndpoint}}
            controllerManager: {}
            dns: {}
            encryptionAlgorithm: {{lab.Algorithm.ToKubeadmName()}}
            etcd:
              local:
                dataDir: /var/lib/etcd
            imageRepository: registry.k8s.io
            kind: ClusterConfiguration
            kubernetesVersion: v1.33.0
            networking:
              dnsDomain: cluster.local
              serviceSubnet: 10.96.0.0/12
            proxy: {}
            scheduler: {}

            """;
        await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "kubeadm-config" }, Data = new Dictionary<string, string> { ["ClusterConfiguration"] = clusterConfiguration } }, "kube-system", cancellationToken: ct).ConfigureAwait(false);

        var first = lab.ControlPlanes.First();
        var kubeletConfig = Encoding.UTF8.GetString((await new LocalNode(first.Name, lab.NodeRoot(first)).ReadFileAsync(KubeadmPaths.Default.KubeletConfigFile, ct).ConfigureAwait(false))!);
        await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "kubelet-config" }, Data = new Dictionary<string, string> { ["kubelet"] = kubeletConfig } }, "kube-system", cancellationToken: ct).ConfigureAwait(false);
    }

    private static async Task SeedAddonsAsync(Kubernetes client, CancellationToken ct)
    {
        await client.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "kube-proxy" } }, "kube-system", cancellationToken: ct).ConfigureAwait(false);
        await client.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "coredns" } }, "kube-system", cancellationToken: ct).ConfigureAwait(false);
        const string proxyKubeconfig = """
            apiVersion: v1
            kind: Config
            clusters:
            - cluster:
                certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
                server: https://control-plane-endpoint
              name: default
            contexts:
            - context:
                cluster: default
                namespace: default
                user: default
              name: default
            current-context: default
            users:
            - name: default
              user:
                tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token

            """;
        await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "kube-proxy", Labels = new Dictionary<string, string> { ["app"] = "kube-proxy" } }, Data = new Dictionary<string, string> { ["kubeconfig.conf"] = proxyKubeconfig } }, "kube-system", cancellationToken: ct).ConfigureAwait(false);
        var labels = new Dictionary<string, string> { ["k8s-app"] = "kube-proxy" };
        await client.AppsV1.CreateNamespacedDaemonSetAsync(new V1DaemonSet
        {
            Metadata = new V1ObjectMeta { Name = "kube-proxy", Labels = labels },
            Spec = new V1DaemonSetSpec
            {
                Selector = new V1LabelSelector { MatchLabels = labels },
                UpdateStrategy = new V1DaemonSetUpdateStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateDaemonSet { MaxUnavailable = 1 } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        // kubeadm's kube-proxy runs on every node, control planes included.
                        ServiceAccountName = "kube-proxy", HostNetwork = true, PriorityClassName = "system-node-critical",
                        NodeSelector = new Dictionary<string, string> { ["kubernetes.io/os"] = "linux" },
                        Tolerations = [new V1Toleration { OperatorProperty = "Exists" }],
                        Containers = [new V1Container { Name = "kube-proxy", Image = "registry.k8s.io/kube-proxy:v1.33.0", Command = ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"] }],
                    },
                },
            },
        }, "kube-system", cancellationToken: ct).ConfigureAwait(false);
        await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("coredns", "kube-system", 2, "coredns", "registry.k8s.io/coredns/coredns:v1.12.0", "k8s-app", "kube-dns"), "kube-system", cancellationToken: ct).ConfigureAwait(false);
    }

    private static async Task CreateUnlessExistsAsync<T>(Func<Task<T>> create)
    {
        try
        {
            await create().ConfigureAwait(false);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
        }
    }

    private static V1Deployment Deployment(string name, string ns, int replicas, string serviceAccount, string image, string labelKey = "app", string? labelValue = null)
    {
        var labels = new Dictionary<string, string> { [labelKey] = labelValue ?? name };
        return new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = labels },
            Spec = new V1DeploymentSpec
            {
                Replicas = replicas,
                Selector = new V1LabelSelector { MatchLabels = labels },
                Strategy = new V1DeploymentStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateDeployment { MaxUnavailable = "25%", MaxSurge = "25%" } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec { ServiceAccountName = serviceAccount, Containers = [new V1Container { Name = name, Image = image }] },
                },
            },
        };
    }
}
