using System.Diagnostics;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

public sealed partial class PriceStore
{
    /// <summary>
    /// Upserts bars into silver by (symbol, date): each valid row is inserted, updated (some value
    /// differs) or unchanged; invalid rows are rejected with a reason. All symbols commit together or
    /// not at all. Returns one report per symbol.
    /// </summary>
    /// <exception cref="LakehouseException">A bad symbol, or a duplicate (symbol, date) in <paramref name="bars"/>.</exception>
    public Task<IReadOnlyList<StorageReport>> UpsertAsync(IReadOnlyList<PriceBar> bars, string? runId = null,
        CancellationToken cancellationToken = default) =>
        WriteAsync(bars, bronzeSource: null, silver: true, runId, cancellationToken);

    /// <summary>
    /// Lands raw bars in bronze under <paramref name="source"/> (append-only; rows already landed with
    /// the same values add nothing) and, with <paramref name="promote"/>, upserts them into silver in
    /// the same commit. Returns bronze reports, then silver reports.
    /// </summary>
    public Task<IReadOnlyList<StorageReport>> LandAsync(IReadOnlyList<PriceBar> bars, string source, bool promote,
        string? runId = null, CancellationToken cancellationToken = default) =>
        WriteAsync(bars, Sources.Normalize(source), promote, runId, cancellationToken);

    /// <summary>Re-derives silver from bronze: for each (symbol, date) the most recently landed raw row wins.</summary>
    public async Task<IReadOnlyList<StorageReport>> PromoteAsync(string? source, IReadOnlyList<string> symbols,
        DateOnly? from, DateOnly? to, string? runId = null, CancellationToken cancellationToken = default)
    {
        var wanted = symbols.Count == 0 ? null : new HashSet<string>(Symbols.NormalizeAll(symbols), StringComparer.Ordinal);
        var normalizedSource = string.IsNullOrWhiteSpace(source) ? null : Sources.Normalize(source);
        var latest = new Dictionary<(string, DateOnly), BronzeRow>();
        foreach (var table in _index.TablesOf(Layer.Bronze, PriceSchema.Table))
        {
            if (normalizedSource is not null && table.Source != normalizedSource)
            {
                continue;
            }
            foreach (var symbol in _index.SymbolsOf(table))
            {
                if (wanted is not null && !wanted.Contains(symbol))
                {
                    continue;
                }
                foreach (var (y, m) in _index.PartitionsOf(table, symbol))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var key = new PartitionKey(symbol, y, m);
                    if (!key.Overlaps(from, to) || GetPartition(Paths.PartitionFile(table, key), PriceSchema.Bronze) is not { } batch)
                    {
                        continue;
                    }
                    foreach (var row in PriceBatches.ToBronzeRows(batch))
                    {
                        if ((from is { } f && row.Bar.Date < f) || (to is { } t && row.Bar.Date > t))
                        {
                            continue;
                        }
                        var k = (row.Bar.Symbol, row.Bar.Date);
                        if (!latest.TryGetValue(k, out var seen) || row.Bar.IngestedAt > seen.Bar.IngestedAt)
                        {
                            latest[k] = row;
                        }
                    }
                }
            }
        }
        var bars = latest.Values.Select(r => r.Bar).OrderBy(b => b.Symbol, StringComparer.Ordinal).ThenBy(b => b.Date).ToArray();
        return await WriteAsync(bars, null, true, runId, cancellationToken).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<StorageReport>> WriteAsync(IReadOnlyList<PriceBar> input, string? bronzeSource, bool silver,
        string? runId, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        runId ??= NewRunId();
        var now = TruncateToMicros(DateTimeOffset.UtcNow);
        var bySymbol = GroupBySymbol(input);
        var bronzeTable = bronzeSource is null ? (TableId?)null : TableId.Bronze(bronzeSource);
        var silverTable = TableId.Silver();
        var keys = new List<string>();
        foreach (var symbol in bySymbol.Keys)
        {
            if (bronzeTable is { } bt)
            {
                keys.Add(LockKey(bt, symbol));
            }
            if (silver)
            {
                keys.Add(LockKey(silverTable, symbol));
            }
        }
        var pending = new PendingWrite();
        var reports = new List<StorageReport>();
        await using (await _locks.AcquireAsync(keys, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                RecoverDeadJournals();
                _changes.Poll(Layer.Silver, PriceSchema.Table);
                _changes.Poll(Layer.Bronze, PriceSchema.Table);
                if (bronzeTable is { } bt)
                {
                    foreach (var (symbol, bars) in bySymbol)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        reports.Add(StageBronze(pending, bt, symbol, bars, runId, now));
                    }
                }
                if (silver)
                {
                    foreach (var (symbol, bars) in bySymbol)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        reports.Add(StageSilver(pending, silverTable, symbol, bars, bronzeSource, runId, now));
                    }
                }
                var duration = sw.ElapsedMilliseconds;
                for (var i = 0; i < reports.Count; i++)
                {
                    reports[i] = reports[i] with { DurationMs = duration };
                }
                var manifests = reports
                    .GroupBy(r => Paths.ManifestFile(Layers.Parse(r.Layer), r.Table))
                    .Select(g => new ManifestAppend(g.Key, g.Select(r => r.ToJson()).ToArray()))
                    .ToList();
                WriteStagedFiles(pending);
                // Past this call the write is committed: a crash from here on is rolled forward.
                _journal.Commit(pending.Files, manifests);
            }
            catch
            {
                foreach (var f in pending.Files)
                {
                    DurableFile.TryDelete(f.Temp);
                }
                throw;
            }
            foreach (var (table, key, path, batch) in pending.Updates)
            {
                _index.Add(table, key);
            }
            CacheCommitted(pending.Updates);
        }
        StorageLog.Committed(_logger, silver ? "silver" : "bronze", bySymbol.Count, pending.Files.Count, sw.ElapsedMilliseconds);
        return reports;
    }

    private StorageReport StageSilver(PendingWrite pending, TableId table, string symbol, List<PriceBar> bars,
        string? bronzeSource, string runId, DateTimeOffset now)
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        long inserted = 0, updated = 0, unchanged = 0;
        var reasons = new List<string>();
        var valid = new List<PriceBar>(bars.Count);
        foreach (var b in bars)
        {
            if (BarValidator.Validate(b, today) is { } reason)
            {
                reasons.Add(reason);
            }
            else
            {
                valid.Add(b);
            }
        }
        foreach (var month in valid.GroupBy(b => PartitionKey.Of(symbol, b.Date)).OrderBy(g => g.Key))
        {
            var path = Paths.PartitionFile(table, month.Key);
            var existing = LoadForWrite(path, PriceSchema.Silver);
            var rows = existing is null ? [] : PriceBatches.ToBars(existing).ToDictionary(b => b.Date);
            var changed = false;
            foreach (var b in month)
            {
                if (!rows.TryGetValue(b.Date, out var old))
                {
                    inserted++;
                }
                else if (old.SameValues(b))
                {
                    unchanged++;
                    continue;
                }
                else
                {
                    updated++;
                }
                rows[b.Date] = b with { IngestedAt = now, Source = bronzeSource ?? (string.IsNullOrEmpty(b.Source) ? "unknown" : b.Source) };
                changed = true;
            }
            if (changed)
            {
                Stage(pending, table, month.Key, path, PriceBatches.ToSilver(rows.Values.OrderBy(b => b.Date).ToArray()));
            }
        }
        return Report(table, symbol, bars, runId, now, bronzeSource ?? string.Join(',', bars.Select(b => b.Source).Distinct()),
            inserted, updated, unchanged, reasons);
    }

    private StorageReport StageBronze(PendingWrite pending, TableId table, string symbol, List<PriceBar> bars, string runId, DateTimeOffset now)
    {
        long inserted = 0, unchanged = 0;
        foreach (var month in bars.GroupBy(b => PartitionKey.Of(symbol, b.Date)).OrderBy(g => g.Key))
        {
            var path = Paths.PartitionFile(table, month.Key);
            var existing = LoadForWrite(path, PriceSchema.Bronze);
            var rows = existing is null ? [] : PriceBatches.ToBronzeRows(existing);
            var seen = rows.Select(r => ContentKey(r.Bar)).ToHashSet();
            var added = 0;
            foreach (var b in month)
            {
                if (seen.Add(ContentKey(b)))
                {
                    rows.Add(new BronzeRow(b with { Source = table.Source!, IngestedAt = now }, runId));
                    added++;
                }
                else
                {
                    unchanged++;
                }
            }
            inserted += added;
            if (added > 0)
            {
                var ordered = rows.OrderBy(r => r.Bar.Date).ThenBy(r => r.Bar.IngestedAt).ToArray();
                Stage(pending, table, month.Key, path, PriceBatches.ToBronze(ordered));
            }
        }
        return Report(table, symbol, bars, runId, now, table.Source!, inserted, 0, unchanged, []);
    }

    private StorageReport Report(TableId table, string symbol, List<PriceBar> bars, string runId, DateTimeOffset now, string source,
        long inserted, long updated, long unchanged, List<string> reasons) => new()
        {
            RunId = runId,
            Ts = now,
            Source = source,
            Layer = Layers.Name(table.Layer),
            Table = table.Table,
            Location = Paths.Location(table),
            Symbol = symbol,
            DateFrom = bars.Count == 0 ? null : bars.Min(b => b.Date).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            DateTo = bars.Count == 0 ? null : bars.Max(b => b.Date).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            Rows = bars.Count,
            Inserted = inserted,
            Updated = updated,
            Unchanged = unchanged,
            Rejected = reasons.Count,
            RejectReasons = reasons.Count == 0 ? null : reasons.Take(10).ToArray(),
        };

    private static void Stage(PendingWrite pending, TableId table, PartitionKey key, string path, RecordBatch batch) =>
        pending.Updates.Add((table, key, path, batch));

    /// <summary>
    /// Encodes and writes every staged partition to its temp file. The files are independent and each
    /// ends in an fsync that waits on the disk, so they are written concurrently: the fsyncs overlap.
    /// </summary>
    private static void WriteStagedFiles(PendingWrite pending)
    {
        var staged = new StagedFile?[pending.Updates.Count];
        try
        {
            if (staged.Length == 1)
            {
                staged[0] = WriteOne(pending.Updates[0].Path, pending.Updates[0].Batch);
            }
            else
            {
                Parallel.For(0, staged.Length, new ParallelOptions { MaxDegreeOfParallelism = FsyncParallelism },
                    i => staged[i] = WriteOne(pending.Updates[i].Path, pending.Updates[i].Batch));
            }
        }
        finally
        {
            // Whatever got written is known to the caller, so a failure deletes it.
            pending.Files.AddRange(staged.Where(f => f is not null)!);
        }

        static StagedFile WriteOne(string path, RecordBatch batch)
        {
            var bytes = ParquetFiles.Encode(batch);
            return new StagedFile(DurableFile.WriteTemp(path, s => s.Write(bytes)), path);
        }
    }

    /// <summary>Concurrent temp-file writes: more than the cores, since each mostly waits for its fsync.</summary>
    internal const int FsyncParallelism = 8;

    /// <summary>The current file, never a stale cache entry: the cache is trusted only if the file's stamp matches.</summary>
    private RecordBatch? LoadForWrite(string path, Schema schema)
    {
        var stamp = FileStamp.Of(path);
        if (stamp == default)
        {
            return null;
        }
        if (_cache.TryGet(path, out var cached, out var cachedStamp) && cachedStamp == stamp)
        {
            return cached;
        }
        if (schema == PriceSchema.Silver && EntryMonthForWrite(path, stamp) is { } month)
        {
            return month;
        }
        return ParquetFiles.Read(path, schema);
    }

    private static SortedDictionary<string, List<PriceBar>> GroupBySymbol(IReadOnlyList<PriceBar> input)
    {
        var bySymbol = new SortedDictionary<string, List<PriceBar>>(StringComparer.Ordinal);
        var keys = new HashSet<(string, DateOnly)>();
        foreach (var raw in input)
        {
            var symbol = Symbols.Normalize(raw.Symbol);
            if (!keys.Add((symbol, raw.Date)))
            {
                throw LakehouseException.Invalid($"duplicate key ({symbol}, {raw.Date:yyyy-MM-dd}) in one batch: send each (symbol, date) once");
            }
            if (!bySymbol.TryGetValue(symbol, out var list))
            {
                bySymbol[symbol] = list = [];
            }
            list.Add(symbol == raw.Symbol ? raw : raw with { Symbol = symbol });
        }
        return bySymbol;
    }

    private static (DateOnly, double, double, double, double, double?, long) ContentKey(PriceBar b) =>
        (b.Date, b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume);

    public static string NewRunId() => $"{DateTime.UtcNow:yyyyMMddTHHmmssfff}-{Guid.NewGuid().ToString("N")[..8]}";

    private static DateTimeOffset TruncateToMicros(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % 10), TimeSpan.Zero);

    private sealed class PendingWrite
    {
        public List<StagedFile> Files { get; } = [];
        public List<(TableId Table, PartitionKey Key, string Path, RecordBatch Batch)> Updates { get; } = [];
    }
}
