using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

public sealed partial class PriceStore
{
    /// <summary>
    /// Sees writes of other processes (the CLI beside a running server) through the manifests they
    /// append after every commit: one file-length check per query; on growth the new lines name the
    /// symbols whose index entries and cached partitions are refreshed.
    /// </summary>
    private sealed class ChangeFeed(PriceStore store)
    {
        private readonly Dictionary<string, long> _offsets = new(StringComparer.Ordinal);
        private readonly object _gate = new();

        public void Start()
        {
            lock (_gate)
            {
                foreach (var (layer, table) in PriceQuery.Datasets)
                {
                    var file = store.Paths.ManifestFile(layer, table);
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

        public void Poll(Layer layer, string table)
        {
            var file = store.Paths.ManifestFile(layer, table);
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
                    var t = layer == Layer.Bronze ? TableId.Bronze(report.Source, table) : new TableId(layer, table);
                    store._index.Rescan(t, symbol);
                    store._symbols.Invalidate(t, symbol);
                    store._cache.RemovePrefix(store.Paths.SymbolDir(t, symbol) + Path.DirectorySeparatorChar);
                    StorageLog.ExternalChange(store._logger, t.ToString(), symbol);
                }
                _offsets[file] = next;
            }
        }
    }
}
