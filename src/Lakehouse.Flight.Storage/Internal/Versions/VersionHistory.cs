namespace Lakehouse.Flight.Storage.Internal;

/// <summary>What one version did to one table: the symbols whose rows changed, the sources and row counts of its StorageReports, files added and removed.</summary>
internal sealed record TableVersionSummary(string Table, string[] Symbols, string[] Sources, long Inserted, long Updated, long Unchanged,
    long Rejected, int FilesAdded, int FilesRemoved);

/// <summary>One version of the lake as the version listing shows it (a log entry without its file lists and reports).</summary>
internal sealed record VersionSummary(long Version, DateTimeOffset Ts, string Operation, string? RunId, TableVersionSummary[] Tables);

/// <summary>
/// The versions of the lake, summarised from the commit log once per process (a hundred versions at a time from their
/// summary file, <see cref="VersionSummaryFiles"/>; the entries after the last full hundred one by one) and extended as
/// new entries appear (the log's entries never change): the version listing, the resolution of an instant to the last version committed at or
/// before it, and per table the oldest version from which every later one is still readable (every file a vacuum
/// expired was superseded before it).
/// </summary>
internal sealed class VersionHistory(LakeLog log, VersionSummaryFiles? summaries = null)
{
    private readonly Lock _gate = new();
    private readonly List<VersionSummary> _versions = [];
    private long _loaded;

    /// <summary>One instance per symbol, table and source name across the summaries (a long log repeats them in every entry).</summary>
    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);

    /// <summary>Each distinct list of symbols or sources once (keyed by its names joined), and the last one asked for.</summary>
    private readonly Dictionary<string, string[]> _lists = new(StringComparer.Ordinal);
    private readonly Dictionary<string[], string[]> _byInstance = new(ReferenceEqualityComparer.Instance);

    /// <summary>"table/name" of each file not expired yet, with the version that added it.</summary>
    private readonly Dictionary<(string Table, string Name), long> _addedAt = [];

    /// <summary>"table/name" of each superseded file not expired yet, with the version that superseded it.</summary>
    private readonly Dictionary<(string Table, string Name), long> _removedAt = [];

    /// <summary>Per table, the versions [added, superseded) of each file a vacuum deleted: exactly the versions no longer readable.</summary>
    private readonly Dictionary<string, List<(long From, long To)>> _vacuumed = new(StringComparer.Ordinal);

    /// <summary>Per table, the first version whose files no vacuum has deleted, nor any later version's (absent: every version).</summary>
    private readonly Dictionary<string, long> _readableFrom = new(StringComparer.Ordinal);

    /// <summary>The summaries of versions 1..<paramref name="latest"/> (entries read once, then kept), oldest first.</summary>
    public IReadOnlyList<VersionSummary> Upto(long latest)
    {
        lock (_gate)
        {
            var v = _loaded + 1;
            while (v <= latest)
            {
                var last = VersionSummaryFiles.LastOf(v);
                if (summaries is not null && v == last - LakeLog.CheckpointInterval + 1 && last <= latest)
                {
                    foreach (var record in summaries.Load(last))
                    {
                        Add(record);
                    }
                    _loaded = last;
                    v = last + 1;
                    continue;
                }
                if (log.Exists(v))
                {
                    Add(Summarize(log.Read(v)));
                }
                _loaded = v;
                v++;
            }
            return _versions.Count > 0 && _versions[^1].Version > latest
                ? _versions.Where(s => s.Version <= latest).ToArray()
                : _versions.ToArray();
        }
    }

    /// <summary>The last version committed at or before <paramref name="instant"/> (0: before the first commit). Commit times rise with versions (one clock stamps them before the put-if-absent).</summary>
    public long VersionAt(DateTimeOffset instant, long latest)
    {
        var versions = Upto(latest);
        int lo = 0, hi = versions.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (versions[mid].Ts <= instant)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return found < 0 ? 0 : versions[found].Version;
    }

    /// <summary>The first version of <paramref name="table"/> from which every version up to <paramref name="latest"/> is readable (0 when nothing was vacuumed).</summary>
    public long ReadableFrom(string table, long latest)
    {
        Upto(latest);
        lock (_gate)
        {
            return _readableFrom.GetValueOrDefault(table, 0);
        }
    }

    /// <summary>
    /// The versions of <paramref name="table"/> that are no longer readable, as sorted disjoint ranges [From, To): a
    /// version is unreadable exactly when it names a file a vacuum deleted (snapshot-pinned files are never deleted).
    /// </summary>
    public IReadOnlyList<(long From, long To)> Vacuumed(string table, long latest)
    {
        Upto(latest);
        lock (_gate)
        {
            if (!_vacuumed.TryGetValue(table, out var spans) || spans.Count == 0)
            {
                return [];
            }
            var merged = new List<(long From, long To)>();
            foreach (var (from, to) in spans.OrderBy(s => s.From))
            {
                if (merged.Count > 0 && from <= merged[^1].To)
                {
                    merged[^1] = (merged[^1].From, Math.Max(merged[^1].To, to));
                }
                else
                {
                    merged.Add((from, to));
                }
            }
            _vacuumed[table] = merged;
            return [.. merged];
        }
    }

    /// <summary>Whether <paramref name="version"/> lies in none of <paramref name="vacuumed"/> (sorted, disjoint).</summary>
    public static bool Readable(IReadOnlyList<(long From, long To)> vacuumed, long version)
    {
        int lo = 0, hi = vacuumed.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (version < vacuumed[mid].From)
            {
                hi = mid - 1;
            }
            else if (version >= vacuumed[mid].To)
            {
                lo = mid + 1;
            }
            else
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>What the listing and the readable-version bookkeeping keep of one entry.</summary>
    public static VersionRecord Summarize(LogEntry entry)
    {
        var tables = new TableVersionSummary[entry.Tables.Count];
        var added = new string[tables.Length][];
        var removed = new string[tables.Length][];
        for (var t = 0; t < tables.Length; t++)
        {
            var change = entry.Tables[t];
            var (layer, name) = Split(change.Table);
            var reports = entry.Reports.Where(r => r.Layer == layer && r.Table == name).ToArray();
            tables[t] = new TableVersionSummary(change.Table, [.. change.Symbols],
                [.. reports.Select(r => r.Source).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
                reports.Sum(r => r.Inserted), reports.Sum(r => r.Updated), reports.Sum(r => r.Unchanged), reports.Sum(r => r.Rejected),
                change.Add.Count, change.Remove.Count);
            added[t] = [.. change.Add.Select(a => a.Name)];
            removed[t] = [.. change.Remove];
        }
        return new VersionRecord(new VersionSummary(entry.Version, entry.Ts, entry.Operation, entry.RunId, tables), added, removed,
            [.. entry.Expired ?? []]);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void Add(VersionRecord record)
    {
        var summary = record.Summary;
        var tables = new TableVersionSummary[summary.Tables.Length];
        for (var t = 0; t < tables.Length; t++)
        {
            var change = summary.Tables[t];
            tables[t] = change with { Table = Name(change.Table), Symbols = Names(change.Symbols), Sources = Names(change.Sources) };
            foreach (var added in record.Added[t])
            {
                _addedAt[(tables[t].Table, added)] = summary.Version;
            }
            foreach (var removed in record.Removed[t])
            {
                _removedAt[(tables[t].Table, removed)] = summary.Version;
            }
        }
        foreach (var expired in record.Expired)
        {
            var slash = expired.LastIndexOf('/');
            var key = (Table: expired[..slash], Name: expired[(slash + 1)..]);
            if (_removedAt.Remove(key, out var removedAt))
            {
                var table = key.Table;
                _readableFrom[table] = Math.Max(_readableFrom.GetValueOrDefault(table, 0), removedAt);
                _addedAt.Remove(key, out var addedAt);
                if (!_vacuumed.TryGetValue(table, out var spans))
                {
                    _vacuumed[table] = spans = [];
                }
                spans.Add((addedAt, removedAt));
            }
        }
        _versions.Add(summary with { Tables = tables });
    }

    /// <summary>
    /// One array per distinct list of names across the summaries (a daily append of 500 symbols names the same 500 in
    /// every version): the same instance from a summary file, or a list with equal names, is shared.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private string[] Names(string[] names)
    {
        if (names.Length == 0)
        {
            return [];
        }
        if (_byInstance.TryGetValue(names, out var kept))
        {
            return kept;
        }
        var key = string.Join('\n', names);
        if (!_lists.TryGetValue(key, out kept))
        {
            kept = [.. names.Select(Name)];
            _lists[key] = kept;
        }
        if (_byInstance.Count >= 4096)
        {
            _byInstance.Clear();
        }
        _byInstance[names] = kept;
        return kept;
    }

    private string Name(string name)
    {
        if (_names.TryGetValue(name, out var kept))
        {
            return kept;
        }
        _names[name] = name;
        return name;
    }

    private static (string Layer, string Table) Split(string id)
    {
        var slash = id.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? ("", id) : (id[..slash], id[(slash + 1)..]);
    }
}
