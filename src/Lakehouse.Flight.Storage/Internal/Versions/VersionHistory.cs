namespace Lakehouse.Flight.Storage.Internal;

/// <summary>What one version did to one table: the symbols whose rows changed, the sources and row counts of its StorageReports, files added and removed.</summary>
internal sealed record TableVersionSummary(string Table, string[] Symbols, string[] Sources, long Inserted, long Updated, long Unchanged,
    long Rejected, int FilesAdded, int FilesRemoved);

/// <summary>One version of the lake as the version listing shows it (a log entry without its file lists and reports).</summary>
internal sealed record VersionSummary(long Version, DateTimeOffset Ts, string Operation, string? RunId, TableVersionSummary[] Tables);

/// <summary>
/// The versions of the lake, summarised from the commit log once per process and extended as new entries appear (the
/// log's entries never change): the version listing, the resolution of an instant to the last version committed at or
/// before it, and per table the oldest version from which every later one is still readable (every file a vacuum
/// expired was superseded before it).
/// </summary>
internal sealed class VersionHistory(LakeLog log)
{
    private readonly Lock _gate = new();
    private readonly List<VersionSummary> _versions = [];
    private long _loaded;

    /// <summary>One instance per symbol, table and source name across the summaries (a long log repeats them in every entry).</summary>
    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);

    /// <summary>"table/name" of each file not expired yet, with the version that added it.</summary>
    private readonly Dictionary<string, long> _addedAt = new(StringComparer.Ordinal);

    /// <summary>"table/name" of each superseded file not expired yet, with the version that superseded it.</summary>
    private readonly Dictionary<string, long> _removedAt = new(StringComparer.Ordinal);

    /// <summary>Per table, the versions [added, superseded) of each file a vacuum deleted: exactly the versions no longer readable.</summary>
    private readonly Dictionary<string, List<(long From, long To)>> _vacuumed = new(StringComparer.Ordinal);

    /// <summary>Per table, the first version whose files no vacuum has deleted, nor any later version's (absent: every version).</summary>
    private readonly Dictionary<string, long> _readableFrom = new(StringComparer.Ordinal);

    /// <summary>The summaries of versions 1..<paramref name="latest"/> (entries read once, then kept), oldest first.</summary>
    public IReadOnlyList<VersionSummary> Upto(long latest)
    {
        lock (_gate)
        {
            for (var v = _loaded + 1; v <= latest; v++)
            {
                if (log.Exists(v))
                {
                    Add(log.Read(v));
                }
                _loaded = v;
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

    private void Add(LogEntry entry)
    {
        var tables = new List<TableVersionSummary>(entry.Tables.Count);
        foreach (var change in entry.Tables)
        {
            var (layer, name) = Split(change.Table);
            var reports = entry.Reports.Where(r => r.Layer == layer && r.Table == name).ToArray();
            tables.Add(new TableVersionSummary(Name(change.Table), [.. change.Symbols.Select(Name)],
                [.. reports.Select(r => r.Source).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(Name)],
                reports.Sum(r => r.Inserted), reports.Sum(r => r.Updated), reports.Sum(r => r.Unchanged), reports.Sum(r => r.Rejected),
                change.Add.Count, change.Remove.Count));
            foreach (var added in change.Add)
            {
                _addedAt[change.Table + "/" + added.Name] = entry.Version;
            }
            foreach (var removed in change.Remove)
            {
                _removedAt[change.Table + "/" + removed] = entry.Version;
            }
        }
        foreach (var expired in entry.Expired ?? [])
        {
            if (_removedAt.Remove(expired, out var removedAt))
            {
                var table = expired[..expired.LastIndexOf('/')];
                _readableFrom[table] = Math.Max(_readableFrom.GetValueOrDefault(table, 0), removedAt);
                _addedAt.Remove(expired, out var addedAt);
                if (!_vacuumed.TryGetValue(table, out var spans))
                {
                    _vacuumed[table] = spans = [];
                }
                spans.Add((addedAt, removedAt));
            }
        }
        _versions.Add(new VersionSummary(entry.Version, entry.Ts, entry.Operation, entry.RunId, [.. tables]));
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
