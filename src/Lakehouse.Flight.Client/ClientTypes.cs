using Apache.Arrow;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Client;

/// <summary>Settings of a <see cref="LakehouseClient"/>.</summary>
public sealed class LakehouseClientOptions
{
    /// <summary>A static Bearer token to send on every call (instead of <see cref="LakehouseClient.AuthenticateAsync"/>).</summary>
    public string? Token { get; set; }

    /// <summary>Largest message the client accepts. Default 64 MiB.</summary>
    public int MaxReceiveMessageBytes { get; set; } = 64 << 20;

    /// <summary>
    /// The HTTP handler of the gRPC channel, e.g. a <see cref="SocketsHttpHandler"/> that trusts a
    /// private CA for <c>grpc+tls://</c>. Null uses the default handler. The client does not dispose it.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>Rows per uploaded message (keeps each gRPC message around 1 MB). Default 8192.</summary>
    public int UploadBatchRows { get; set; } = 8192;
}

/// <summary>One dataset the server serves, with its schema and row count.</summary>
/// <param name="Layer">The layer, e.g. <c>silver</c>.</param>
/// <param name="Table">The table, e.g. <c>prices_daily</c>.</param>
/// <param name="Schema">The columns DoGet returns for the dataset.</param>
/// <param name="TotalRecords">Rows in the dataset.</param>
public sealed record DatasetInfo(string Layer, string Table, Schema Schema, long TotalRecords);

/// <summary>What a query will read: its schema, exact row count and the symbols (one Flight endpoint each).</summary>
/// <param name="Schema">Output schema (projection applied).</param>
/// <param name="TotalRecords">Exact number of rows.</param>
/// <param name="Symbols">Symbols that have rows, in output order.</param>
public sealed record QueryPlan(Schema Schema, long TotalRecords, IReadOnlyList<string> Symbols);

/// <summary>An ingestion run through the server's <c>ingest</c> action.</summary>
public sealed class IngestOptions
{
    /// <summary>Where bars come from; <c>synthetic</c> today.</summary>
    public string Source { get; set; } = "synthetic";

    /// <summary>Symbols to ingest.</summary>
    public IReadOnlyList<string> Symbols { get; set; } = [];

    /// <summary>First date, inclusive.</summary>
    public DateOnly From { get; set; }

    /// <summary>Last date, inclusive.</summary>
    public DateOnly To { get; set; }

    /// <summary>Also upsert into silver (default true).</summary>
    public bool Promote { get; set; } = true;

    /// <summary>Seed of the synthetic source (0 = the server's default).</summary>
    public long Seed { get; set; }
}

/// <summary>Progress of a long action, as the server streams it.</summary>
/// <param name="Done">Symbols finished.</param>
/// <param name="Total">Symbols in the run.</param>
/// <param name="Rows">Rows written so far.</param>
public sealed record IngestProgress(int Done, int Total, long Rows);

internal static class QueryText
{
    public static string Date(DateOnly d) => d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The same query with every column (typed reads need them all).</summary>
    public static PriceQuery AllColumns(PriceQuery q) => PriceQuery.Create(Layers.Name(q.Layer), q.Table, q.Symbols,
        q.DateFrom is { } f ? Date(f) : null, q.DateTo is { } t ? Date(t) : null, null, q.Limit);
}
