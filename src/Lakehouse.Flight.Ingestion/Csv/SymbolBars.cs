using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion.Csv;

/// <summary>
/// The bars of one symbol gathered from its files: one per date, the last one read winning (later line
/// in a file, later file in the folder), every dropped row kept as a reason.
/// </summary>
/// <remarks>
/// Rows are appended in reading order and sorted only when they did not arrive date-ascending (the usual
/// file is): no per-date dictionary, which cost about 100 bytes a row.
/// </remarks>
internal sealed class SymbolBars(string symbol, string source, DateTimeOffset ingestedAt)
{
    // The shortest real price row (a Stooq line with short prices) is about 40 bytes.
    private const int MinRowBytes = 40;

    private readonly List<Entry> _entries = [];
    private readonly List<string> _rejected = [];
    private bool _ascending = true;

    public string Symbol { get; } = symbol;

    public void Reject(string reason) => _rejected.Add(reason);

    /// <summary>Sizes the list once from the files' lengths: growing it by doubling copies it and, past
    /// 85 KB, each copy is a large-object allocation that costs a gen-2 collection.</summary>
    public void Reserve(long fileBytes) => _entries.EnsureCapacity(_entries.Count + (int)Math.Min(fileBytes / MinRowBytes, 1 << 24));

    public void Add(DateOnly date, double open, double high, double low, double close, double? adjClose, long volume, string file, long line)
    {
        if (_entries.Count > 0 && date <= _entries[^1].Bar.Date)
        {
            _ascending = false;
        }
        _entries.Add(new Entry(new PriceBar(Symbol, date, open, high, low, close, adjClose, volume, source, ingestedAt), file, line, _entries.Count));
    }

    public SourceResult ToResult()
    {
        if (!_ascending)
        {
            // Reading order breaks ties, so the last row read for a date ends its run of equals.
            _entries.Sort(static (a, b) => a.Bar.Date != b.Bar.Date ? a.Bar.Date.CompareTo(b.Bar.Date) : a.Order.CompareTo(b.Order));
        }
        var bars = new List<PriceBar>(_entries.Count);
        for (var i = 0; i < _entries.Count; i++)
        {
            var end = i;
            while (end + 1 < _entries.Count && _entries[end + 1].Bar.Date == _entries[i].Bar.Date)
            {
                end++;
            }
            var kept = _entries[end];
            for (var j = i; j < end; j++)
            {
                var dropped = _entries[j];
                _rejected.Add(string.Equals(dropped.File, kept.File, StringComparison.Ordinal)
                    ? $"{dropped.File}:{dropped.Line}: duplicate date {kept.Bar.Date:yyyy-MM-dd}; line {kept.Line} is kept (the last one wins)"
                    : $"{dropped.File}:{dropped.Line}: {kept.Bar.Date:yyyy-MM-dd} is replaced by {kept.File}:{kept.Line} (the later file wins)");
            }
            bars.Add(kept.Bar);
            i = end;
        }
        return new SourceResult(Symbol, bars, [], _rejected);
    }

    private readonly record struct Entry(PriceBar Bar, string File, long Line, int Order);
}
