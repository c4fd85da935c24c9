using System.Globalization;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Server.Internal;
using Lakehouse.Flight.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

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
            .WithSummary("Rows of one or more symbols of any table (layer, table; default silver prices_daily). symbol=AAPL,MSFT or " +
                "symbol=AAPL&symbol=MSFT (up to 100 symbols); `limit` (default 100, at most 100000) applies per symbol: the latest `limit` " +
                "rows of each symbol in the range, ordered by symbol then date. JSON (default, */*), CSV (Accept: text/csv) or Arrow IPC " +
                "stream (Accept: application/vnd.apache.arrow.stream); q-values are honoured; 406 when nothing in Accept is served.")
            .WithQueryParameters(DailyParameters);
        api.MapJobsApi();
        api.MapVersionsApi();
        api.MapSqlApi();
        app.MapGet("/health", GetHealth).WithName("Health").WithSummary("Liveness (status) and readiness (state: ok, or warming with what is loading) to anyone; the lake version, data file count and per-table symbol counts too with valid credentials when authentication is on.");
    }

    /// <summary>The formats of /prices/daily, the default first.</summary>
    private static readonly string[] DailyFormats = ["application/json", "text/csv", ArrowStream];

    private static readonly HttpParameter[] DailyParameters =
    [
        new("symbol", "Ticker(s): AAPL, or AAPL,MSFT; repeatable (symbols= is the same)", Required: true),
        new("symbols", "Same as symbol"),
        new("limit", "Rows per symbol, the latest in the range (1..100000, default 100)"),
        new("date_from", "First date, YYYY-MM-DD (inclusive)"),
        new("date_to", "Last date, YYYY-MM-DD (inclusive)"),
        new("columns", "Projection, e.g. date,close"),
        new("layer", "bronze, silver or gold (default silver)"),
        new("table", "Table name (default prices_daily)"),
        .. VersionsApi.AsOfParameters,
    ];

    public const int MaxDailySymbols = 100;

    private static async Task<IResult> GetDailyAsync(HttpContext http, LakeStore store)
    {
        var q = HttpQuery.Of(http, DailyParameters.Names());
        var symbols = q.Symbols();
        if (symbols.Count == 0)
        {
            throw LakehouseException.Invalid("query parameter 'symbol' is required, e.g. /prices/daily?symbol=AAPL&limit=10 (several: symbol=AAPL,MSFT)");
        }
        if (symbols.Count > MaxDailySymbols)
        {
            throw LakehouseException.Invalid(
                $"{symbols.Count} symbols is more than /prices/daily serves ({MaxDailySymbols}): use GET /prices/arrow (no row limit) or Flight DoGet for bulk reads");
        }
        var n = q.Int("limit", DefaultLimit, 1, MaxLimit);
        var query = TableQuery.Create(q.Text("layer"), q.Text("table"), symbols, q.Text("date_from"), q.Text("date_to"), q.Columns())
            .WithVersions(q);
        var format = HttpAccept.Choose(http.Request, DailyFormats);
        var batch = LastRowsPerSymbol(store, query, n, http.RequestAborted);
        if (format == ArrowStream)
        {
            http.Response.ContentType = ArrowStream;
            using var writer = new ArrowStreamWriter(http.Response.Body, batch.Schema, leaveOpen: true);
            await writer.WriteRecordBatchAsync(batch, http.RequestAborted).ConfigureAwait(false);
            await writer.WriteEndAsync(http.RequestAborted).ConfigureAwait(false);
            return Results.Empty;
        }
        if (format == "text/csv")
        {
            return Results.Text(RowsText.Csv(batch), "text/csv; charset=utf-8");
        }
        return Results.Json(RowsText.Objects(batch));
    }

    /// <summary>The last <paramref name="limit"/> rows of each symbol of the query, in symbol order, as one batch.</summary>
    private static RecordBatch LastRowsPerSymbol(LakeStore store, TableQuery query, int limit, CancellationToken ct)
    {
        var parts = query.Symbols.Select(s => LastRows(store, query.ForSymbol(s), limit, ct)).Where(b => b.Length > 0).ToList();
        return parts.Count switch
        {
            0 => RecordBatches.Empty(store.SchemaOf(query)),
            1 => parts[0],
            _ => RecordBatches.Concatenate(parts),
        };
    }

    /// <summary>The last <paramref name="limit"/> rows of a one-symbol query, as one batch (the latest are what a dashboard asks for).</summary>
    private static RecordBatch LastRows(LakeStore store, TableQuery query, int limit, CancellationToken ct)
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
    /// Cheap by design (load balancers poll it): counts from the in-memory index, no file is opened. Liveness
    /// needs no credentials; with auth on, what the lake holds (version, data files, symbols per dataset) is told only
    /// to a caller whose credentials are valid (a missing or wrong one still gets liveness). Names no server path.
    /// </summary>
    private static IResult GetHealth(HttpContext http, LakeStore store, StartupState startup, TokenService tokens)
    {
        var health = startup.Describe();
        if (tokens.Enabled && !Authenticated(tokens, http.Request.Headers.Authorization.ToString()))
        {
            return Results.Json(health, WireJson.Default.HealthReport);
        }
        health = startup.DescribeLake(health);
        if (store.IsReady)
        {
            // Counted from the whole index only: while it is listed, a partial count would mislead.
            health = health with
            {
                Datasets = store.Catalog.Tables.Select(t => new DatasetHealth(Layers.Name(t.Layer), t.Name, store.SymbolCount(t))).ToArray(),
            };
        }
        return Results.Json(health, WireJson.Default.HealthReport);
    }

    private static bool Authenticated(TokenService tokens, string header)
    {
        try
        {
            tokens.Authenticate(header);
            return true;
        }
        catch (LakehouseException)
        {
            return false;
        }
    }
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
