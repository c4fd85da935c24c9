using System.CommandLine;
using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion.Legacy;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli;

/// <summary>
/// <c>lakehouse migrate</c>: <c>--from FILE</c> moves the prototype's single file into bronze and silver, verified (see
/// <see cref="LegacyMigration"/>); <c>--layout lake</c> moves a data dir in the seed layout (month files, written by earlier
/// versions) into the current layout in place, verified (see <see cref="LakeStore.MigrateSeedAsync"/>).
/// </summary>
internal static class MigrateCommand
{
    private const long MigrationCacheBytes = 64L << 20;

    /// <summary>
    /// A layout migration verifies symbol by symbol what the lake reads, and a symbol's rows share row groups with its
    /// neighbours': a cache that holds one row group of every band decodes each once.
    /// </summary>
    private const long LayoutCacheBytes = 512L << 20;

    public static CliCommand Create(CliIo io)
    {
        var dataDir = CommonOptions.DataDir();
        var json = CommonOptions.Json();
        var from = new Option<string?>("--from") { Description = "The legacy single file to move into the lake", HelpName = "data/prices_daily.parquet" };
        var layout = new Option<string?>("--layout")
        {
            Description = "Move the data dir into this layout in place: lake (from the seed layout's month files, written by earlier versions)",
            HelpName = "lake",
        };
        var manifest = new Option<string?>("--legacy-manifest")
        {
            Description = "The legacy manifest (default: _manifests/prices_ingestion.jsonl beside --from)", HelpName = "FILE",
        };
        var source = new Option<string?>("--source") { Description = "Bronze source of every row (default: the file's source column, else legacy)", HelpName = "NAME" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Read and report what would change; write nothing" };
        var chunk = new Option<int>("--chunk-symbols") { Description = "Symbols per atomic commit", HelpName = "N", DefaultValueFactory = _ => 50 };
        var command = new Command("migrate",
            "--from FILE: move the legacy single-file store into the lake: bronze (source legacy) and silver, a commit per chunk of symbols; "
            + "duplicates and invalid rows counted with reasons; verified per symbol (rows and value checksums). Safe to rerun: "
            + "a second run changes nothing, and a run killed halfway resumes. "
            + "--layout lake: move a data dir in the seed layout (symbol=S/year=Y/month=M/data.parquet, written by earlier versions) "
            + "into the current layout in place: every table's rows committed as they are, verified per table and symbol (row counts "
            + "and checksums of every value) before the month files are removed; manifests and reports kept. A run killed at any "
            + "point is finished by running it again. Stop the server first.")
        {
            dataDir, from, layout, manifest, source, dryRun, chunk, json,
        };
        command.SetAction((parse, ct) =>
        {
            var legacyOnly = new Option[] { manifest, source, dryRun, chunk }.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToArray();
            var to = parse.GetValue(layout);
            var file = parse.GetValue(from);
            if (to is not null)
            {
                if (file is not null)
                {
                    throw LakehouseException.Invalid("give either --from FILE (the legacy single file) or --layout lake (a seed-layout data dir), not both");
                }
                if (legacyOnly.Length > 0)
                {
                    throw LakehouseException.Invalid($"{string.Join(", ", legacyOnly)}: only with --from (the legacy single file), not with --layout");
                }
                return RunLayoutAsync(io, to, parse.GetValue(json), CommonOptions.DataDirOf(parse, dataDir), ct);
            }
            if (file is null)
            {
                throw LakehouseException.Invalid("say what to migrate: --from FILE (the legacy single file) or --layout lake (a data dir in the seed layout)");
            }
            return RunAsync(io,
                new LegacyMigrationRequest(file, parse.GetValue(manifest), parse.GetValue(source), parse.GetValue(dryRun))
                {
                    ChunkSymbols = parse.GetValue(chunk),
                },
                parse.GetValue(json), CommonOptions.DataDirOf(parse, dataDir), ct);
        });
        return new CliCommand(command,
            "lakehouse migrate --layout lake --data-dir /srv/lake",
            "lakehouse migrate --from data/prices_daily.parquet --dry-run",
            "lakehouse migrate --from data/prices_daily.parquet --legacy-manifest data/_manifests/prices_ingestion.jsonl",
            "lakehouse migrate --from old/prices_daily.parquet --source yfinance --json");
    }

    private static async Task<int> RunAsync(CliIo io, LegacyMigrationRequest request, bool json, string dataDir, CancellationToken cancellationToken)
    {
        // A migration reads each chunk back once: the store's read cache (2 GB by default, for a
        // server's hot reads) would only grow with the lake, so it gets a small cap here.
        using var services = CliServices.Open(dataDir, store: o => o.CacheBytes = MigrationCacheBytes);
        var migration = services.Migration;
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

    private static async Task<int> RunLayoutAsync(CliIo io, string layout, bool json, string dataDir, CancellationToken cancellationToken)
    {
        if (layout == "seed")
        {
            throw LakehouseException.Invalid("--layout seed: a lake is not moved back into the seed layout in place; "
                + "`lakehouse export --layout seed --out DIR` writes a copy in it");
        }
        if (layout != "lake")
        {
            throw LakehouseException.Invalid($"--layout '{layout}': the layout to migrate a data dir into is lake (from the seed layout)");
        }
        var options = new StoreOptions { DataDir = dataDir, CacheBytes = LayoutCacheBytes };
        var result = await CliProgress.RunAsync(io, json, "migrate", progress =>
            LakeStore.MigrateSeedAsync(options, progress: new LayoutRelay(progress), cancellationToken: cancellationToken),
            plain: json ? null : s =>
            {
                // One line per table and phase when it ends (a lake of 20,000 symbols would print 100,000 lines otherwise).
                if (s.Done == s.Total)
                {
                    io.Err.WriteLine(s.Label);
                }
            }).ConfigureAwait(false);
        if (json)
        {
            await io.Out.WriteLineAsync(JsonSerializer.Serialize(new { migration = result }, StorageReport.JsonOptions)).ConfigureAwait(false);
        }
        else
        {
            LayoutSummary(io.Out, result);
        }
        if (!result.Verified)
        {
            await io.Err.WriteLineAsync($"error: verification failed for {result.Tables.Count(t => !t.Verified)} table(s): the lake does not read what the "
                + "seed layout's files hold; nothing was removed, and the data dir stays closed to the store until a run verifies").ConfigureAwait(false);
            return 1;
        }
        return 0;
    }

    internal static void LayoutSummary(TextWriter w, SeedMigrationResult r)
    {
        w.WriteLine($"{"table",-26} {"symbols",7} {"seed files",10} {"seed rows",12} {"lake rows",12} {"seed checksum",-16} {"lake checksum",-16} check");
        foreach (var t in r.Tables)
        {
            w.WriteLine($"{t.Table,-26} {t.Symbols,7} {t.SeedFiles,10:N0} {t.SeedRows,12:N0} {t.LakeRows,12:N0} {t.SeedChecksum,-16} {t.LakeChecksum,-16} "
                + (t.Verified ? "ok" : "MISMATCH"));
            foreach (var m in t.Mismatches)
            {
                w.WriteLine($"    {m}");
            }
        }
        if (!r.Verified)
        {
            w.WriteLine($"verification FAILED: the seed layout's files are where they were");
            return;
        }
        w.WriteLine($"migrated {r.DataDir} to the lake layout{(r.Resumed ? " (finishing an interrupted run)" : "")}: version {r.Version}, "
            + $"{r.Tables.Sum(t => t.SeedRows):N0} row(s) in {r.Tables.Count} table(s) verified, {r.Tables.Sum(t => t.SeedFiles):N0} seed file(s) removed; "
            + $"manifests and reports kept ({r.DurationMs / 1000.0:0.0} s)");
        if (r.UnrecognisedKept > 0)
        {
            w.WriteLine($"  {r.UnrecognisedKept} file(s) the seed engine did not write were kept in {r.UnrecognisedDir}");
        }
    }

    private sealed class LayoutRelay(IProgress<ProgressStep> to) : IProgress<LayoutProgress>
    {
        public void Report(LayoutProgress value) =>
            to.Report(new ProgressStep($"migrate: {value.Phase} {value.Table}: {value.Done}/{value.Total} symbol(s)", value.Done, value.Total));
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
