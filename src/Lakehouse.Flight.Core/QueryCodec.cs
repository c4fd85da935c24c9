using System.Text;
using Google.Protobuf;

namespace Lakehouse.Flight.Core;

/// <summary>
/// Tickets, commands and action bodies arrive as binary protobuf or UTF-8 JSON (proto3 JSON mapping).
/// A body whose first non-blank byte is '{' is JSON.
/// </summary>
public static class QueryCodec
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    internal static T Parse<T>(ReadOnlySpan<byte> body, MessageParser<T> parser, string what)
        where T : IMessage<T>, new()
    {
        if (LooksLikeJson(body))
        {
            string json;
            try
            {
                json = new UTF8Encoding(false, true).GetString(body);
            }
            catch (DecoderFallbackException)
            {
                throw LakehouseException.Invalid($"{what} is not valid UTF-8 JSON");
            }
            try
            {
                return Parser.Parse<T>(json);
            }
            catch (InvalidProtocolBufferException ex)
            {
                throw LakehouseException.Invalid($"{what} is not valid: {ex.Message}");
            }
            catch (InvalidJsonException ex)
            {
                throw LakehouseException.Invalid($"{what} is malformed JSON: {ex.Message}");
            }
        }
        try
        {
            return parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw LakehouseException.Invalid($"{what} is neither JSON nor a valid protobuf {typeof(T).Name}: {ex.Message}");
        }
    }

    public static TableQuery ParseQuery(ReadOnlySpan<byte> body) => ParseTicket(body).Query;

    /// <summary>A DoGet ticket: the query, and the IPC compression the reader asked for (null: none).</summary>
    public static (TableQuery Query, Apache.Arrow.Ipc.CompressionCodecType? Compression) ParseTicket(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return (TableQuery.Create(), null);
        }
        var msg = Parse(body, Protocol.TableQuery.Parser, "query");
        var query = TableQuery.Create(msg.Layer, msg.Table, msg.Symbols, msg.DateFrom, msg.DateTo, msg.Columns, msg.Limit)
            .WithAsOf(ReadAsOf.Create(msg.HasVersion ? msg.Version : null, msg.AsOf, msg.Snapshot))
            .WithDiffFrom(msg.HasDiffFromVersion ? msg.DiffFromVersion : null);
        return (query, IpcCompression.Parse(msg.Compression));
    }

    /// <summary>The self-describing ticket/command for a query (JSON, readable in logs and by any client).</summary>
    public static byte[] Encode(TableQuery query) => Encode(query, null);

    /// <summary>A DoGet ticket for a query whose stream the server compresses with <paramref name="compression"/> (null: none).</summary>
    public static byte[] Encode(TableQuery query, Apache.Arrow.Ipc.CompressionCodecType? compression)
    {
        var msg = new Protocol.TableQuery
        {
            Layer = Layers.Name(query.Layer),
            Table = query.Table,
            DateFrom = query.DateFrom?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) ?? "",
            DateTo = query.DateTo?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) ?? "",
            Limit = query.Limit,
            Compression = compression is null ? "" : IpcCompression.Name(compression),
            AsOf = query.AsOf?.Instant is { } instant ? ReadAsOf.FormatInstant(instant) : "",
            Snapshot = query.AsOf?.Snapshot ?? "",
        };
        if (query.AsOf?.Version is { } version)
        {
            msg.Version = version;
        }
        if (query.DiffFrom is { } diffFrom)
        {
            msg.DiffFromVersion = diffFrom;
        }
        msg.Symbols.AddRange(query.Symbols);
        msg.Columns.AddRange(query.Columns);
        return Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(msg));
    }

    private static bool LooksLikeJson(ReadOnlySpan<byte> body)
    {
        foreach (var b in body)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                continue;
            }
            return b == (byte)'{';
        }
        return false;
    }
}
