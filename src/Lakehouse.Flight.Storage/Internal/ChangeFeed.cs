using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// Sees writes of other processes (the CLI beside a running server) through the manifests they
/// append after every commit: one file-length check per query; on growth the new lines name the
/// symbols whose index entries and cached partitions are refreshed.
/// </summary>
internal sealed class ChangeFeed(TableCatalog catalog, LakePaths paths, PartitionIndex index, ReadCache cache, ILogger logger)
{
    private readonly Dictionary<string, long> _offsets = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public void Start()
    {
        lock (_gate)
        {
            foreach (var table in catalog.Tables)
            {
                var file = paths.ManifestFile(table);
                _offsets[file] = File.Exists(file) ? new FileInfo(file).Length : 0;
            }
        }
    }

    public void OnOwnAppend(string file, long before, long after)
    {
        lock (_gate)
        {
            if (_offsets.TryGetValue(file, out var known) && known == before)
            {
                _offsets[file] = after;
            }
        }
    }

    public void Poll(TableDefinition table)
    {
        var file = paths.ManifestFile(table);
        var info = new FileInfo(file);
        long known;
        lock (_gate)
        {
            _offsets.TryGetValue(file, out known);
        }
        if (!info.Exists || info.Length == known)
        {
            return;
        }
        lock (_gate)
        {
            _offsets.TryGetValue(file, out known);
            var lines = new List<string>();
            var next = ManifestLog.ReadLines(file, known, lines);
            Refresh(table, lines);
            _offsets[file] = next;
        }
    }

    /// <summary>Re-lists and forgets the symbols a manifest file's lines name (lines from another process, or a recovered journal).</summary>
    public void Refresh(string manifestFile, IEnumerable<string> lines)
    {
        if (catalog.Tables.FirstOrDefault(t => paths.ManifestFile(t) == manifestFile) is { } table)
        {
            Refresh(table, lines);
        }
    }

    private void Refresh(TableDefinition table, IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            StorageReport? report;
            try
            {
                report = StorageReport.FromJson(line);
            }
            catch (System.Text.Json.JsonException)
            {
                continue;
            }
            if (report is null || !Symbols.TryNormalize(report.Symbol, out var symbol, out _))
            {
                continue;
            }
            TableId id;
            try
            {
                id = table.PerSource ? new TableId(table, Sources.Normalize(report.Source)) : new TableId(table);
            }
            catch (LakehouseException)
            {
                continue;
            }
            index.Rescan(id, symbol);
            cache.Invalidate(id, symbol);
            StorageLog.ExternalChange(logger, id.ToString(), symbol);
        }
    }
}
