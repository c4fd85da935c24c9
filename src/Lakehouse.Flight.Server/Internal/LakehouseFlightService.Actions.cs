using System.Diagnostics;
using System.Text.Json;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Server.Internal;

internal sealed partial class LakehouseFlightService
{
    /// <summary>Symbols per commit of <c>ingest</c>: one progress result follows each chunk.</summary>
    private const int IngestChunk = 10;

    internal static readonly IReadOnlyList<FlightActionType> ActionTypes =
    [
        new("ingest", "Fetch bars from a source into bronze and promote them to silver (writer). Body: {\"source\":\"synthetic\",\"symbols\":[\"AAPL\"],\"date_from\":\"2024-01-01\",\"date_to\":\"2024-03-31\",\"promote\":true}. Streams {\"progress\":...} results, one per chunk of 10 symbols (each chunk commits atomically); the last result is the JSON array of StorageReports."),
        new("promote", "Re-derive silver from bronze (writer). Body: {\"source\":\"vendor_x\",\"symbols\":[],\"date_from\":\"\",\"date_to\":\"\"}. Result: JSON array of StorageReports."),
        new("stats", "Symbols, partitions, rows and date span of each dataset. No body. Result: JSON array."),
        new("manifest", "Recent manifest lines. Body: {\"layer\":\"silver\",\"table\":\"prices_daily\",\"limit\":50}. Result: JSON array of StorageReports, oldest first."),
        new("health", "Liveness and the data dir. No body. Result: JSON object with status \"ok\"."),
    ];

    private static readonly string[] NotBuilt = ["build-gold", "migrate-legacy"];

    public override async Task ListActions(IAsyncStreamWriter<FlightActionType> responseStream, ServerCallContext context)
    {
        foreach (var a in ActionTypes)
        {
            await responseStream.WriteAsync(a).ConfigureAwait(false);
        }
    }

    public override async Task DoAction(FlightAction request, IAsyncStreamWriter<FlightResult> responseStream, ServerCallContext context)
    {
        var sw = Stopwatch.StartNew();
        var ct = context.CancellationToken;
        var type = (request.Type ?? "").Trim().ToLowerInvariant();
        var body = request.Body.ToByteArray();
        switch (type)
        {
            case "ingest":
                FlightCallInterceptor.RequireWriter(context, "the ingest action");
                await IngestAsync(body, responseStream, ct).ConfigureAwait(false);
                break;
            case "promote":
                FlightCallInterceptor.RequireWriter(context, "the promote action");
                var p = body.Length == 0 ? new Protocol.PromoteRequest() : QueryCodec.Parse(body, Protocol.PromoteRequest.Parser, "promote body");
                var reports = await _store.PromoteAsync(p.Source, Symbols.NormalizeAll(p.Symbols),
                    PriceQuery.ParseDate(p.DateFrom, "date_from"), PriceQuery.ParseDate(p.DateTo, "date_to"), cancellationToken: ct).ConfigureAwait(false);
                await Write(responseStream, reports).ConfigureAwait(false);
                break;
            case "stats":
                var stats = PriceQuery.Datasets.Select(d => _store.Stats(d.Layer, d.Table, ct)).Select(s => new Dictionary<string, object?>
                {
                    ["layer"] = s.Layer, ["table"] = s.Table, ["symbols"] = s.Symbols, ["partitions"] = s.Partitions, ["rows"] = s.Rows,
                    ["first_month"] = s.FirstMonth?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                    ["last_month_end"] = s.LastMonthEnd?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                }).ToArray();
                await Write(responseStream, stats).ConfigureAwait(false);
                break;
            case "manifest":
                var m = body.Length == 0 ? new Protocol.ManifestRequest() : QueryCodec.Parse(body, Protocol.ManifestRequest.Parser, "manifest body");
                var q = PriceQuery.Create(m.Layer, m.Table);
                await Write(responseStream, _store.ReadManifest(q.Layer, q.Table, m.Limit > 0 ? m.Limit : 50)).ConfigureAwait(false);
                break;
            case "health":
                await Write(responseStream, new Dictionary<string, object?>
                {
                    ["status"] = "ok", ["data_dir"] = _store.Paths.DisplayRoot, ["auth"] = _tokens.Enabled,
                    ["partitions"] = _store.IndexedPartitions,
                }).ConfigureAwait(false);
                break;
            default:
                if (NotBuilt.Contains(type))
                {
                    throw new RpcException(new Status(StatusCode.Unimplemented, $"action '{type}' is not built yet"));
                }
                throw LakehouseException.Invalid(
                    $"unknown action '{request.Type}': valid actions are {string.Join(", ", ActionTypes.Select(a => a.Type))}");
        }
        ServerLog.ActionDone(_logger, type, FlightCallInterceptor.CallerOf(context).Name, sw.ElapsedMilliseconds);
    }

    private async Task IngestAsync(byte[] body, IAsyncStreamWriter<FlightResult> responseStream, CancellationToken ct)
    {
        var r = QueryCodec.Parse(body, Protocol.IngestRequest.Parser, "ingest body");
        var source = string.IsNullOrWhiteSpace(r.Source) ? SyntheticSource.Name : r.Source.Trim().ToLowerInvariant();
        if (source != SyntheticSource.Name)
        {
            throw source is "yahoo" or "csv"
                ? new RpcException(new Status(StatusCode.Unimplemented, $"source '{source}' is not built yet; use synthetic"))
                : LakehouseException.Invalid($"unknown source '{r.Source}': use one of synthetic, yahoo, csv");
        }
        var symbols = Symbols.NormalizeAll(r.Symbols);
        if (symbols.Count == 0)
        {
            throw LakehouseException.Invalid("ingest needs symbols, e.g. {\"symbols\":[\"AAPL\",\"MSFT\"]}");
        }
        var from = PriceQuery.ParseDate(r.DateFrom, "date_from") ?? throw LakehouseException.Invalid("ingest needs date_from (YYYY-MM-DD)");
        var to = PriceQuery.ParseDate(r.DateTo, "date_to") ?? throw LakehouseException.Invalid("ingest needs date_to (YYYY-MM-DD)");
        if (from > to)
        {
            throw LakehouseException.Invalid($"date_from {from:yyyy-MM-dd} is after date_to {to:yyyy-MM-dd}");
        }
        var promote = r.Promote || !PromoteGivenInJson(body);
        var seed = r.Seed == 0 ? 42 : r.Seed;
        var runId = PriceStore.NewRunId();
        var reports = new List<StorageReport>();
        long rows = 0;
        for (var i = 0; i < symbols.Count; i += IngestChunk)
        {
            ct.ThrowIfCancellationRequested();
            var chunk = symbols.Skip(i).Take(IngestChunk).ToArray();
            var bars = SyntheticSource.Generate(chunk, from, to, seed);
            reports.AddRange(await _store.LandAsync(bars, source, promote, runId, ct).ConfigureAwait(false));
            rows += bars.Count;
            await Write(responseStream, new Dictionary<string, object>
            {
                ["progress"] = new Dictionary<string, object>
                {
                    ["action"] = "ingest", ["symbols_done"] = Math.Min(i + IngestChunk, symbols.Count), ["symbols_total"] = symbols.Count, ["rows"] = rows,
                },
            }).ConfigureAwait(false);
        }
        // Bronze reports first, then silver, as LandAsync orders them.
        await Write(responseStream, reports.OrderBy(x => x.Layer == "silver").ToArray()).ConfigureAwait(false);
    }

    /// <summary>proto3 cannot tell a false bool from an absent one; in JSON an absent "promote" means true.</summary>
    private static bool PromoteGivenInJson(byte[] body)
    {
        if (body.Length == 0 || body.AsSpan().TrimStart(" \t\r\n"u8).IndexOf((byte)'{') != 0)
        {
            return true;
        }
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.TryGetProperty("promote", out _);
    }

    private static Task Write<T>(IAsyncStreamWriter<FlightResult> stream, T value) =>
        stream.WriteAsync(new FlightResult(JsonSerializer.SerializeToUtf8Bytes(value, StorageReport.JsonOptions)));
}
