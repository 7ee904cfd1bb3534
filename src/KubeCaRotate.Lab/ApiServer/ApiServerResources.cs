namespace KubeCaRotate.Lab.ApiServer;

/// <summary>Catalog entries the stand-in itself writes to.</summary>
internal static class ApiServerResources
{
    public static ApiResource ConfigMaps { get; } = ApiResourceCatalog.Find("", "v1", "configmaps")!;
}
