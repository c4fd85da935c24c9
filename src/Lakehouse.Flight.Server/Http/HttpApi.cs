using System.Globalization;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Server.Internal;
using Lakehouse.Flight.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Lakehouse.Flight.Server.Http;

/// <summary>
/// The prototype's HTTP endpoints, kept for scripts and browsers: daily prices (JSON, CSV or Arrow IPC
/// by <c>Accept</c>), queued ingestion jobs, health, and the OpenAPI document. Errors are problem+json.
/// </summary>
internal static class HttpApi
{
    public const string ArrowStream = "application/vnd.apache.arrow.stream";
    public const int DefaultLimit = 100;
    public const int MaxLimit = 100_000;

    public static void MapLakehouseHttpApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("").AddEndpointFilter<HttpAuthFilter>().AddEndpointFilter<HttpErrorFilter>();
        api.MapGet("/prices/daily", GetDailyAsync)
            .WithName("GetDailyPrices")
            .WithSummary("Rows of one symbol of any table (layer, table; default silver prices_daily): the most recent `limit` rows in the range, oldest first. JSON, CSV (Accept: text/csv) or Arrow IPC stream (Accept: application/vnd.apache.arrow.stream).");
        api.MapJobsApi();
        app.MapGet("/health", GetHealth).WithName("Health").WithSummary("Liveness and dataset totals; no authentication.");
    }

    private static async Task<IResult> GetDailyAsync(HttpContext http, PriceStore store, string? symbol, int? limit,
        string? date_from, string? date_to, string? columns, string? layer, string? table)
    {
        if (string.IsNullOrWhiteSpace(symbol))
        {
            throw LakehouseException.Invalid("query parameter 'symbol' is required, e.g. /prices/daily?symbol=AAPL&limit=10");
        }
        var n = limit ?? DefaultLimit;
        if (n is < 1 or > MaxLimit)
        {
            throw LakehouseException.Invalid($"limit must be between 1 and {MaxLimit} (got {n})");
        }
        var cols = string.IsNullOrWhiteSpace(columns) ? [] : columns.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var query = PriceQuery.Create(layer, table, [symbol], date_from, date_to, cols);
        var batch = LastRows(store, query, n, http.RequestAborted);
        var accept = http.Request.Headers.Accept.ToString();
        if (accept.Contains(ArrowStream, StringComparison.OrdinalIgnoreCase))
        {
            http.Response.ContentType = ArrowStream;
            using var writer = new ArrowStreamWriter(http.Response.Body, batch.Schema, leaveOpen: true);
            await writer.WriteRecordBatchAsync(batch, http.RequestAborted).ConfigureAwait(false);
            await writer.WriteEndAsync(http.RequestAborted).ConfigureAwait(false);
            return Results.Empty;
        }
        if (accept.Contains("text/csv", StringComparison.OrdinalIgnoreCase))
        {
            return Results.Text(RowsText.Csv(batch), "text/csv; charset=utf-8");
        }
        return Results.Json(RowsText.Objects(batch));
    }

    /// <summary>The last <paramref name="limit"/> rows of a one-symbol query, as one batch (the latest are what a dashboard asks for).</summary>
    private static RecordBatch LastRows(PriceStore store, PriceQuery query, int limit, CancellationToken ct)
    {
        var tail = new List<RecordBatch>();
        var rows = 0;
        foreach (var b in store.Read(query, ct))
        {
            tail.Add(b);
            rows += b.Length;
            while (tail.Count > 1 && rows - tail[0].Length >= limit)
            {
                rows -= tail[0].Length;
                tail.RemoveAt(0);
            }
        }
        if (tail.Count == 0)
        {
            return RecordBatches.Empty(store.SchemaOf(query));
        }
        var all = RecordBatches.Concatenate(tail);
        return all.Length > limit ? all.Slice(all.Length - limit, limit) : all;
    }

    /// <summary>
    /// Cheap by design (load balancers poll it): counts from the in-memory index, no file is opened.
    /// Unauthenticated, so it names no server path.
    /// </summary>
    private static IResult GetHealth(PriceStore store) => Results.Ok(new
    {
        status = "ok",
        datasets = store.Catalog.Tables.Select(t => new { layer = Layers.Name(t.Layer), table = t.Name, symbols = store.SymbolCount(t) }),
        partitions = store.IndexedPartitions,
    });
}

/// <summary>Rows of a batch as JSON objects or CSV text.</summary>
internal static class RowsText
{
    public static List<Dictionary<string, object?>> Objects(RecordBatch batch)
    {
        var rows = new List<Dictionary<string, object?>>(batch.Length);
        for (var i = 0; i < batch.Length; i++)
        {
            var row = new Dictionary<string, object?>(batch.ColumnCount);
            for (var c = 0; c < batch.ColumnCount; c++)
            {
                row[batch.Schema.FieldsList[c].Name] = PriceBarBatches.ValueAt(batch.Column(c), i);
            }
            rows.Add(row);
        }
        return rows;
    }

    public static string Csv(RecordBatch batch)
    {
        var sb = new StringBuilder();
        sb.AppendJoin(',', batch.Schema.FieldsList.Select(f => f.Name)).Append('\n');
        for (var i = 0; i < batch.Length; i++)
        {
            for (var c = 0; c < batch.ColumnCount; c++)
            {
                if (c > 0)
                {
                    sb.Append(',');
                }
                var v = PriceBarBatches.ValueAt(batch.Column(c), i);
                var s = v switch
                {
                    null => "",
                    double d => d.ToString("R", CultureInfo.InvariantCulture),
                    IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                    _ => v.ToString() ?? "",
                };
                sb.Append(s.AsSpan().IndexOfAny(",\"\n") >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s);
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
