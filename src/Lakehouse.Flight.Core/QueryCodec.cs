using System.Text;
using Google.Protobuf;
using Lakehouse.Flight.Protocol;

namespace Lakehouse.Flight.Core;

/// <summary>
/// Tickets, commands and action bodies arrive as binary protobuf or UTF-8 JSON (proto3 JSON mapping).
/// A body whose first non-blank byte is '{' is JSON.
/// </summary>
public static class QueryCodec
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    public static T Parse<T>(ReadOnlySpan<byte> body, MessageParser<T> parser, string what)
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

    public static PriceQuery ParseQuery(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return PriceQuery.Create();
        }
        var msg = Parse(body, Protocol.PriceQuery.Parser, "query");
        return PriceQuery.Create(msg.Layer, msg.Table, msg.Symbols, msg.DateFrom, msg.DateTo, msg.Columns, msg.Limit);
    }

    /// <summary>The self-describing ticket/command for a query (JSON, readable in logs and by any client).</summary>
    public static byte[] Encode(PriceQuery query)
    {
        var msg = new Protocol.PriceQuery
        {
            Layer = Layers.Name(query.Layer),
            Table = query.Table,
            DateFrom = query.DateFrom?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) ?? "",
            DateTo = query.DateTo?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) ?? "",
            Limit = query.Limit,
        };
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
