using System.Runtime.CompilerServices;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion.Csv;

/// <summary>
/// Daily bars from Yahoo-style and Stooq-style CSV files, for offline bulk loads. <see cref="SourceRequest.Path"/>
/// is a file or a folder (its <c>*.csv</c> and <c>*.txt</c> files, not sub-folders, in name order).
/// </summary>
/// <remarks>
/// The symbol is <see cref="SourceRequest.Symbols"/>' single entry when the path is one file (the
/// <c>--symbol</c> override), else the <c>&lt;TICKER&gt;</c> column of a Stooq bulk file, else the file
/// name without its extension (<c>AAPL.csv</c> is AAPL, Stooq's <c>aapl.us.txt</c> is AAPL.US, the same
/// as the ticker inside Stooq's own files). Otherwise <see cref="SourceRequest.Symbols"/> filters: only
/// those symbols' files are read, and a listed symbol without a file fails. Files of one symbol merge,
/// the later file winning a date both hold. A file that cannot be read fails its whole symbol (a merge
/// without it could keep values that file would have replaced). One symbol's bars are in memory at a time.
/// </remarks>
public sealed class CsvPriceSource(TimeProvider? timeProvider = null) : IPriceSource
{
    public const string SourceName = "csv";

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    public string Name => SourceName;

    public async IAsyncEnumerable<SourceResult> FetchAsync(SourceRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.From > request.To)
        {
            throw LakehouseException.Invalid($"date_from {request.From:yyyy-MM-dd} is after date_to {request.To:yyyy-MM-dd}");
        }
        var (files, isFolder) = ListFiles(request.Path);
        var wanted = Symbols.NormalizeAll(request.Symbols);
        var symbolOverride = !isFolder && wanted.Count == 1 ? wanted[0] : null;
        var filter = symbolOverride is null && wanted.Count > 0 ? new HashSet<string>(wanted, StringComparer.Ordinal) : null;

        // Timestamps are stored in microseconds; truncate so a bar read back compares equal.
        var now = _time.GetUtcNow();
        var ingestedAt = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % 10), TimeSpan.Zero);

        foreach (var group in Plan(files, symbolOverride, filter, request.Path!, cancellationToken))
        {
            // Parsing is synchronous CPU work on buffered reads; yielding first keeps it off the caller's context.
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return Read(group, request.From, request.To, ingestedAt, cancellationToken);
        }
    }

    private static (IReadOnlyList<string> Files, bool IsFolder) ListFiles(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw LakehouseException.Invalid("the csv source needs a file or folder to read (--path)");
        }
        if (File.Exists(path))
        {
            return ([path], false);
        }
        if (!Directory.Exists(path))
        {
            throw LakehouseException.Invalid($"'{path}' does not exist: give a CSV file or a folder of them");
        }
        // Not recursive: a folder is one load. Sub-folders are often other exports or backups whose
        // files would silently merge over these.
        var options = new EnumerationOptions { MatchCasing = MatchCasing.CaseInsensitive, RecurseSubdirectories = false };
        var files = Directory.EnumerateFiles(path, "*", options)
            .Where(f => f.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".txt", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
        {
            throw LakehouseException.Invalid($"folder '{path}' holds no *.csv or *.txt files");
        }
        return (files, true);
    }

    private static IEnumerable<SymbolGroup> Plan(IReadOnlyList<string> files, string? symbolOverride, HashSet<string>? filter, string path, CancellationToken cancellationToken)
    {
        var groups = new SortedDictionary<string, SymbolGroup>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var peek = CsvPriceFile.Peek(file, symbolOverride);
            var key = peek.Symbol ?? peek.Name;
            // A file whose symbol cannot be told cannot be one the caller asked for.
            if (filter is not null && (peek.Symbol is null || !filter.Contains(peek.Symbol)))
            {
                continue;
            }
            if (!groups.TryGetValue(key, out var group))
            {
                groups[key] = group = new SymbolGroup(key);
            }
            if (peek.Plan is not null)
            {
                group.Files.Add(peek.Plan);
            }
            else
            {
                group.Errors.Add(peek.Error!);
            }
        }
        if (filter is not null)
        {
            foreach (var missing in filter.Where(s => !groups.ContainsKey(s)))
            {
                var group = new SymbolGroup(missing);
                group.Errors.Add($"no file for {missing} in '{path}' (expected {missing}.csv, or a Stooq file whose <TICKER> is {missing})");
                groups[missing] = group;
            }
        }
        return groups.Values;
    }

    private static SourceResult Read(SymbolGroup group, DateOnly? from, DateOnly? to, DateTimeOffset ingestedAt, CancellationToken cancellationToken)
    {
        if (group.Errors.Count > 0)
        {
            return SourceResult.Failed(group.Symbol, string.Join("; ", group.Errors));
        }
        var bars = new SymbolBars(group.Symbol, SourceName, ingestedAt);
        bars.Reserve(group.Files.Sum(f => f.Length));
        foreach (var file in group.Files)
        {
            try
            {
                CsvPriceFile.Read(file, from, to, bars, cancellationToken);
            }
            catch (CsvFileException ex)
            {
                return SourceResult.Failed(group.Symbol, ex.Message);
            }
        }
        return bars.ToResult();
    }

    private sealed class SymbolGroup(string symbol)
    {
        public string Symbol { get; } = symbol;

        public List<CsvFilePlan> Files { get; } = [];

        public List<string> Errors { get; } = [];
    }
}
