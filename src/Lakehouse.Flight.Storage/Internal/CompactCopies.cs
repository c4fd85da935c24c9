using System.Collections.Concurrent;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// The compacted copies under <c>_metadata/compact/</c>: one file per (table, symbol) holding all its
/// rows (<see cref="CompactFiles"/>). A copy is a cache of the month files, never their replacement: a
/// month of it is used only while the month file's stamp equals the one the copy recorded, and a copy
/// that cannot be read whole is deleted and rebuilt, never served. Also tracks which symbols changed
/// since their copy was last checked (our commits and the change feed), so a compaction pass after
/// the first one looks only at those.
/// </summary>
internal sealed class CompactCopies(LakePaths paths, ILogger logger)
{
    private readonly ConcurrentDictionary<(TableId Table, string Symbol), byte> _dirty = new();
    private readonly ConcurrentDictionary<TableId, bool> _checked = new();
    private long _rejected;

    /// <summary>Copies read whole for a read or the warm-up (tests and diagnostics).</summary>
    public long Loaded => Interlocked.Read(ref _loaded);

    private long _loaded;

    /// <summary>Copies found damaged and deleted (tests and diagnostics).</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Tables with copies: one row per key and more than one file per symbol.</summary>
    public static bool Applies(TableId table) => !table.Definition.PerSource && table.Definition.Partitioning != Partitioning.Symbol;

    public string PathOf(TableId table, string symbol) => paths.CompactFile(table, symbol);

    public bool Exists(TableId table, string symbol) => File.Exists(PathOf(table, symbol));

    /// <summary>
    /// The symbol's copy, or null when there is none or it is damaged (then it is deleted and the symbol marked
    /// for a rebuild). <paramref name="shortLived"/>: its rows serve one read and are not kept (memory layout only).
    /// </summary>
    public CompactCopy? Load(TableId table, string symbol, bool shortLived = false)
    {
        var path = PathOf(table, symbol);
        try
        {
            var copy = CompactFiles.Read(path, table.Definition, shortLived);
            Interlocked.Increment(ref _loaded);
            return copy;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (InvalidDataException ex)
        {
            Reject(table, symbol, path, ex.Message);
            return null;
        }
    }

    /// <summary>The month table of the symbol's copy; null when there is none or it is damaged.</summary>
    public MonthRange[]? Months(TableId table, string symbol)
    {
        var path = PathOf(table, symbol);
        try
        {
            return CompactFiles.ReadMonths(path, table.Definition);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (InvalidDataException ex)
        {
            Reject(table, symbol, path, ex.Message);
            return null;
        }
    }

    private void Reject(TableId table, string symbol, string path, string why)
    {
        Interlocked.Increment(ref _rejected);
        StorageLog.CompactCopyRejected(logger, why);
        DurableFile.TryDelete(path);
        MarkDirty(table, symbol);
    }

    /// <summary>Replaces the symbol's copy whole: temp file beside it, fsync, rename, folder fsync. Returns the file's size.</summary>
    public long Write(TableId table, string symbol, RecordBatch rows, IReadOnlyList<MonthRange> months)
    {
        var path = PathOf(table, symbol);
        var bytes = CompactFiles.Encode(table.Definition, rows, months);
        var temp = DurableFile.WriteTemp(path, s => s.Write(bytes));
        try
        {
            DurableFile.CommitTemp(temp, path);
        }
        catch
        {
            DurableFile.TryDelete(temp);
            throw;
        }
        DurableFile.FsyncDirectory(Path.GetDirectoryName(path)!);
        return bytes.Length;
    }

    public void Delete(TableId table, string symbol) => DurableFile.TryDelete(PathOf(table, symbol));

    /// <summary>The symbol's month files changed (our commit or another process's): its copy needs a look.</summary>
    public void MarkDirty(TableId table, string symbol)
    {
        if (Applies(table))
        {
            _dirty[(table, symbol)] = 0;
        }
    }

    /// <summary>
    /// Symbols a compaction pass should check: every symbol of the table the first time (or when
    /// <paramref name="all"/>), else those marked dirty since the last pass (taken off the list).
    /// </summary>
    public (IReadOnlyList<string> Symbols, bool Full) TakeCandidates(TableId table, IReadOnlyList<string> allSymbols, bool all)
    {
        var first = !_checked.ContainsKey(table);
        var dirty = new List<string>();
        foreach (var key in _dirty.Keys)
        {
            if (key.Table == table && _dirty.TryRemove(key, out _))
            {
                dirty.Add(key.Symbol);
            }
        }
        if (first || all)
        {
            return (allSymbols, true);
        }
        dirty.Sort(StringComparer.Ordinal);
        return (dirty, false);
    }

    /// <summary>The first full pass over a table is done (from now on only dirty symbols are checked).</summary>
    public void MarkChecked(TableId table) => _checked[table] = true;

    /// <summary>Symbols with a copy on disk (for removing copies of symbols that no longer have month files).</summary>
    public IEnumerable<string> SymbolsOnDisk(TableId table)
    {
        var dir = paths.CompactTableDir(table);
        if (!Directory.Exists(dir))
        {
            yield break;
        }
        foreach (var d in Directory.EnumerateDirectories(dir, "symbol=*"))
        {
            if (Symbols.TryNormalize(HivePath.Unescape(Path.GetFileName(d)["symbol=".Length..]), out var symbol, out _))
            {
                yield return symbol;
            }
        }
    }

    /// <summary>Deletes temp files that dead processes left while writing copies; returns how many.</summary>
    public int RemoveDeadTemps()
    {
        var dir = paths.CompactDir;
        if (!Directory.Exists(dir))
        {
            return 0;
        }
        var removed = 0;
        foreach (var t in Directory.EnumerateFiles(dir, DurableFile.TempPrefix + "*", SearchOption.AllDirectories))
        {
            if (DurableFile.OwnerPid(t) is { } pid && !ProcessLiveness.IsAlive(pid))
            {
                DurableFile.TryDelete(t);
                removed++;
            }
        }
        return removed;
    }
}
