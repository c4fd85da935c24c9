using System.CommandLine;
using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion.Legacy;

namespace Lakehouse.Flight.Cli;

/// <summary><c>lakehouse migrate</c>: the prototype's single file into bronze and silver, verified; see <see cref="LegacyMigration"/>.</summary>
internal static class MigrateCommand
{
    private const long MigrationCacheBytes = 64L << 20;

    public static CliCommand Create(CliIo io)
    {
        var dataDir = CommonOptions.DataDir();
        var json = CommonOptions.Json();
        var from = new Option<string>("--from") { Description = "The legacy file", HelpName = "data/prices_daily.parquet", Required = true };
        var manifest = new Option<string?>("--legacy-manifest")
        {
            Description = "The legacy manifest (default: _manifests/prices_ingestion.jsonl beside --from)", HelpName = "FILE",
        };
        var source = new Option<string?>("--source") { Description = "Bronze source of every row (default: the file's source column, else legacy)", HelpName = "NAME" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Read and report what would change; write nothing" };
        var chunk = new Option<int>("--chunk-symbols") { Description = "Symbols per atomic commit", HelpName = "N", DefaultValueFactory = _ => 50 };
        var command = new Command("migrate",
            "Move the legacy single-file store into the lake: bronze (source legacy) and silver, a commit per chunk of symbols; "
            + "duplicates and invalid rows counted with reasons; verified per symbol (rows and value checksums). Safe to rerun: "
            + "a second run changes nothing, and a run killed halfway resumes.")
        {
            dataDir, from, manifest, source, dryRun, chunk, json,
        };
        command.SetAction((parse, ct) => RunAsync(io,
            new LegacyMigrationRequest(parse.GetValue(from)!, parse.GetValue(manifest), parse.GetValue(source), parse.GetValue(dryRun))
            {
                ChunkSymbols = parse.GetValue(chunk),
            },
            parse.GetValue(json), CommonOptions.DataDirOf(parse, dataDir), ct));
        return new CliCommand(command,
            "lakehouse migrate --from data/prices_daily.parquet --dry-run",
            "lakehouse migrate --from data/prices_daily.parquet --legacy-manifest data/_manifests/prices_ingestion.jsonl",
            "lakehouse migrate --from old/prices_daily.parquet --source yfinance --json");
    }

    private static async Task<int> RunAsync(CliIo io, LegacyMigrationRequest request, bool json, string dataDir, CancellationToken cancellationToken)
    {
        // A migration reads each partition back once: the store's read cache (2 GB by default, for a
        // server's hot reads) would only grow with the lake, so it gets a small cap here.
        var migration = new LegacyMigration(Storage.PriceStore.Open(new Storage.StoreOptions { DataDir = dataDir, CacheBytes = MigrationCacheBytes }));
        var result = await CliProgress.RunAsync(io, json, "migrate", progress =>
            migration.RunAsync(request, new Relay(progress), cancellationToken),
            plain: json ? null : s => io.Err.WriteLine(s.Label)).ConfigureAwait(false);
        if (json)
        {
            foreach (var r in result.Reports)
            {
                await io.Out.WriteLineAsync(r.ToJson()).ConfigureAwait(false);
            }
            await io.Out.WriteLineAsync(JsonSerializer.Serialize(new { migration = result }, StorageReport.JsonOptions)).ConfigureAwait(false);
        }
        else
        {
            Summary(io.Out, result);
        }
        if (!result.Verified)
        {
            await io.Err.WriteLineAsync($"error: verification failed for {result.Verification.Count(v => !v.Ok)} symbol(s): silver does not hold what the legacy file holds")
                .ConfigureAwait(false);
            return 1;
        }
        return 0;
    }

    internal static void Summary(TextWriter w, MigrationResult r)
    {
        w.WriteLine($"{(r.DryRun ? "dry run (nothing written): " : "")}read {r.RowsRead:N0} row(s) of {r.Symbols} symbol(s) from {r.From}");
        if (r.IgnoredColumns.Count > 0)
        {
            w.WriteLine($"  ignored columns: {string.Join(", ", r.IgnoredColumns)}");
        }
        w.WriteLine($"  {(r.DryRun ? "would migrate" : "migrated")} {r.RowsMigrated:N0} row(s): silver inserted {r.Inserted:N0}, updated {r.Updated:N0}, unchanged {r.Unchanged:N0}");
        w.WriteLine($"  duplicate keys: {r.Duplicates:N0} (the later row in the file wins)");
        w.WriteLine($"  invalid rows: {r.Invalid:N0}{(r.Invalid == 0 ? "" : " (" + string.Join(", ", r.InvalidByReason.Select(kv => $"{kv.Key}: {kv.Value:N0}")) + ")")}");
        foreach (var e in r.Examples)
        {
            w.WriteLine($"    {e}");
        }
        var m = r.Manifest;
        w.WriteLine(m.From is null || !File.Exists(m.From)
            ? "  legacy manifest: none found"
            : $"  legacy manifest: {(r.DryRun ? "would copy" : "copied")} {m.Copied} line(s) to {m.To}, {m.AlreadyThere} already there"
              + (m.BadLines > 0 ? $", {m.BadLines} unreadable line(s) left out" : "")
              + (m.TornLastLine ? ", a torn last line left out" : ""));
        if (r.DryRun)
        {
            return;
        }
        w.WriteLine();
        w.WriteLine($"{"symbol",-12} {"legacy rows",12} {"silver rows",12} {"legacy checksum",-17} {"silver checksum",-17} check");
        foreach (var v in r.Verification)
        {
            w.WriteLine($"{v.Symbol,-12} {v.LegacyRows,12} {v.SilverRows,12} {v.LegacyChecksum,-17} {v.SilverChecksum,-17} {(v.Ok ? "ok" : "MISMATCH")}");
        }
        w.WriteLine(r.Verified
            ? $"verified: {r.Verification.Count} symbol(s), {r.Verification.Sum(v => v.SilverRows):N0} row(s) match the legacy file"
            : $"verification FAILED for {r.Verification.Count(v => !v.Ok)} symbol(s)");
    }

    private sealed class Relay(IProgress<ProgressStep> to) : IProgress<MigrationProgress>
    {
        public void Report(MigrationProgress value) => to.Report(value.Phase == "scan"
            ? new ProgressStep($"migrate: scanning row group {value.Done}/{value.Total}", value.Done, value.Total)
            : new ProgressStep($"migrate: {value.Done}/{value.Total} symbol(s), {value.Rows:N0} rows", value.Done, value.Total));
    }
}
