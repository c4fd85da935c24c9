using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion.Csv;

/// <summary>
/// The bars of one symbol gathered from its files: one per date, the last one read winning (later line
/// in a file, later file in the folder), every dropped row kept as a reason.
/// </summary>
internal sealed class SymbolBars(string symbol, string source, DateTimeOffset ingestedAt)
{
    private readonly Dictionary<DateOnly, Entry> _byDate = [];
    private readonly List<string> _rejected = [];

    public string Symbol { get; } = symbol;

    public void Reject(string reason) => _rejected.Add(reason);

    public void Add(DateOnly date, double open, double high, double low, double close, double? adjClose, long volume, string file, long line)
    {
        var bar = new PriceBar(Symbol, date, open, high, low, close, adjClose, volume, source, ingestedAt);
        if (_byDate.TryGetValue(date, out var earlier))
        {
            _rejected.Add(string.Equals(earlier.File, file, StringComparison.Ordinal)
                ? $"{file}:{earlier.Line}: duplicate date {date:yyyy-MM-dd}; line {line} is kept (the last one wins)"
                : $"{earlier.File}:{earlier.Line}: {date:yyyy-MM-dd} is replaced by {file}:{line} (the later file wins)");
        }
        _byDate[date] = new Entry(bar, file, line);
    }

    public SourceResult ToResult()
    {
        var bars = new PriceBar[_byDate.Count];
        var i = 0;
        foreach (var entry in _byDate.Values)
        {
            bars[i++] = entry.Bar;
        }
        Array.Sort(bars, static (a, b) => a.Date.CompareTo(b.Date));
        return new SourceResult(Symbol, bars, [], _rejected);
    }

    private readonly record struct Entry(PriceBar Bar, string File, long Line);
}
