using System.Collections.Concurrent;
using Apache.Arrow;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// One acknowledged upload's rows as reads see them until the applier has committed them: the batches as
/// they were logged, and per (normalised) symbol where its rows are. A symbol's rows in a table's shape are
/// built on the first read that needs them (<see cref="RowsOf"/>) by the store, with the functions the
/// applier uses, so what a read sees before the commit is what it sees after.
/// </summary>
internal sealed class PendingUpload(string runId, long ticks, DateTimeOffset ts, RecordBatch[] batches,
    IReadOnlyList<(TableId Table, string? Source)> targets, IReadOnlyDictionary<string, List<RowRun>> rows, long bytes)
{
    private readonly ConcurrentDictionary<string, List<RowRun>> _rows = new(rows, StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(TableId Table, string Symbol), RecordBatch> _built = new();

    public string RunId { get; } = runId;

    /// <summary>The acknowledgement's order (UTC ticks, increasing): the applier applies uploads in this order, so reads merge them in it too.</summary>
    public long Ticks { get; } = ticks;

    /// <summary>The lineage time the applier stamps (the acknowledgement's).</summary>
    public DateTimeOffset Ts { get; } = ts;

    public long Bytes { get; } = bytes;

    public RecordBatch[] Batches { get; } = batches;

    /// <summary>Whether the symbol has rows not applied yet (no copy of the key list).</summary>
    public bool Has(string symbol) => _rows.ContainsKey(symbol);

    /// <summary>Symbols not applied yet.</summary>
    public ICollection<string> Symbols => _rows.Keys;

    /// <summary>The (table, source) pair of <paramref name="table"/> among the upload's targets, or null.</summary>
    public (TableId Table, string? Source)? Target(TableId table)
    {
        foreach (var t in targets)
        {
            if (t.Table == table)
            {
                return t;
            }
        }
        return null;
    }

    /// <summary>The symbol's rows in the table's shape (built once by <paramref name="build"/>), or null when the upload has none pending.</summary>
    public RecordBatch? RowsOf(TableId table, string symbol, Func<PendingUpload, (TableId Table, string? Source), List<RowRun>, RecordBatch> build)
    {
        if (Target(table) is not { } target || !_rows.TryGetValue(symbol, out var runs))
        {
            return null;
        }
        return _built.GetOrAdd((table, symbol), _ => build(this, target, runs));
    }

    /// <summary>The applier committed these symbols: reads find them in the table from now on.</summary>
    public void Applied(IEnumerable<string> symbols)
    {
        foreach (var s in symbols)
        {
            _rows.TryRemove(s, out _);
            foreach (var t in targets)
            {
                _built.TryRemove((t.Table, s), out _);
            }
        }
    }
}

/// <summary>Rows <see cref="Start"/> to <see cref="Start"/> + <see cref="Length"/> of batch <see cref="Batch"/> of an upload.</summary>
internal readonly record struct RowRun(int Batch, int Start, int Length);

/// <summary>
/// Where each (normalised) symbol's rows are in an upload's batches, as runs of rows, built batch by batch
/// while the upload streams in: a compare of each row's symbol bytes with the row before, and one
/// dictionary lookup per run (an upload grouped by symbol has one run per symbol and batch).
/// </summary>
internal sealed class SymbolRuns
{
    private readonly Dictionary<string, List<RowRun>> _runs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _normalized = new(StringComparer.Ordinal);
    private int _batches;

    public IReadOnlyDictionary<string, List<RowRun>> Runs => _runs;

    public void Add(RecordBatch batch)
    {
        var symbols = (StringArray)batch.Column(TableDefinition.SymbolColumn);
        var b = _batches++;
        foreach (var (start, count) in Lakehouse.Flight.Core.RecordBatches.Runs(symbols))
        {
            var raw = symbols.GetString(start);
            if (!_normalized.TryGetValue(raw, out var symbol))
            {
                _normalized[raw] = symbol = Lakehouse.Flight.Core.Symbols.Normalize(raw);
            }
            if (!_runs.TryGetValue(symbol, out var list))
            {
                _runs[symbol] = list = [];
            }
            list.Add(new RowRun(b, start, count));
        }
    }
}

/// <summary>
/// The queryable buffer (docs/decisions.md D27): uploads acknowledged from the write-ahead log and not yet
/// applied, held in memory so reads include them from the acknowledgement on, in the order they were
/// acknowledged. Only tables with one row per key and not kept per source (silver) are covered; bronze and
/// gold follow when the upload is applied. Bounded by <see cref="BudgetBytes"/>: an upload that does not
/// fit stays out of the buffer whole and is visible once applied.
/// </summary>
internal sealed class PendingRows(long budgetBytes)
{
    private readonly object _gate = new();
    private List<PendingUpload> _uploads = [];
    private long _bytes;

    public long BudgetBytes { get; } = budgetBytes;

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>True while nothing is pending: reads then skip the buffer with one volatile read.</summary>
    public bool IsEmpty => Volatile.Read(ref _uploads).Count == 0;

    /// <summary>Whether the buffer covers a table: one row per key, kept in one folder.</summary>
    public static bool Covers(TableDefinition table) => table.Mode == WriteMode.Upsert && !table.PerSource;

    /// <summary>Adds an upload unless it would take the buffer past its budget; returns whether it was added.</summary>
    public bool TryAdd(PendingUpload upload)
    {
        lock (_gate)
        {
            if (_bytes + upload.Bytes > BudgetBytes)
            {
                return false;
            }
            Volatile.Write(ref _uploads, [.. _uploads.Append(upload).OrderBy(u => u.Ticks)]);
            Interlocked.Add(ref _bytes, upload.Bytes);
            return true;
        }
    }

    /// <summary>The upload is applied (or set aside): it leaves the buffer.</summary>
    public bool Remove(string runId)
    {
        lock (_gate)
        {
            var gone = _uploads.Where(u => u.RunId == runId).ToList();
            if (gone.Count == 0)
            {
                return false;
            }
            Volatile.Write(ref _uploads, _uploads.Where(u => u.RunId != runId).ToList());
            Interlocked.Add(ref _bytes, -gone.Sum(u => u.Bytes));
            return true;
        }
    }

    /// <summary>The pending upload of <paramref name="runId"/>, or null.</summary>
    public PendingUpload? Find(string runId) => Volatile.Read(ref _uploads).FirstOrDefault(u => u.RunId == runId);

    /// <summary>Uploads pending for the table in the applier's order (a snapshot: safe to enumerate while others add and remove).</summary>
    public IReadOnlyList<PendingUpload> For(TableId table) =>
        Volatile.Read(ref _uploads).Where(u => u.Target(table) is not null).ToArray();

    /// <summary>Whether some pending upload has rows of the symbol in the table (nothing is built).</summary>
    public bool Holds(TableId table, string symbol)
    {
        foreach (var u in Volatile.Read(ref _uploads))
        {
            if (u.Has(symbol) && u.Target(table) is not null)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Symbols with rows pending in the table.</summary>
    public IEnumerable<string> SymbolsOf(TableId table) =>
        For(table).SelectMany(u => u.Symbols).Distinct(StringComparer.Ordinal);
}
