using System.Text.Json;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// One contract per result the server writes: the JSON a real server sends carries exactly the names of
/// docs and DESIGN.md, and the SDK's <see cref="WireJson"/> reads the same values back.
/// </summary>
public sealed class WireContractTests : IAsyncLifetime
{
    private static readonly DateOnly From = new(2024, 1, 1);
    private static readonly DateOnly To = new(2024, 1, 31);
    private static readonly IReadOnlyList<PriceBar> Bars = SyntheticBars.Generate(["AAPL", "MSFT"], From, To);

    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        using var client = _server.Client();
        await client.UploadAsync(Bars, "vendor_x", promote: true).DefaultTimeout();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task PlanEntry_FlightInfoMetadata_HasSymbolRowsFiles()
    {
        var info = await _server.Raw.GetInfo(FlightDescriptor.CreatePathDescriptor("silver", "prices_daily")).ResponseAsync.DefaultTimeout();
        var json = info.AppMetadata.ToByteArray();

        using var doc = JsonDocument.Parse(json);
        Assert.All(doc.RootElement.EnumerateArray(), e => Assert.Equal(["symbol", "rows", "files"], Names(e)));
        var plan = JsonSerializer.Deserialize(json, WireJson.Default.IReadOnlyListPlanEntry)!;
        Assert.Equal(
            [("AAPL", (long)Bars.Count(b => b.Symbol == "AAPL")), ("MSFT", (long)Bars.Count(b => b.Symbol == "MSFT"))],
            plan.Select(p => (p.Symbol, p.Rows)));
        Assert.All(plan, p => Assert.True(p.Files > 0));
    }

    [Fact]
    public async Task StorageReport_ManifestAction_HasDesignNamesAndUtcMilliseconds()
    {
        var result = Assert.Single(await ActionAsync("manifest", """{"layer":"silver","table":"prices_daily"}"""));

        using var doc = JsonDocument.Parse(result);
        var line = doc.RootElement[0];
        Assert.Equal(
            ["run_id", "ts", "engine", "source", "layer", "table", "location", "symbol", "date_from", "date_to", "rows", "inserted", "updated",
                "unchanged", "rejected", "duration_ms", "version"],
            Names(line));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", line.GetProperty("ts").GetString());
        var reports = JsonSerializer.Deserialize(result, WireJson.Default.IReadOnlyListStorageReport)!;
        Assert.Equal(["AAPL", "MSFT"], reports.Select(r => r.Symbol));
        Assert.All(reports, r => Assert.Equal(("silver", "prices_daily", "vendor_x"), (r.Layer, r.Table, r.Source)));
        Assert.Equal(Bars.Count, reports.Sum(r => r.Inserted));
        Assert.Equal(line.GetProperty("run_id").GetString(), reports[0].RunId);
        Assert.Equal(DateTimeOffset.Parse(line.GetProperty("ts").GetString()!, System.Globalization.CultureInfo.InvariantCulture), reports[0].Ts);
    }

    [Fact]
    public async Task ProgressMessage_Ingest_NamesTheJobAndCounts()
    {
        var results = await ActionAsync("ingest", """{"symbols":["NVDA","AMD"],"date_from":"2024-01-01","date_to":"2024-01-31"}""");

        using var first = JsonDocument.Parse(results[0]);
        Assert.Equal(["progress"], Names(first.RootElement));
        Assert.Equal(["action", "job_id", "symbols_done", "symbols_total", "rows", "failed"], Names(first.RootElement.GetProperty("progress")));
        var progress = JsonSerializer.Deserialize(results[0], WireJson.Default.ProgressMessage)!.Progress!;
        var expectedRows = SyntheticBars.Generate(["NVDA", "AMD"], From, To, 42).Count;
        Assert.Equal(("ingest", 2, 2, (long)expectedRows, 0), (progress.Action, progress.SymbolsDone, progress.SymbolsTotal, progress.Rows, progress.Failed));
        Assert.Null(progress.Phase);
        var job = _server.Server.Services.GetService(typeof(Server.Jobs.JobService)) as Server.Jobs.JobService;
        Assert.Equal(Server.Jobs.JobStates.Succeeded, job!.Find(progress.JobId!)!.Status.State);
        var reports = JsonSerializer.Deserialize(results[^1], WireJson.Default.IReadOnlyListStorageReport)!;
        Assert.Equal(expectedRows, reports.Where(r => r.Layer == "silver").Sum(r => r.Inserted));
    }

    [Fact]
    public async Task JobStatus_HttpAndJobFile_HaveTheRequestStateAndReports()
    {
        var results = await ActionAsync("ingest", """{"symbols":["IBM"],"date_from":"2024-01-01","date_to":"2024-01-31"}""");
        var jobId = JsonSerializer.Deserialize(results[0], WireJson.Default.ProgressMessage)!.Progress!.JobId!;
        using var http = new HttpClient { BaseAddress = _server.Server.HttpEndpoint, Timeout = TestTimeouts.Default };

        var json = await http.GetByteArrayAsync(new Uri($"/prices/jobs/{jobId}", UriKind.Relative)).DefaultTimeout();

        using var doc = JsonDocument.Parse(json);
        Assert.Equal(
            ["job_id", "kind", "state", "source", "symbols", "date_from", "date_to", "promote", "seed", "created_at", "started_at", "finished_at",
                "error", "reports", "failed", "progress"],
            Names(doc.RootElement));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("failed").ValueKind);
        var job = JsonSerializer.Deserialize(json, WireJson.Default.JobStatus)!;
        Assert.Equal((jobId, "ingest", "succeeded", "synthetic", "2024-01-01", "2024-01-31"), (job.Id, job.Kind, job.State, job.Source, job.DateFrom, job.DateTo));
        Assert.Equal(["IBM"], job.Symbols);
        Assert.Equal([("bronze", "IBM"), ("silver", "IBM")], job.Reports!.Select(r => (r.Layer, r.Symbol)).Order());
        Assert.Equal((1, 1), (job.Progress!.SymbolsDone, job.Progress.SymbolsTotal));
        Assert.True(job.FinishedAt >= job.StartedAt);
        var file = JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(_server.DataDir, "_metadata", "jobs", jobId + ".json")), WireJson.Default.JobStatus)!;
        Assert.Equal((job.Id, job.State, job.FinishedAt), (file.Id, file.State, file.FinishedAt));
        Assert.Equal(job.Reports, file.Reports);
    }

    [Fact]
    public async Task ProgressMessage_BuildGold_HasSymbolCountsOnly()
    {
        var results = await ActionAsync("build-gold", """{"symbols":["AAPL","MSFT"]}""");

        using var first = JsonDocument.Parse(results[0]);
        Assert.Equal(["action", "symbols_done", "symbols_total"], Names(first.RootElement.GetProperty("progress")));
        var progress = JsonSerializer.Deserialize(results[^2], WireJson.Default.ProgressMessage)!.Progress!;
        Assert.Equal(("build-gold", 2, 2), (progress.Action, progress.SymbolsDone, progress.SymbolsTotal));
        Assert.Equal((null, null, null), (progress.JobId, progress.Rows, progress.Failed));
        var reports = JsonSerializer.Deserialize(results[^1], WireJson.Default.IReadOnlyListStorageReport)!;
        Assert.Equal(["daily_metrics", "prices_monthly"], reports.Select(r => r.Table).Distinct().Order());
        Assert.All(reports, r => Assert.Equal("gold", r.Layer));
    }

    [Fact]
    public void ProgressMessage_MigrateLegacy_HasPhaseAndCounts()
    {
        var message = new ProgressMessage(new ActionProgress { Action = "migrate-legacy", Phase = "scan", Done = 3, Total = 8, Rows = 1200 });

        var json = JsonSerializer.Serialize(message, WireJson.Default.ProgressMessage);

        Assert.Equal("""{"progress":{"action":"migrate-legacy","phase":"scan","done":3,"total":8,"rows":1200}}""", json);
        Assert.Equal(message.Progress, JsonSerializer.Deserialize(json, WireJson.Default.ProgressMessage)!.Progress);
    }

    [Fact]
    public void FailedSymbols_ListsSymbolAndError()
    {
        var failed = new FailedSymbols([new FailedSymbol("ZZZZ", "no data for ZZZZ"), new FailedSymbol("QQQ", "timeout")]);

        var json = JsonSerializer.Serialize(failed, WireJson.Default.FailedSymbols);

        Assert.Equal("""{"failed":[{"symbol":"ZZZZ","error":"no data for ZZZZ"},{"symbol":"QQQ","error":"timeout"}]}""", json);
        Assert.Equal(failed.Failed, JsonSerializer.Deserialize(json, WireJson.Default.FailedSymbols)!.Failed);
    }

    [Fact]
    public void MigrateLegacyResult_HasReportsAndTheMigration()
    {
        var report = new StorageReport { RunId = "r1", Layer = "silver", Table = "prices_daily", Symbol = "AAPL", Rows = 5, Inserted = 5, Ts = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero) };
        var migration = new MigrationResult
        {
            RunId = "r1", From = "prices_daily.parquet", Symbols = 1, RowsRead = 7, RowsMigrated = 5, Duplicates = 1, Invalid = 1,
            InvalidByReason = new Dictionary<string, long> { ["high < low"] = 1 },
            Manifest = new ManifestCopyResult("_manifests/prices_ingestion.jsonl", "legacy_prices_ingestion.jsonl", 2, 0, 0, false),
            Verification = [new SymbolCheck("AAPL", 5, "ab", 5, "ab")],
        };

        var json = JsonSerializer.Serialize(new MigrateLegacyResult([report], migration), WireJson.Default.MigrateLegacyResult);

        using var doc = JsonDocument.Parse(json);
        Assert.Equal(["reports", "migration"], Names(doc.RootElement));
        Assert.Equal(
            ["run_id", "dry_run", "from", "symbols", "rows_read", "rows_migrated", "duplicates", "invalid", "invalid_by_reason", "examples",
                "ignored_columns", "inserted", "updated", "unchanged", "manifest", "verified", "verification"],
            Names(doc.RootElement.GetProperty("migration")));
        Assert.Equal("2026-12-01T10:00:00.000Z", doc.RootElement.GetProperty("reports")[0].GetProperty("ts").GetString());
        Assert.True(doc.RootElement.GetProperty("migration").GetProperty("verified").GetBoolean());
        var back = JsonSerializer.Deserialize(json, WireJson.Default.MigrateLegacyResult)!;
        Assert.Equal(report, Assert.Single(back.Reports) with { RejectReasons = null });
        Assert.Equal((7L, 5L, 1L, 1L), (back.Migration.RowsRead, back.Migration.RowsMigrated, back.Migration.Duplicates, back.Migration.Invalid));
        Assert.Equal(1, back.Migration.InvalidByReason["high < low"]);
        Assert.Equal(migration.Manifest, back.Migration.Manifest);
        Assert.Equal(migration.Verification, back.Migration.Verification);
    }

    [Fact]
    public async Task PutAcknowledgement_NoWaitUpload_NamesTheRunToFollow()
    {
        var bars = SyntheticBars.Generate(["TSLA"], From, To, 3);
        var command = JsonSerializer.Serialize(new UploadCommandBody(PriceTables.PricesDaily, "vendor_y", Promote: true, Wait: false), WireJson.Default.UploadCommandBody);
        var call = await _server.Raw.StartPut(FlightDescriptor.CreateCommandDescriptor(command), PriceTables.SilverSchema).DefaultTimeout();
        await call.RequestStream.WriteAsync(PriceBarBatches.ToBatch(bars)).DefaultTimeout();
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        var results = new List<byte[]>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            results.Add(call.ResponseStream.Current.ApplicationMetadata.ToByteArray());
        }
        call.Dispose();

        using var doc = JsonDocument.Parse(Assert.Single(results));
        Assert.Equal(["run_id", "state", "applied", "visible", "rows", "symbols", "tables", "follow"], Names(doc.RootElement));
        var ack = JsonSerializer.Deserialize(results[0], WireJson.Default.PutAcknowledgement)!;
        Assert.Equal((bars.Count, 1), ((int)ack.Rows, ack.Symbols));
        Assert.Contains(ack.State, new[] { "durable", "applied" });
        Assert.Contains(ack.RunId, ack.Follow, StringComparison.Ordinal);
        Assert.NotEmpty(ack.Tables);
    }

    [Fact]
    public async Task UploadStatusResult_AfterNoWaitUpload_IsAppliedWithReportsAndNullError()
    {
        using var client = _server.Client();
        var bars = SyntheticBars.Generate(["ORCL"], From, To, 5);
        var ack = await client.SubmitUploadAsync(PriceTables.SilverSchema, [PriceBarBatches.ToBatch(bars)], "vendor_z", promote: true).DefaultTimeout();

        var result = Assert.Single(await ActionAsync("upload-status",
            JsonSerializer.Serialize(new UploadStatusBody(ack.RunId, Wait: true), WireJson.Default.UploadStatusBody)));

        using var doc = JsonDocument.Parse(result);
        Assert.Equal(["run_id", "state", "rows", "error", "reports"], Names(doc.RootElement));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("error").ValueKind);
        var status = JsonSerializer.Deserialize(result, WireJson.Default.UploadStatusResult)!;
        Assert.Equal((ack.RunId, "applied", (long)bars.Count, (string?)null), (status.RunId, status.State, status.Rows, status.Error));
        Assert.Equal([("bronze", "ORCL"), ("silver", "ORCL")], status.Reports.Select(r => (r.Layer, r.Symbol)).Order());
    }

    [Fact]
    public async Task TableStats_StatsAction_CountsEachTableWithIsoDatesOrNull()
    {
        var result = Assert.Single(await ActionAsync("stats", ""));

        using var doc = JsonDocument.Parse(result);
        Assert.All(doc.RootElement.EnumerateArray(), e => Assert.Equal(
            ["layer", "table", "symbols", "files", "rows", "first_date", "last_date", "bytes", "version"], Names(e)));
        var stats = JsonSerializer.Deserialize(result, WireJson.Default.IReadOnlyListTableStats)!;
        var silver = Assert.Single(stats, s => s is { Layer: "silver", Table: "prices_daily" });
        Assert.Equal((2, (long)Bars.Count), (silver.Symbols, silver.Rows));
        Assert.Equal((Day(Bars.Min(b => b.Date)), Day(Bars.Max(b => b.Date))), (silver.FirstDate, silver.LastDate));
        Assert.True(silver.Bytes > 0);
        // The upload brought no dividends or splits: an empty table, whose dates are JSON null.
        var actions = Assert.Single(stats, s => s is { Layer: "silver", Table: "corporate_actions" });
        Assert.Equal((0L, (string?)null, (string?)null), (actions.Rows, actions.FirstDate, actions.LastDate));
        var actionsJson = doc.RootElement.EnumerateArray().Single(e => e.GetProperty("table").GetString() == "corporate_actions");
        Assert.Equal(JsonValueKind.Null, actionsJson.GetProperty("first_date").ValueKind);
    }

    [Fact]
    public async Task HealthReport_FlightAction_HasLakeDataDirAuthAndUploads()
    {
        var result = Assert.Single(await ActionAsync("health", ""));

        using var doc = JsonDocument.Parse(result);
        Assert.Equal(["status", "state", "version", "files", "data_dir", "auth", "uploads_pending", "uploads_buffered_bytes"], Names(doc.RootElement));
        var health = JsonSerializer.Deserialize(result, WireJson.Default.HealthReport)!;
        Assert.Equal(("ok", "ok", false, 0), (health.Status, health.State, health.Auth, health.UploadsPending));
        Assert.Equal(_server.Server.Store.Version, health.Version);
        Assert.Equal(_server.Server.Store.DataFiles, health.Files);
        Assert.Null(health.Loading);
        Assert.Null(health.Datasets);
    }

    [Fact]
    public async Task HealthReport_Http_HasDatasetsWithSymbolCounts()
    {
        using var http = new HttpClient { BaseAddress = _server.Server.HttpEndpoint, Timeout = TestTimeouts.Default };

        var json = await http.GetByteArrayAsync(new Uri("/health", UriKind.Relative)).DefaultTimeout();

        using var doc = JsonDocument.Parse(json);
        Assert.Equal(["status", "state", "version", "files", "datasets"], Names(doc.RootElement));
        Assert.All(doc.RootElement.GetProperty("datasets").EnumerateArray(), e => Assert.Equal(["layer", "table", "symbols"], Names(e)));
        var health = JsonSerializer.Deserialize(json, WireJson.Default.HealthReport)!;
        Assert.Equal(("ok", "ok"), (health.Status, health.State));
        Assert.Equal(2, Assert.Single(health.Datasets!, d => d is { Layer: "silver", Table: "prices_daily" }).Symbols);
        Assert.Equal((null, null), (health.DataDir, health.Auth));
    }

    [Fact]
    public void RequestBodies_SerializeWithTheProtoJsonNames()
    {
        Assert.Equal("""{"table":"prices_daily","source":"vendor_x","promote":true,"wait":false}""",
            JsonSerializer.Serialize(new UploadCommandBody("prices_daily", "vendor_x", true, false), WireJson.Default.UploadCommandBody));
        Assert.Equal("""{"run_id":"r-1","wait":true}""", JsonSerializer.Serialize(new UploadStatusBody("r-1", true), WireJson.Default.UploadStatusBody));
        Assert.Equal("""{"source":"synthetic","symbols":["AAPL"],"date_from":"2024-01-01","date_to":"2024-01-31","promote":true,"seed":7,"path":""}""",
            JsonSerializer.Serialize(new IngestBody("synthetic", ["AAPL"], "2024-01-01", "2024-01-31", true, 7, ""), WireJson.Default.IngestBody));
        Assert.Equal("""{"source":"","symbols":[]}""", JsonSerializer.Serialize(new PromoteBody("", []), WireJson.Default.PromoteBody));
        Assert.Equal("""{"layer":"bronze","table":"prices_daily","limit":10}""",
            JsonSerializer.Serialize(new ManifestBody("bronze", "prices_daily", 10), WireJson.Default.ManifestBody));
    }

    [Fact]
    public async Task TableVersionInfo_ListVersionsAction_HasTheListedNames()
    {
        var result = Assert.Single(await ActionAsync("list-versions", """{"symbol":"AAPL"}"""));

        using var doc = JsonDocument.Parse(result);
        var first = doc.RootElement[0];
        Assert.Equal(["version", "ts", "operation", "run_id", "sources", "inserted", "updated", "unchanged", "rejected", "files_added",
            "files_removed", "symbols", "readable"], Names(first));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", first.GetProperty("ts").GetString());
        var versions = JsonSerializer.Deserialize(result, WireJson.Default.IReadOnlyListTableVersionInfo)!;
        var upload = Assert.Single(versions);
        Assert.Equal(("write", (long)Bars.Count, true), (upload.Operation, upload.Inserted, upload.Readable));
        Assert.Equal(["vendor_x"], upload.Sources);
        Assert.Equal(["AAPL", "MSFT"], upload.Symbols.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task SnapshotInfoAndVacuumReport_Actions_HaveTheListedNames()
    {
        var created = Assert.Single(await ActionAsync("create-snapshot", """{"name":"contract","tables":["silver/prices_daily"]}"""));
        using (var doc = JsonDocument.Parse(created))
        {
            Assert.Equal(["name", "created", "version", "tables"], Names(doc.RootElement));
            Assert.Equal(["silver/prices_daily"], Names(doc.RootElement.GetProperty("tables")));
        }
        var listed = JsonSerializer.Deserialize(Assert.Single(await ActionAsync("list-snapshots", "")), WireJson.Default.IReadOnlyListSnapshotInfo)!;
        var snapshot = Assert.Single(listed);
        Assert.Equal(("contract", _server.Server.Store.LatestVersion), (snapshot.Name, snapshot.Tables["silver/prices_daily"]));

        var vacuum = Assert.Single(await ActionAsync("vacuum", ""));
        using (var doc = JsonDocument.Parse(vacuum))
        {
            Assert.Equal(["files", "bytes", "version", "pinned"], Names(doc.RootElement));
        }
        using (var doc = JsonDocument.Parse(Assert.Single(await ActionAsync("delete-snapshot", """{"name":"contract"}"""))))
        {
            Assert.Equal("contract", doc.RootElement.GetProperty("deleted").GetString());
        }
    }

    private async Task<List<byte[]>> ActionAsync(string type, string body)
    {
        using var call = _server.Raw.DoAction(new FlightAction(type, body));
        var results = new List<byte[]>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            results.Add(call.ResponseStream.Current.Body.ToByteArray());
        }
        return results;
    }

    private static string[] Names(JsonElement e) => e.EnumerateObject().Select(p => p.Name).ToArray();

    private static string Day(DateOnly d) => d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}
