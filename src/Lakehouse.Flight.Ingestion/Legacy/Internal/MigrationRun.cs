using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Ingestion.Legacy.Internal;

/// <summary>One legacy row that passed the checks: its date (date32 day) and values, and its source (an index).</summary>
internal readonly record struct LegacyRow(int Day, double Open, double High, double Low, double Close, double? AdjClose, long Volume, int Source);

/// <summary>What a migration run keeps between its passes and chunks: symbol ids, counts and the tallies it reports.</summary>
internal sealed class MigrationRun(LegacyFile file, string? fixedSource, bool dryRun, string runId)
{
    private const int MaxExamples = 20;

    private readonly Dictionary<string, (int Id, string? Error)> _raw = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Id, string? Error)> _sources = new(StringComparer.Ordinal);

    public LegacyFile File { get; } = file;
    public string? FixedSource { get; } = fixedSource;
    public bool DryRun { get; } = dryRun;
    public string RunId { get; } = runId;

    /// <summary>Normalised symbol by id; several spellings (<c>aapl</c>, <c>AAPL</c>) share one id.</summary>
    public List<string> Names { get; } = [];
    public List<long> Counts { get; } = [];

    /// <summary>Per row group, the symbol ids it holds: a chunk reads only the row groups that hold its symbols.</summary>
    public List<HashSet<int>> GroupsOf { get; } = [];

    public List<string> SourceNames { get; } = [];
    public SortedDictionary<string, long> InvalidByReason { get; } = new(StringComparer.Ordinal);
    public List<string> Examples { get; } = [];
    public long Duplicates { get; set; }
    public long RowsMigrated { get; set; }
    public List<StorageReport> Reports { get; } = [];
    public List<SymbolCheck> Checks { get; } = [];

    public int SymbolId(string? raw, out string? error)
    {
        if (raw is null)
        {
            error = "symbol is null";
            return -1;
        }
        if (!_raw.TryGetValue(raw, out var known))
        {
            if (Symbols.TryNormalize(raw, out var normalized, out var e))
            {
                if (!_byName.TryGetValue(normalized, out var id))
                {
                    id = Names.Count;
                    _byName[normalized] = id;
                    Names.Add(normalized);
                    Counts.Add(0);
                }
                known = (id, null);
            }
            else
            {
                known = (-1, e);
            }
            _raw[raw] = known;
        }
        error = known.Error;
        return known.Id;
    }

    /// <summary>The source index of a row: the fixed source, else the row's own (null or empty means <c>legacy</c>).</summary>
    public int SourceId(string? raw, out string? error)
    {
        var name = FixedSource ?? (string.IsNullOrWhiteSpace(raw) ? LegacyMigrationRequest.DefaultSource : raw);
        if (!_sources.TryGetValue(name, out var known))
        {
            try
            {
                var normalized = Sources.Normalize(name);
                var id = SourceNames.IndexOf(normalized);
                if (id < 0)
                {
                    id = SourceNames.Count;
                    SourceNames.Add(normalized);
                }
                known = (id, null);
            }
            catch (LakehouseException ex)
            {
                known = (-1, ex.Message);
            }
            _sources[name] = known;
        }
        error = known.Error;
        return known.Id;
    }

    public void Invalid(string kind, string example)
    {
        InvalidByReason[kind] = InvalidByReason.GetValueOrDefault(kind) + 1;
        Note(example);
    }

    public void Note(string example)
    {
        if (Examples.Count < MaxExamples)
        {
            Examples.Add(example);
        }
    }
}
