using System.Text.Json;
using System.Text.Json.Serialization;

namespace KubeCaRotate.Lab.Etcd;

// The JSON shapes of etcd's v3 gRPC gateway (etcdserverpb as protojson): snake_case names, bytes as base64,
// int64 as strings, fields at their default value (false, 0, empty, enum 0 such as PUT) left out.

internal static class EtcdWire
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.WriteAsString,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

internal sealed record EtcdHeader(long Revision);

internal sealed record EtcdKeyValue(byte[] Key, long CreateRevision, long ModRevision, long Version, byte[]? Value);

/// <summary>A range; <see cref="Limit"/> 0 is no limit, <see cref="Revision"/> 0 the latest.</summary>
internal sealed record EtcdRangeRequest(byte[] Key, byte[]? RangeEnd = null, long Limit = 0, long Revision = 0);

/// <summary><see cref="Count"/>: keys in the whole range (not only those returned); <see cref="More"/>: keys left beyond the limit.</summary>
internal sealed record EtcdRangeResponse(EtcdHeader Header, IReadOnlyList<EtcdKeyValue>? Kvs, long Count, bool More = false);

internal sealed record EtcdPutRequest(byte[] Key, byte[] Value);

internal sealed record EtcdPutResponse(EtcdHeader Header);

internal sealed record EtcdDeleteRangeRequest(byte[] Key, byte[]? RangeEnd = null);

internal sealed record EtcdDeleteRangeResponse(EtcdHeader Header, long Deleted);

/// <summary>A txn guard; Target is CREATE or MOD, compared with EQUAL (the default result, so not sent).</summary>
internal sealed record EtcdCompare(string Target, byte[] Key, long? CreateRevision = null, long? ModRevision = null);

internal sealed record EtcdRequestOp(
    EtcdRangeRequest? RequestRange = null,
    EtcdPutRequest? RequestPut = null,
    EtcdDeleteRangeRequest? RequestDeleteRange = null);

internal sealed record EtcdTxnRequest(IReadOnlyList<EtcdCompare> Compare, IReadOnlyList<EtcdRequestOp> Success, IReadOnlyList<EtcdRequestOp>? Failure);

internal sealed record EtcdResponseOp(
    EtcdRangeResponse? ResponseRange,
    EtcdPutResponse? ResponsePut,
    EtcdDeleteRangeResponse? ResponseDeleteRange);

internal sealed record EtcdTxnResponse(EtcdHeader Header, bool Succeeded, IReadOnlyList<EtcdResponseOp>? Responses);

internal sealed record EtcdWatchCreateRequest(byte[] Key, byte[] RangeEnd, long StartRevision, bool PrevKv);

internal sealed record EtcdWatchRequest(EtcdWatchCreateRequest CreateRequest);

internal sealed record EtcdEvent(string? Type, EtcdKeyValue Kv, EtcdKeyValue? PrevKv)
{
    public bool IsDelete => Type == "DELETE";
}

internal sealed record EtcdWatchResponse(
    EtcdHeader? Header,
    bool Created,
    bool Canceled,
    long CompactRevision,
    string? CancelReason,
    IReadOnlyList<EtcdEvent>? Events);

/// <summary>One line of the gateway's watch stream: a result, or an error object when the stream breaks.</summary>
internal sealed record EtcdWatchLine(EtcdWatchResponse? Result, JsonElement? Error);
