namespace KubeCaRotate.Cluster;

/// <summary>
/// A file read from a node: its node path, its content and when it last changed. Private keys are dropped at read
/// time (a .key file is not read; PEM files keep only their CERTIFICATE blocks); kubeconfigs are kept whole in memory
/// because their client credentials are part of what a client presents, and are never printed.
/// </summary>
public sealed record NodeFile(string Path, byte[] Content, DateTimeOffset? ModifiedAt);
