using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>Writes JSON bodies and Status objects the way kube-apiserver does.</summary>
internal static class RestResponses
{
    public static async Task WriteJsonAsync(HttpContext context, int code, JsonNode body)
    {
        var bytes = KubeJson.Bytes(body);
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    public static Task WriteStatusAsync(HttpContext context, ApiStatusException status) =>
        WriteJsonAsync(context, status.Code, status.ToStatus());

    public static async Task WriteTextAsync(HttpContext context, int code, string text)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        await context.Response.WriteAsync(text, context.RequestAborted);
    }
}
