namespace KubeCaRotate.Cli.Output;

public enum OutputFormat
{
    Table,
    Json,
}

public static class OutputFormats
{
    public static bool TryParse(string? value, out OutputFormat format)
    {
        format = OutputFormat.Table;
        switch (value)
        {
            case null or "table":
                return true;
            case "json":
                format = OutputFormat.Json;
                return true;
            default:
                return false;
        }
    }
}
