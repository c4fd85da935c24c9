using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Ingestion.Gold;

/// <summary>Progress of a gold build, after each commit.</summary>
public sealed record GoldProgress(int SymbolsDone, int SymbolsTotal);

/// <summary>A symbol's daily report: where it is, how many trading days it lists, and whether this build rewrote it.</summary>
public sealed record ReportFile(string Symbol, string Path, int Rows, bool Written);

/// <summary>What a gold build did: a StorageReport per gold table and symbol (also in the manifests), and the report files.</summary>
public sealed record GoldBuildResult(string RunId, IReadOnlyList<StorageReport> Reports, IReadOnlyList<ReportFile> Files);

/// <summary>
/// Rebuilds the gold layer from silver <c>prices_daily</c>: <c>gold/prices_monthly</c>,
/// <c>gold/daily_metrics</c> and <c>gold/reports/{SYMBOL}_daily_report.csv</c>.
/// </summary>
/// <remarks>
/// Incremental means: each symbol asked for is recomputed whole from its silver rows (a late correction
/// moves every later SMA, volatility and drawdown value, and a 20-year symbol costs well under a
/// millisecond to compute), then written as an upsert, which rewrites only the year files whose rows
/// changed and counts the rest as unchanged; a report file is rewritten only when its bytes differ.
/// So a rebuild without silver changes writes no file at all, and its manifest lines say "unchanged".
/// Symbols are read and computed <see cref="ChunkSymbols"/> at a time and committed about every million metric rows
/// (a chunk of whole histories, or every symbol of a daily append), so memory holds a few symbols' histories, never
/// the universe's.
/// </remarks>
public sealed partial class GoldBuilder(LakeStore store)
{
    /// <summary>Symbols read and computed at a time: 200 symbols of 20 years are ~1M metric rows (~100 MB of Arrow).</summary>
    public const int ChunkSymbols = 200;

    /// <summary>
    /// Metric rows computed before they are committed: a rebuild commits about every 570 symbols of 20 years (each year's
    /// file ~150K rows; at 1M rows, ~52K), a daily append of thousands of symbols (a row each) once.
    /// </summary>
    private const int CommitRows = 3 << 20;

    /// <summary>
    /// Symbols whose recent rows are read at a time (<see cref="LakeStore.ReadRecent"/>: a year or two each, ~2M rows of
    /// the prices' columns, ~130 MB): the row groups they share, and each small file of appended days (a row group per
    /// 16K symbols), are decoded once per group of symbols; with 1,000 a 20,000-symbol append decoded each day's file 20 times.
    /// </summary>
    private const int RecentChunkSymbols = 4000;

    /// <summary>
    /// Rows of one symbol a recent read may return (four years of daily bars; a year or two is the rule): a write from
    /// further back (an ingest of the history) reads its symbols whole, <see cref="ChunkSymbols"/> at a time.
    /// </summary>
    private const int RecentMaxRows = 1000;

    /// <summary>
    /// A write that changes at most this many symbols writes each one's report file; a larger (bulk) write leaves
    /// report files alone: a report holds every row of its symbol as CSV (~7x the size of the same rows in silver, so
    /// a report per symbol of a bulk load would outweigh the lake), and rewriting every existing report would dominate
    /// a daily bar of many symbols (docs/decisions.md D35). <c>build-gold</c>, <c>lakehouse report</c> and the daily flow write them.
    /// </summary>
    public const int ReportSymbolsPerWrite = 100;

    /// <summary>Written to the <c>source</c> field of gold manifest lines: the rows are derived from silver.</summary>
    public const string DerivedSource = "silver";

    /// <summary>
    /// Symbols whose silver prices changed according to <paramref name="reports"/> (silver
    /// <c>prices_daily</c> rows inserted or updated): the symbols whose gold is out of date.
    /// </summary>
    public static IReadOnlyList<string> ChangedSymbols(IEnumerable<StorageReport> reports) =>
        reports.Where(r => r.Layer == "silver" && r.Table == PriceTables.PricesDaily && r.Inserted + r.Updated > 0)
            .Select(r => r.Symbol).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// After a write: rebuilds gold for the symbols whose silver prices <paramref name="written"/> changed,
    /// under the write's run id (so the gold manifest lines name the run that caused them), and for symbols
    /// written unchanged whose gold does not reach silver's last day (a re-run after a crash between the silver
    /// commit and gold). Each changed symbol gets its report file, except in a bulk write (more than
    /// <see cref="ReportSymbolsPerWrite"/> symbols), which leaves report files alone.
    /// </summary>
    /// <exception cref="LakehouseException">Unavailable when the rebuild fails: the write itself stays committed, and the message says how to rebuild.</exception>
    /// <param name="written">The commit's reports.</param>
    /// <param name="cancellationToken">Cancels the rebuild.</param>
    /// <param name="runSymbols">
    /// How many symbols the whole run writes when this commit is one chunk of it: a bulk run's last chunk of 34 symbols
    /// is still a bulk write (it wrote reports for those 34 and no others before).
    /// </param>
    public async Task<GoldBuildResult> RefreshAsync(IReadOnlyList<StorageReport> written, CancellationToken cancellationToken = default, int? runSymbols = null)
    {
        // Also a symbol whose silver is unchanged but has no report yet: the process died between a silver
        // commit and its gold rebuild, and this write is the re-run that must finish it.
        var changed = ChangedSymbols(written).Concat(written
                .Where(r => r.Layer == "silver" && r.Table == PriceTables.PricesDaily && r.Inserted + r.Updated == 0 && r.Unchanged > 0
                    && store.LastDate(GoldTables.DailyMetrics, r.Symbol) != store.LastDate(PriceTables.Silver, r.Symbol))
                .Select(r => r.Symbol))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var runId = written.Count > 0 ? written[0].RunId : LakeStore.NewRunId();
        if (changed.Length == 0)
        {
            return new GoldBuildResult(runId, [], []);
        }
        try
        {
            return await BuildAsync(changed, progress: null, runId, cancellationToken, ReportsFor(Math.Max(changed.Length, runSymbols ?? 0)), ChangedFrom(written), ChangedTo(written)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or OutOfMemoryException))
        {
            throw new LakehouseException(LakehouseErrorKind.Unavailable,
                $"silver prices were committed (run {runId}) but rebuilding gold for {string.Join(", ", changed.Take(20))} failed ({ex.Message}); "
                + "rebuild it with the build-gold action or 'lakehouse report --symbols ...'", ex);
        }
    }

    /// <summary>
    /// Finishes what commits rolled forward after a crash promised (<see cref="LakeStore.RecoveredCommits"/>):
    /// rebuilds gold of the symbols whose silver prices they changed (and of symbols whose gold commit was
    /// rolled forward, whose report files may be older), under each commit's run id, then settles the commit.
    /// A failure leaves the commits unsettled for the next pass or start. Returns the gold reports written.
    /// </summary>
    public async Task<IReadOnlyList<StorageReport>> FinishRecoveredAsync(CancellationToken cancellationToken = default)
    {
        var written = new List<StorageReport>();
        foreach (var commit in store.RecoveredCommits())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var symbols = ChangedSymbols(commit.Reports)
                .Concat(commit.Reports.Where(r => r.Layer == "gold").Select(r => r.Symbol))
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            if (symbols.Length > 0)
            {
                var held = store.Plan(TableQuery.Create(Layers.Name(Layer.Silver), PriceTables.PricesDaily, symbols), cancellationToken)
                    .Select(p => p.Symbol).ToArray();
                if (held.Length > 0)
                {
                    var runId = commit.Reports.Count > 0 ? commit.Reports[0].RunId : null;
                    written.AddRange((await BuildAsync(held, progress: null, runId, cancellationToken, ReportsFor(held.Length)).ConfigureAwait(false)).Reports);
                }
            }
            store.SettleRecovered(commit);
        }
        return written;
    }

    /// <summary>
    /// Rebuilds gold tables and reports for <paramref name="symbols"/> (empty: every symbol silver holds); with
    /// <paramref name="reportFor"/>, a report file only for the symbols it accepts.
    /// </summary>
    /// <exception cref="LakehouseException">NotFound when a symbol asked for has no silver rows.</exception>
    public async Task<GoldBuildResult> BuildAsync(IReadOnlyList<string> symbols, IProgress<GoldProgress>? progress = null,
        string? runId = null, CancellationToken cancellationToken = default, Func<string, bool>? reportFor = null) =>
        await BuildAsync(symbols, progress, runId, cancellationToken, reportFor, changedFrom: null, changedTo: null).ConfigureAwait(false);

    /// <summary>
    /// The build: with <paramref name="changedFrom"/> (the first date of each symbol's silver write), only the gold
    /// rows from that date (monthly bars from its month) are written: every gold value is a function of silver rows
    /// on or before its own date, so the rows before it cannot have changed, and a daily append or a correction
    /// rewrites a few rows instead of the symbol's whole history (the upsert compares only what it is given).
    /// A symbol whose gold does not reach the silver day before that date (an earlier rebuild failed) is rebuilt whole.
    /// With <paramref name="changedTo"/> too (the last date of the write), a symbol whose report is written and whose gold
    /// reaches silver's last day gets only the metric rows the write moved and the bars of the months it wrote
    /// (<see cref="MovedMetrics"/>): a correction of a past day does not compare every later year.
    /// </summary>
    private async Task<GoldBuildResult> BuildAsync(IReadOnlyList<string> symbols, IProgress<GoldProgress>? progress,
        string? runId, CancellationToken cancellationToken, Func<string, bool>? reportFor, IReadOnlyDictionary<string, DateOnly>? changedFrom,
        IReadOnlyDictionary<string, DateOnly>? changedTo)
    {
        runId ??= LakeStore.NewRunId();
        var todo = SymbolsToBuild(symbols, cancellationToken);
        var reports = new List<StorageReport>(todo.Count * 2);
        var files = new List<ReportFile>(todo.Count);
        var done = 0;
        // Computed gold waiting for its commit: a daily append's tails are a row or two per symbol, so thousands of
        // symbols go into one commit (a commit per chunk cost ~60 ms: 25 of them per 5,000-symbol append).
        var tails = new List<(RecordBatch Monthly, RecordBatch Metrics)>();
        var reported = new List<(string Symbol, RecordBatch Silver, RecordBatch Metrics)>();
        long tailRows = 0;
        var committedDone = 0;
        async Task CommitAsync()
        {
            if (tails.Count > 0)
            {
                TableWrite[] writes =
                [
                    new(GoldTables.PricesMonthly, RecordBatches.Concatenate(tails.Select(b => b.Monthly).ToArray()), DerivedSource),
                    new(GoldTables.DailyMetrics, RecordBatches.Concatenate(tails.Select(b => b.Metrics).ToArray()), DerivedSource),
                ];
                // A report is made from silver, committed before gold starts, and metrics computed from it: it is formatted
                // and written while the gold tables commit (a correction's commit rewrites one or two files and leaves a
                // core idle). A crash or a failed commit in between leaves a report ahead of the gold tables, never of
                // silver; the next rebuild of the symbol brings the tables level and finds the report's bytes the same.
                var writing = reported.Count == 0 ? Task.FromResult<ReportFile[]>([])
                    : Task.Run(() => WriteReportsAsync([.. reported], cancellationToken), cancellationToken);
                var committing = store.WriteAsync(writes, runId, cancellationToken);
                await Task.WhenAll(committing, writing).ConfigureAwait(false);
                reports.AddRange(await committing.ConfigureAwait(false));
                files.AddRange(await writing.ConfigureAwait(false));
            }
            tails.Clear();
            reported.Clear();
            tailRows = 0;
            committedDone = done;
            progress?.Report(new GoldProgress(done, todo.Count));
        }
        foreach (var group in todo.Chunk(RecentChunkSymbols))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var recent = changedFrom is null ? new Dictionary<string, (RecordBatch Monthly, RecordBatch Metrics)>() : RecentTails(group, changedFrom, reportFor, cancellationToken);
            var ready = group.Where(recent.ContainsKey).ToArray();
            if (ready.Length > 0)
            {
                // One batch per table for the chunk, not two per symbol kept until the commit: 40,000 small batches
                // outlived several collections each.
                Add(RecordBatches.Concatenate([.. ready.Select(s => recent[s].Monthly)]), RecordBatches.Concatenate([.. ready.Select(s => recent[s].Metrics)]));
            }
            done += ready.Length;
            foreach (var chunk in group.Where(s => !recent.ContainsKey(s)).Chunk(ChunkSymbols))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var silverOfChunk = ReadSilver(chunk, cancellationToken);
                foreach (var symbol in chunk)
                {
                    var parts = silverOfChunk.GetValueOrDefault(symbol) ?? [];
                    if (parts.Sum(b => b.Length) == 0)
                    {
                        continue;
                    }
                    var report = reportFor is null || reportFor(symbol);
                    RecordBatch monthly, metrics;
                    if (changedFrom?.GetValueOrDefault(symbol) is { } from && TailWindow(parts, from, double.NegativeInfinity) is { } tail
                        && TailOnly(symbol, tail.Before))
                    {
                        // Only the rows from the write's first date (monthly bars from its month), from a window of the
                        // rows before it and the highest price before that: an append reads and copies ~250 rows, not the
                        // symbol's history (unless its report needs every row anyway).
                        monthly = MonthlyFrom(tail.Window, from);
                        if (report)
                        {
                            var whole = Concat(parts);
                            var all = GoldCalculator.DailyMetrics(whole);
                            metrics = From(all, DailyMetricsColumns.Date, from);
                            if (changedTo?.GetValueOrDefault(symbol) is { } to && to >= from
                                && MovedMetrics(symbol, whole, all, from, to, cancellationToken) is { } moved)
                            {
                                // Gold reaches silver's last day: only what the write can have moved (a correction's
                                // month and the metric rows that differ), not every row after it.
                                metrics = moved;
                                monthly = MonthlyBetween(tail.Window, from, to);
                            }
                            reported.Add((symbol, whole, all));
                        }
                        else
                        {
                            metrics = GoldCalculator.DailyMetrics(tail.Window, from, tail.PriorPeak);
                        }
                    }
                    else
                    {
                        var silver = Concat(parts);
                        monthly = GoldCalculator.Monthly(silver);
                        metrics = GoldCalculator.DailyMetrics(silver);
                        if (report)
                        {
                            reported.Add((symbol, silver, metrics));
                        }
                    }
                    Add(monthly, metrics);
                }
                done += chunk.Length;
                if (tailRows >= CommitRows)
                {
                    await CommitAsync().ConfigureAwait(false);
                }
            }
            if (tailRows >= CommitRows)
            {
                await CommitAsync().ConfigureAwait(false);
            }
        }
        if (done > committedDone)
        {
            await CommitAsync().ConfigureAwait(false);
        }
        return new GoldBuildResult(runId, reports, files);

        void Add(RecordBatch monthly, RecordBatch metrics)
        {
            tails.Add((monthly, metrics));
            tailRows += metrics.Length;
        }
    }

    /// <summary>Formats and writes each symbol's report (whole, or left alone when its bytes are the same).</summary>
    private async Task<ReportFile[]> WriteReportsAsync(IReadOnlyList<(string Symbol, RecordBatch Silver, RecordBatch Metrics)> reported,
        CancellationToken cancellationToken)
    {
        var files = new ReportFile[reported.Count];
        for (var i = 0; i < files.Length; i++)
        {
            var (symbol, silver, metrics) = reported[i];
            var name = DailyReport.FileName(symbol);
            var written = await store.WriteReportAsync(name, DailyReport.Utf8(silver, metrics), cancellationToken).ConfigureAwait(false);
            files[i] = new ReportFile(symbol, store.ReportPath(name), silver.Length, written);
        }
        return files;
    }

    /// <summary>Per symbol whose silver prices changed, the first date of its silver write (its report's <c>date_from</c>).</summary>
    private static Dictionary<string, DateOnly> ChangedFrom(IReadOnlyList<StorageReport> written)
    {
        var from = new Dictionary<string, DateOnly>(StringComparer.Ordinal);
        foreach (var r in written)
        {
            if (r.Layer == "silver" && r.Table == PriceTables.PricesDaily && r.Inserted + r.Updated > 0
                && DateOnly.TryParseExact(r.DateFrom, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var d))
            {
                from[r.Symbol] = from.TryGetValue(r.Symbol, out var seen) && seen < d ? seen : d;
            }
        }
        return from;
    }

    /// <summary>
    /// The gold tails (monthly bars from the write's month, metric rows from its date) of the chunk's symbols that need
    /// no report, computed from what silver holds of them since January 1st of the year before their write
    /// (<see cref="LakeStore.VisitRecent"/>) and the highest price of their rows before that, from the data files'
    /// summaries: a daily append of thousands of symbols reads one or two years of each, not twenty, and computes each
    /// symbol's tail on all cores while its rows are in the reader's memory (a window is put together in a per-thread
    /// scratch, not a fresh copy per symbol). A symbol is left out (and read whole) where that is not enough: no
    /// summary, adj_close null on some older rows and not others (then the peak's price is not one column's maximum),
    /// fewer than <see cref="TailLookbackRows"/> rows before its date with older ones left out, or gold behind silver.
    /// </summary>
    private IReadOnlyDictionary<string, (RecordBatch Monthly, RecordBatch Metrics)> RecentTails(string[] chunk, IReadOnlyDictionary<string, DateOnly> changedFrom,
        Func<string, bool>? reportFor, CancellationToken cancellationToken)
    {
        var tails = new System.Collections.Concurrent.ConcurrentDictionary<string, (RecordBatch, RecordBatch)>(StringComparer.Ordinal);
        var ask = new Dictionary<string, DateOnly>(StringComparer.Ordinal);
        foreach (var symbol in chunk)
        {
            if (reportFor is not null && !reportFor(symbol) && changedFrom.TryGetValue(symbol, out var from) && from.Year > 1)
            {
                ask[symbol] = new DateOnly(from.Year - 1, 1, 1);
            }
        }
        if (ask.Count == 0)
        {
            return tails;
        }
        using var scratch = new ThreadLocal<BatchScratch>(() => new BatchScratch());
        store.VisitRecent(PriceTables.Silver, ask, RecentMaxRows, RecentColumns, (symbol, recent) =>
        {
            if (recent is null || recent.Rows.Sum(b => b.Length) == 0 || PeakOf(recent) is not { } peak)
            {
                return;
            }
            var day = changedFrom[symbol];
            if (TailWindow([.. recent.Rows], day, peak, scratch.Value!) is { } tail
                && (tail.Lookback >= TailLookbackRows || recent.RowsBefore == 0) && TailOnly(symbol, tail.Before))
            {
                // Computed here, while the rows are readable: the results are fresh arrays, nothing shares the window's memory.
                tails[symbol] = (MonthlyFrom(tail.Window, day), GoldCalculator.DailyMetrics(tail.Window, day, tail.PriorPeak));
            }
        }, cancellationToken);
        return tails;
    }

    /// <summary>The highest price (adj_close, else close) of the rows before a symbol's recent rows, when the summaries tell it.</summary>
    private static double? PeakOf(RecentRows recent)
    {
        var adj = recent.Before[PriceColumns.AdjClose.Name];
        var close = recent.Before[PriceColumns.Close.Name];
        return adj.Nulls == 0 ? adj.Max
            : adj.Nulls == recent.RowsBefore ? close.Max
            : null;
    }

    /// <summary>Whether gold already holds the symbol up to <paramref name="before"/>, its last silver day before the write (so only the tail needs writing).</summary>
    private bool TailOnly(string symbol, DateOnly? before) =>
        before is null || store.LastDate(GoldTables.DailyMetrics, symbol) >= before;

    /// <summary>
    /// The silver columns a tail is computed from (with the key): the monthly bar's and the metrics' prices. The lineage
    /// columns are a third of a decode (a string and a timestamp per row) and no gold value reads them.
    /// </summary>
    private static readonly string[] RecentColumns =
        [PriceColumns.Open.Name, PriceColumns.High.Name, PriceColumns.Low.Name, PriceColumns.Close.Name, PriceColumns.AdjClose.Name, PriceColumns.Volume.Name];

    /// <summary>Rows kept before a tail's first date: more than the longest window (sma_200) and a month.</summary>
    private const int TailLookbackRows = 250;

    /// <summary>
    /// The rows a tail from <paramref name="from"/> is computed from (from <see cref="TailLookbackRows"/> rows before
    /// it), the highest price of the rows before those (at least <paramref name="priorPeak"/>, that of the rows before
    /// the parts), the last date before <paramref name="from"/>, and how many rows before it the window holds; the
    /// parts (the symbol's cached history and its appended days, or its recent rows) are not concatenated whole.
    /// </summary>
    private static (RecordBatch Window, double PriorPeak, DateOnly? Before, int Lookback)? TailWindow(RecordBatch[] parts, DateOnly from, double priorPeak,
        BatchScratch? scratch = null)
    {
        var fromDay = from.DayNumber - new DateOnly(1970, 1, 1).DayNumber;
        var n = parts.Sum(p => p.Length);
        var s = n;
        var offset = n;
        for (var b = parts.Length - 1; b >= 0; b--)
        {
            offset -= parts[b].Length;
            var dates = PriceColumns.Date.Of(parts[b]).Values;
            var i = dates.Length;
            while (i > 0 && dates[i - 1] >= fromDay)
            {
                i--;
            }
            s = offset + i;
            if (i > 0)
            {
                break;
            }
        }
        var start = Math.Max(0, s - TailLookbackRows);
        var peak = priorPeak;
        DateOnly? before = null;
        var window = new List<RecordBatch>();
        var row = 0;
        foreach (var p in parts)
        {
            var close = PriceColumns.Close.Of(p).Values;
            var adj = PriceColumns.AdjClose.Of(p);
            var adjValues = adj.Values;
            var upTo = Math.Min(p.Length, Math.Max(0, start - row));
            if (adj.NullCount == 0)
            {
                // The common case, without a validity test per row (26M rows of history per 5,000-symbol append).
                foreach (var price in adjValues[..upTo])
                {
                    peak = Math.Max(peak, price);
                }
            }
            else
            {
                for (var i = 0; i < upTo; i++)
                {
                    peak = Math.Max(peak, adj.IsValid(i) ? adjValues[i] : close[i]);
                }
            }
            var first = Math.Max(0, start - row);
            if (first < p.Length)
            {
                window.Add(first == 0 ? p : p.Slice(first, p.Length - first));
            }
            if (s > row && s - 1 < row + p.Length)
            {
                before = PriceColumns.Date.Of(p).GetDateOnly(s - 1 - row);
            }
            row += p.Length;
        }
        return window.Count == 0 ? null
            : (window.Count == 1 ? window[0] : scratch is null ? RecordBatches.Concatenate(window) : scratch.Concatenate(window), peak, before, s - start);
    }

    /// <summary>The monthly bars from <paramref name="from"/>'s month on, of a tail's window (which starts before that month).</summary>
    private static RecordBatch MonthlyFrom(RecordBatch window, DateOnly from) =>
        GoldCalculator.Monthly(From(window, PriceColumns.Date, new DateOnly(from.Year, from.Month, 1)));

    /// <summary>The rows of a batch sorted by <paramref name="date"/> on or after <paramref name="from"/>.</summary>
    private static RecordBatch From(RecordBatch batch, TableColumn<Date32Array> date, DateOnly from)
    {
        var dates = date.Of(batch);
        var start = 0;
        while (start < dates.Length && dates.GetDateOnly(start) < from)
        {
            start++;
        }
        return start == 0 ? batch : batch.Slice(start, batch.Length - start);
    }

    private static Func<string, bool>? ReportsFor(int symbols) => symbols <= ReportSymbolsPerWrite ? null : static _ => false;

    private IReadOnlyList<string> SymbolsToBuild(IReadOnlyList<string> symbols, CancellationToken cancellationToken)
    {
        var silver = TableQuery.Create(Layers.Name(Layer.Silver), PriceTables.PricesDaily, symbols.Count == 0 ? null : Symbols.NormalizeAll(symbols));
        if (symbols.Count == 0)
        {
            return store.SymbolsFor(silver);
        }
        var asked = silver.Symbols.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var held = store.Plan(silver, cancellationToken).Select(p => p.Symbol).ToHashSet(StringComparer.Ordinal);
        var missing = asked.Where(s => !held.Contains(s)).ToArray();
        if (missing.Length > 0)
        {
            throw new LakehouseException(LakehouseErrorKind.NotFound,
                $"no silver prices for {string.Join(", ", missing.Take(20))}: ingest them first (e.g. lakehouse ingest --source yahoo --symbols {missing[0]} --from ... --to ...)");
        }
        return asked;
    }

    /// <summary>
    /// The silver rows of a chunk of symbols, by symbol, in one read (the store decodes each row group the chunk's
    /// symbols share once, instead of once per symbol), as slices of what the read returns.
    /// </summary>
    private Dictionary<string, RecordBatch[]> ReadSilver(IReadOnlyList<string> symbols, CancellationToken cancellationToken)
    {
        var bySymbol = new Dictionary<string, List<RecordBatch>>(StringComparer.Ordinal);
        if (symbols.Count == 0)
        {
            // (A query without symbols would read every symbol.)
            return new Dictionary<string, RecordBatch[]>(StringComparer.Ordinal);
        }
        var query = TableQuery.Create(Layers.Name(Layer.Silver), PriceTables.PricesDaily, symbols);
        foreach (var batch in store.Read(query, cancellationToken))
        {
            var column = PriceColumns.Symbol.Of(batch);
            foreach (var (start, count) in RecordBatches.Runs(column))
            {
                var symbol = column.GetString(start);
                if (!bySymbol.TryGetValue(symbol, out var list))
                {
                    bySymbol[symbol] = list = [];
                }
                list.Add(count == batch.Length ? batch : batch.Slice(start, count));
            }
        }
        return bySymbol.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);
    }

    private static RecordBatch Concat(RecordBatch[] parts) => parts.Length switch
    {
        0 => RecordBatches.Empty(PriceTables.SilverSchema),
        1 => parts[0],
        _ => RecordBatches.Concatenate(parts),
    };
}

