using System.Diagnostics;
using System.Text.Json;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Ingestion.Gold;
using Lakehouse.Flight.Ingestion.Legacy;

namespace Lakehouse.Flight.Server.Internal;

internal sealed partial class LakehouseFlightService
{
    internal static readonly IReadOnlyList<FlightActionType> ActionTypes =
    [
        new("ingest", "Fetch bars from a source into bronze and promote them to silver (writer). Body: {\"source\":\"synthetic\",\"symbols\":[\"AAPL\"],\"date_from\":\"2024-01-01\",\"date_to\":\"2024-03-31\",\"promote\":true}. Streams {\"progress\":...} results, one per commit of up to 10 symbols (each commit atomic; a symbol that fails is listed in \"failed\" and does not stop the others); the last result is the JSON array of StorageReports."),
        new("promote", "Re-derive silver from bronze: per (symbol, date) the row landed last wins (writer). Body: {\"source\":\"vendor_x\",\"symbols\":[],\"date_from\":\"\",\"date_to\":\"\"}. Result: JSON array of StorageReports."),
        new("build-gold", "Rebuild the gold tables (prices_monthly, daily_metrics) and gold/reports/{SYMBOL}_daily_report.csv from silver (writer). Body: {\"symbols\":[\"AAPL\"]} (empty or no body = every silver symbol). Only year files and reports whose content changed are rewritten. Streams {\"progress\":...} results, one per commit of up to 10 symbols; the last result is the JSON array of StorageReports (gold layer; unchanged rows counted as unchanged)."),
        new("migrate-legacy", "Move the prototype's single file into bronze (source legacy) and silver, a commit per chunk of symbols (writer). Body: {\"from\":\"prices_daily.parquet\",\"source\":\"\",\"dry_run\":false} (a server file under Lakehouse:ImportRoots, default the data dir's import/ folder; relative names are taken there). Streams {\"progress\":...} results; the last result is {\"reports\":[StorageReports],\"migration\":{counts, duplicates, invalid rows with reasons, manifest copy, per-symbol verification}}. Rerunning changes nothing; a run cut short resumes."),
        new("upload-status", "Where an upload acknowledged with {\"wait\":false} stands (reader). Body: {\"run_id\":\"...\",\"wait\":true} (wait blocks until it is applied). Result: {\"run_id\",\"state\":\"pending|applying|applied|failed\",\"rows\",\"error\",\"reports\":[StorageReports committed so far]}."),
        new("stats", "Symbols, partitions, rows and date span of each table. No body. Result: JSON array."),
        new("manifest", "Recent manifest lines. Body: {\"layer\":\"silver\",\"table\":\"prices_daily\",\"limit\":50}. Result: JSON array of StorageReports, oldest first."),
        new("health", "Liveness, readiness and the data dir; answered at once, also during start-up. No body. Result: JSON object with status \"ok\" and state \"ok\", or \"warming\" with \"loading\" (index, cache) while the partition index is listed and the cache warmed."),
    ];


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
        var caller = FlightCallInterceptor.CallerOf(context);
        var type = (request.Type ?? "").Trim().ToLowerInvariant();
        var body = request.Body.ToByteArray();
        if (type != "health" && !_store.IsReady)
        {
            // The ready gate (D25): every action but health needs the whole index.
            await _store.Ready.WaitAsync(ct).ConfigureAwait(false);
        }
        switch (type)
        {
            case "ingest":
                caller.RequireWriter("the ingest action");
                await IngestAsync(body, responseStream, ct).ConfigureAwait(false);
                break;
            case "migrate-legacy":
                caller.RequireWriter("the migrate-legacy action");
                await MigrateLegacyAsync(body, responseStream, ct).ConfigureAwait(false);
                break;
            case "promote":
                caller.RequireWriter("the promote action");
                var p = body.Length == 0 ? new Protocol.PromoteRequest() : QueryCodec.Parse(body, Protocol.PromoteRequest.Parser, "promote body");
                var promoteFrom = PriceQuery.ParseDate(p.DateFrom, "date_from");
                var promoteTo = PriceQuery.ParseDate(p.DateTo, "date_to");
                LakeDates.CheckRange(promoteFrom, promoteTo);
                var reports = await promoter.PromoteAsync(p.Source, Symbols.NormalizeAll(p.Symbols),
                    promoteFrom, promoteTo, cancellationToken: ct).ConfigureAwait(false);
                await Write(responseStream, reports).ConfigureAwait(false);
                break;
            case "build-gold":
                caller.RequireWriter("the build-gold action");
                await BuildGoldAsync(body, responseStream, ct).ConfigureAwait(false);
                break;
            case "upload-status":
                var u = body.Length == 0
                    ? throw LakehouseException.Invalid("upload-status needs a body such as {\"run_id\":\"20261201T101500123-1a2b3c4d\",\"wait\":true}")
                    : QueryCodec.Parse(body, Protocol.UploadStatusRequest.Parser, "upload-status body");
                if (string.IsNullOrWhiteSpace(u.RunId))
                {
                    throw LakehouseException.Invalid("upload-status needs the run_id the DoPut acknowledgement named");
                }
                var status = u.Wait
                    ? await _store.WaitForUploadAsync(u.RunId.Trim(), ct).ConfigureAwait(false)
                    : _store.UploadStatusOf(u.RunId.Trim()) ?? throw new LakehouseException(LakehouseErrorKind.NotFound, $"no upload with run id '{u.RunId.Trim()}' in this lake");
                await Write(responseStream, new Dictionary<string, object?>
                {
                    ["run_id"] = status.RunId, ["state"] = status.State, ["rows"] = status.Rows, ["error"] = status.Error, ["reports"] = status.Reports,
                }).ConfigureAwait(false);
                break;
            case "stats":
                var stats = _store.Catalog.Tables.Select(t => _store.Stats(t, ct)).Select(s => new Dictionary<string, object?>
                {
                    ["layer"] = s.Layer, ["table"] = s.Table, ["symbols"] = s.Symbols, ["files"] = s.Files, ["rows"] = s.Rows,
                    ["first_date"] = s.FirstDate?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                    ["last_date"] = s.LastDate?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                    ["bytes"] = s.Bytes, ["version"] = s.Version,
                }).ToArray();
                await Write(responseStream, stats).ConfigureAwait(false);
                break;
            case "manifest":
                var m = body.Length == 0 ? new Protocol.ManifestRequest() : QueryCodec.Parse(body, Protocol.ManifestRequest.Parser, "manifest body");
                var q = PriceQuery.Create(m.Layer, m.Table);
                var table = _store.Catalog.Get(q.Layer, q.Table);
                await Write(responseStream, _store.ReadManifest(table, m.Limit > 0 ? m.Limit : 50)).ConfigureAwait(false);
                break;
            case "health":
                var health = new Dictionary<string, object?>();
                // Every Flight call is authenticated (the interceptor), so the lake's figures go with it.
                _startup.Describe(health);
                _startup.DescribeLake(health);
                health["data_dir"] = _store.Paths.DisplayRoot;
                health["auth"] = _tokens.Enabled;
                health["uploads_pending"] = _store.PendingUploads;
                health["uploads_buffered_bytes"] = _store.PendingUploadBytes;
                await Write(responseStream, health).ConfigureAwait(false);
                break;
            default:
                throw LakehouseException.Invalid(
                    $"unknown action '{request.Type}': valid actions are {string.Join(", ", ActionTypes.Select(a => a.Type))}");
        }
        ServerLog.ActionDone(_logger, type, caller.Name, sw.ElapsedMilliseconds);
    }

    private async Task IngestAsync(byte[] body, IAsyncStreamWriter<FlightResult> responseStream, CancellationToken ct)
    {
        var r = QueryCodec.Parse(body, Protocol.IngestRequest.Parser, "ingest body");
        var symbols = Symbols.NormalizeAll(r.Symbols);
        var request = new IngestRequest(
            string.IsNullOrWhiteSpace(r.Source) ? SyntheticSource.Name : r.Source.Trim().ToLowerInvariant(),
            symbols,
            PriceQuery.ParseDate(r.DateFrom, "date_from"),
            PriceQuery.ParseDate(r.DateTo, "date_to"),
            Promote: r.Promote || !PromoteGivenInJson(body),
            // A server-side CSV file or folder: only under the import roots.
            Path: string.IsNullOrWhiteSpace(r.Path) ? null : imports.Resolve(r.Path, "path"),
            Seed: r.Seed == 0 ? 42 : r.Seed);
        if (symbols.Count == 0 && request.Path is null)
        {
            throw LakehouseException.Invalid("ingest needs symbols, e.g. {\"symbols\":[\"AAPL\",\"MSFT\"]}");
        }
        runner.Source(request.Source);
        // Through the job service, not inline: the same bounded queue (full = ResourceExhausted), the same
        // per-symbol exclusion and a persisted record as HTTP jobs. The call streams its own job's progress.
        var updates = System.Threading.Channels.Channel.CreateUnbounded<IngestionProgress>();
        var ticket = jobs.EnqueueIngest(request, new Progress(updates.Writer));
        var id = ticket.Record.Id;
        _ = ticket.Completion.ContinueWith(_ => updates.Writer.TryComplete(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        // A caller that goes away cancels its job (it stops between commits): nobody is left to read the result.
        await using (ct.Register(() => jobs.Cancel(id)).ConfigureAwait(false))
        {
            await foreach (var update in updates.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                await Write(responseStream, new Dictionary<string, object>
                {
                    ["progress"] = new Dictionary<string, object>
                    {
                        ["action"] = "ingest", ["job_id"] = id, ["symbols_done"] = update.SymbolsDone, ["symbols_total"] = update.SymbolsTotal,
                        ["rows"] = update.Rows, ["failed"] = update.Failed,
                    },
                }).ConfigureAwait(false);
            }
            var failure = await ticket.Completion.ConfigureAwait(false);
            if (failure is not null)
            {
                // The job's own exception keeps its kind (an unknown source stays InvalidArgument).
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }
        }
        var record = Jobs.JobRecord.FromJson(ticket.Record.ToJson())!;
        if (record.State == Jobs.JobStates.Cancelled)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, $"job {id}: {record.Error}"));
        }
        var result = new IngestResult(id, record.Reports ?? [], record.Failed ?? []);
        if (record.State == Jobs.JobStates.Failed && result.Failures.Count == 0)
        {
            throw new LakehouseException(LakehouseErrorKind.Unavailable, $"job {id}: {record.Error}");
        }
        if (result.Failures.Count > 0 && result.Reports.Count == 0)
        {
            throw new LakehouseException(LakehouseErrorKind.Unavailable,
                "no symbol could be ingested: " + string.Join("; ", result.Failures.Take(10).Select(f => $"{f.Symbol}: {f.Error}")));
        }
        if (result.Failures.Count > 0)
        {
            await Write(responseStream, new Dictionary<string, object>
            {
                ["failed"] = result.Failures.Select(f => new Dictionary<string, string> { ["symbol"] = f.Symbol, ["error"] = f.Error }).ToArray(),
            }).ConfigureAwait(false);
        }
        await Write(responseStream, result.Reports).ConfigureAwait(false);
    }

    private async Task BuildGoldAsync(byte[] body, IAsyncStreamWriter<FlightResult> responseStream, CancellationToken ct)
    {
        var r = body.Length == 0 ? new Protocol.BuildGoldRequest() : QueryCodec.Parse(body, Protocol.BuildGoldRequest.Parser, "build-gold body");
        var symbols = Symbols.NormalizeAll(r.Symbols);
        var updates = System.Threading.Channels.Channel.CreateUnbounded<GoldProgress>();
        var run = Task.Run(async () =>
        {
            try
            {
                return await gold.BuildAsync(symbols, new ChannelProgress<GoldProgress>(updates.Writer), cancellationToken: ct).ConfigureAwait(false);
            }
            finally
            {
                updates.Writer.TryComplete();
            }
        }, ct);
        await foreach (var update in updates.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            await Write(responseStream, new Dictionary<string, object>
            {
                ["progress"] = new Dictionary<string, object>
                {
                    ["action"] = "build-gold", ["symbols_done"] = update.SymbolsDone, ["symbols_total"] = update.SymbolsTotal,
                },
            }).ConfigureAwait(false);
        }
        var result = await run.ConfigureAwait(false);
        await Write(responseStream, result.Reports).ConfigureAwait(false);
    }

    private async Task MigrateLegacyAsync(byte[] body, IAsyncStreamWriter<FlightResult> responseStream, CancellationToken ct)
    {
        var r = QueryCodec.Parse(body, Protocol.MigrateLegacyRequest.Parser, "migrate-legacy body");
        if (string.IsNullOrWhiteSpace(r.From))
        {
            throw LakehouseException.Invalid("migrate-legacy needs the legacy file, e.g. {\"from\":\"data/prices_daily.parquet\"}");
        }
        // Server files only under the import roots (the manifest beside the file too: _manifests/ may be a link out).
        var from = imports.Resolve(r.From, "from");
        var manifest = imports.Resolve(string.IsNullOrWhiteSpace(r.LegacyManifest) ? LegacyMigration.DefaultManifestFor(from) : r.LegacyManifest, "legacy_manifest");
        var request = new LegacyMigrationRequest(from, manifest, string.IsNullOrWhiteSpace(r.Source) ? null : r.Source, r.DryRun)
        {
            FromDisplay = r.From.Trim(),
        };
        var updates = System.Threading.Channels.Channel.CreateUnbounded<MigrationProgress>();
        var run = Task.Run(async () =>
        {
            try
            {
                return await migration.RunAsync(request, new ChannelProgress<MigrationProgress>(updates.Writer), ct).ConfigureAwait(false);
            }
            finally
            {
                updates.Writer.TryComplete();
            }
        }, ct);
        await foreach (var update in updates.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            await Write(responseStream, new Dictionary<string, object>
            {
                ["progress"] = new Dictionary<string, object>
                {
                    ["action"] = "migrate-legacy", ["phase"] = update.Phase, ["done"] = update.Done, ["total"] = update.Total, ["rows"] = update.Rows,
                },
            }).ConfigureAwait(false);
        }
        var result = await run.ConfigureAwait(false);
        await Write(responseStream, new Dictionary<string, object> { ["reports"] = result.Reports, ["migration"] = result }).ConfigureAwait(false);
    }

    /// <summary>IProgress without a SynchronizationContext hop: straight into the channel the call drains.</summary>
    private sealed class ChannelProgress<T>(System.Threading.Channels.ChannelWriter<T> writer) : IProgress<T>
    {
        public void Report(T value) => writer.TryWrite(value);
    }

    /// <summary>IProgress without a SynchronizationContext hop: straight into the channel the call drains.</summary>
    private sealed class Progress(System.Threading.Channels.ChannelWriter<IngestionProgress> writer) : IProgress<IngestionProgress>
    {
        public void Report(IngestionProgress value) => writer.TryWrite(value);
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
