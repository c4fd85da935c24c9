using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Ingestion.Gold;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Ingestion;

/// <summary>What to ingest: a source by name and what it needs (symbols, a range, a path).</summary>
public sealed record IngestRequest(string Source, IReadOnlyList<string> Symbols, DateOnly? From, DateOnly? To,
    bool Promote = true, string? Path = null, long Seed = 42);

/// <summary>Progress after each commit of a run.</summary>
/// <param name="SymbolsDone">Symbols fetched and committed (or failed) so far.</param>
/// <param name="SymbolsTotal">Symbols asked for (0 when the source finds them, as CSV folders do).</param>
/// <param name="Rows">Rows written so far.</param>
/// <param name="Failed">Symbols that failed so far.</param>
public sealed record IngestionProgress(int SymbolsDone, int SymbolsTotal, long Rows, int Failed);

/// <summary>What a run did: one StorageReport per table and symbol committed (bronze, then silver), and the symbols that failed.</summary>
public sealed record IngestResult(string RunId, IReadOnlyList<StorageReport> Reports, IReadOnlyList<FailedSymbol> Failures)
{
    /// <summary>Reports of the gold rebuild that followed each commit (the symbols whose silver prices changed); also in the gold manifests.</summary>
    public IReadOnlyList<StorageReport> Gold { get; init; } = [];
}

/// <summary>
/// The one ingestion loop behind the Flight <c>ingest</c> action, HTTP jobs, <c>lakehouse ingest</c> and
/// <c>serve --demo</c>: fetch from a source, land bars in bronze and promote them to silver with the
/// corporate actions, a commit per chunk of symbols (each chunk all-or-nothing; a failed symbol never
/// stops the others), progress after each commit, cancellation between chunks. After each commit the
/// gold layer is rebuilt for the chunk's symbols whose silver prices changed (<see cref="GoldBuilder.RefreshAsync"/>).
/// </summary>
public sealed class IngestionRunner(LakeStore store, LakeWriter writer, IEnumerable<IPriceSource> sources)
{
    /// <summary>
    /// Symbols per commit at most: a commit writes a file per band it touches, so chunks are large (few, large files;
    /// docs/decisions.md D35) ...
    /// </summary>
    public const int ChunkSymbols = 500;

    /// <summary>
    /// ... and commits once it holds this many rows, so memory stays bounded whatever the symbols hold (3M: 500 symbols of 20
    /// years, 2.6M rows, are one commit, so each year's file holds ~130K rows; at 1M a year got files of ~52K rows, or
    /// ~104K and ~26K, which the compactor leaves as they are; the peak RSS of a 500 x 20 ingest is 1.9 GB instead of 1.1) ...
    /// </summary>
    public const int ChunkRows = 3 << 20;

    /// <summary>... or once its first symbol has waited this long, so a slow source (Yahoo) still shows steady progress.</summary>
    public static readonly TimeSpan ChunkAge = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, IPriceSource> _sources = sources.ToDictionary(s => s.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Names of the sources this runner can use.</summary>
    public IReadOnlyList<string> SourceNames => _sources.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>The source called <paramref name="name"/>, or InvalidArgument naming the sources there are.</summary>
    public IPriceSource Source(string? name)
    {
        var key = (name ?? "").Trim();
        return _sources.TryGetValue(key, out var source)
            ? source
            : throw LakehouseException.Invalid($"unknown source '{name}': use one of {string.Join(", ", SourceNames)}");
    }

    public async Task<IngestResult> RunAsync(IngestRequest request, IProgress<IngestionProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var source = Source(request.Source);
        // Every door checks its own range (naming its own field); this one guards the runner's other callers.
        var today = LakeDates.Today();
        LakeDates.CheckRange(request.From, request.To, today: today);
        var runId = LakeStore.NewRunId();
        var reports = new List<StorageReport>();
        var gold = new List<StorageReport>();
        var failures = new List<FailedSymbol>();
        var chunk = new List<SourceResult>();
        var chunkRows = 0;
        long chunkStart = 0;
        var done = 0;
        long rows = 0;
        var fetch = new SourceRequest(request.Symbols, request.From, request.To, request.Path, request.Seed);
        await foreach (var result in source.FetchAsync(fetch, cancellationToken).ConfigureAwait(false))
        {
            if (result.Error is { } error)
            {
                failures.Add(new FailedSymbol(result.Symbol, error));
                done++;
                progress?.Report(new IngestionProgress(done, request.Symbols.Count, rows, failures.Count));
                continue;
            }
            var kept = WithinLakeDates(result, today);
            if (chunk.Count == 0)
            {
                chunkStart = System.Diagnostics.Stopwatch.GetTimestamp();
            }
            chunk.Add(kept);
            chunkRows += kept.Bars.Count;
            if (chunk.Count >= ChunkSymbols || chunkRows >= ChunkRows || System.Diagnostics.Stopwatch.GetElapsedTime(chunkStart) >= ChunkAge)
            {
                rows += await CommitAsync(chunk, source.Name, request.Promote, runId, request.Symbols.Count, reports, gold, failures, cancellationToken).ConfigureAwait(false);
                done += chunk.Count;
                chunk.Clear();
                chunkRows = 0;
                progress?.Report(new IngestionProgress(done, request.Symbols.Count, rows, failures.Count));
            }
        }
        if (chunk.Count > 0)
        {
            rows += await CommitAsync(chunk, source.Name, request.Promote, runId, request.Symbols.Count, reports, gold, failures, cancellationToken).ConfigureAwait(false);
            done += chunk.Count;
            progress?.Report(new IngestionProgress(done, request.Symbols.Count, rows, failures.Count));
        }
        // Bronze reports first, then silver, then corporate actions: the order of every write's reports (LandAsync's too).
        var ordered = reports.OrderBy(r => r.Layer == "bronze" ? 0 : r.Table == PriceTables.PricesDaily ? 1 : 2).ToArray();
        return new IngestResult(runId, ordered, failures) { Gold = gold };
    }

    private async Task<long> CommitAsync(List<SourceResult> chunk, string source, bool promote, string runId, int runSymbols, List<StorageReport> reports,
        List<StorageReport> gold, List<FailedSymbol> failures, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var bars = chunk.SelectMany(r => r.Bars).ToArray();
        var rejected = chunk.Where(r => r.Rejected.Count > 0).ToDictionary(r => r.Symbol, r => r.Rejected);
        var batch = PriceBarBatches.ToBatch(bars);
        var writes = new List<TableWrite> { new(PriceTables.Bronze, batch, source, promote ? null : rejected) };
        if (promote)
        {
            // Stored history whose adj_close the new splits and dividends make stale goes into the same
            // silver write (one commit: never an action without its adjustment).
            var adjusted = chunk.SelectMany(r => Adjustments(r, source)).ToArray();
            var silver = adjusted.Length == 0 ? batch : PriceBarBatches.ToBatch([.. bars, .. adjusted]);
            writes.Add(new TableWrite(PriceTables.Silver, silver, adjusted.Length == 0 ? source : null, rejected));
            var actions = chunk.SelectMany(r => r.Actions).ToArray();
            if (actions.Length > 0)
            {
                writes.Add(new TableWrite(PriceTables.CorporateActions, CorporateActionBatches.ToBatch(actions), source));
            }
        }
        // Reports or none, for the run: its last chunk of a few symbols is as bulk as the others.
        var written = await writer.WriteAsync(writes, runId, cancellationToken, runSymbols).ConfigureAwait(false);
        reports.AddRange(written.Reports);
        gold.AddRange(written.Gold);
        // The chunk's silver is committed; a symbol whose gold is stale until rebuilt is a failure that says so.
        failures.AddRange(written.StaleSymbols.Select(s => new FailedSymbol(s, written.GoldError!.Message)));
        return bars.Length;
    }

    /// <summary>
    /// The result without bars dated outside the lake's dates (a CSV file or a source can carry any date):
    /// those are rejected with the reason, in bronze as in silver, never landed.
    /// </summary>
    private static SourceResult WithinLakeDates(SourceResult result, DateOnly today)
    {
        if (result.Bars.All(b => LakeDates.Accepts(b.Date, today)))
        {
            return result;
        }
        var outside = result.Bars.Where(b => !LakeDates.Accepts(b.Date, today)).Select(b => LakeDates.Reason(b.Date, $"{b.Symbol}: date", today)!);
        return result with
        {
            Bars = result.Bars.Where(b => LakeDates.Accepts(b.Date, today)).ToArray(),
            Rejected = [.. result.Rejected, .. outside],
        };
    }

    /// <summary>The symbol's stored bars rescaled for the actions of this fetch the lake does not hold yet.</summary>
    private IReadOnlyList<PriceBar> Adjustments(SourceResult result, string source)
    {
        if (result.Actions.Count == 0)
        {
            return [];
        }
        var known = store.Read(TableQuery.Create("silver", PriceTables.CorporateActionsName, [result.Symbol]))
            .SelectMany(CorporateActionBatches.ToActions)
            .Select(a => (a.Date, a.Type))
            .ToHashSet();
        var fresh = result.Actions.Where(a => !known.Contains((a.Date, a.Type))).ToArray();
        if (fresh.Length == 0)
        {
            return [];
        }
        var stored = store.Read(TableQuery.Create(symbols: [result.Symbol])).SelectMany(PriceBarBatches.ToBars).ToArray();
        // Fetched bars carry the source's name; so do the rescaled ones, whatever source first wrote them.
        return PriceAdjustments.Rescale(stored, result.Bars, fresh).Select(b => b with { Source = string.IsNullOrEmpty(b.Source) ? source : b.Source }).ToArray();
    }
}
