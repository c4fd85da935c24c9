using Lakehouse.Flight.Core;
using Lakehouse.Flight.Server.Internal;
using Lakehouse.Flight.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lakehouse.Flight.Server.Http;

/// <summary>
/// <c>GET /prices/arrow</c>: a whole query as one Arrow IPC stream over plain HTTP (HTTP/1.1 or 2), no
/// row limit, streamed batch by batch from the cache by the same loop as DoGet. For pandas users it is one
/// line: <c>pa.ipc.open_stream(urllib.request.urlopen(url)).read_pandas()</c>; and Kestrel carries
/// HTTP/1.1 faster than HTTP/2 on loopback.
/// </summary>
internal static class ArrowStreamApi
{
    public static void MapLakehouseArrowStream(this IEndpointRouteBuilder app)
    {
        app.MapGroup("").AddEndpointFilter<HttpAuthFilter>().AddEndpointFilter<HttpErrorFilter>()
            .MapGet("/prices/arrow", GetArrowAsync)
            .WithName("GetPricesArrowStream")
            .WithSummary("Every row of a query (symbols=A,B or symbol=A&symbol=B; none = every symbol; date_from, date_to, columns, layer, table; compression=none|lz4|zstd) as an Arrow IPC stream (application/vnd.apache.arrow.stream), ordered by symbol then key; no row limit. An empty result is a schema-only stream. 406 when Accept excludes the Arrow stream type.")
            .WithQueryParameters(Parameters);
    }

    private static readonly HttpParameter[] Parameters =
    [
        new("symbols", "Tickers, e.g. AAPL,MSFT; repeatable; none = every symbol"),
        new("symbol", "Same as symbols"),
        new("date_from", "First date, YYYY-MM-DD (inclusive)"),
        new("date_to", "Last date, YYYY-MM-DD (inclusive)"),
        new("columns", "Projection, e.g. date,close"),
        new("layer", "bronze, silver or gold (default silver)"),
        new("table", "Table name (default prices_daily)"),
        new("compression", "none, lz4 or zstd (IPC body compression)"),
        .. VersionsApi.AsOfParameters,
    ];

    private static async Task<IResult> GetArrowAsync(HttpContext http, LakeStore store, DoGetStreamer streamer)
    {
        var q = HttpQuery.Of(http, Parameters.Names());
        var query = TableQuery.Create(q.Text("layer"), q.Text("table"), q.Symbols(), q.Text("date_from"), q.Text("date_to"), q.Columns())
            .WithVersions(q);
        var codec = IpcCompression.Parse(q.Text("compression"));
        _ = HttpAccept.Choose(http.Request, HttpApi.ArrowStream);
        // Resolve now so a bad table or column is a problem+json, not a broken stream.
        _ = store.SchemaOf(query);
        var response = http.Response;
        response.ContentType = HttpApi.ArrowStream;
        response.Headers["X-Arrow-Compression"] = IpcCompression.Name(codec);
        var ct = http.RequestAborted;
        using var sink = new IpcPipeSink(new PipeBodyStream(response.BodyWriter), codec, writeEnd: true);
        try
        {
            await streamer.StreamAsync(query, sink, ct).ConfigureAwait(false);
            await sink.EndAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away mid-stream; there is no one to tell.
        }
        return Results.Empty;
    }
}
