namespace KubeCaRotate.Lab.ApiServer;

/// <summary>Who made a request, as kube-apiserver's authenticators report it; <see cref="Method"/> says which one.</summary>
public sealed record AuthenticatedUser(string Name, IReadOnlyList<string> Groups, string Method);
