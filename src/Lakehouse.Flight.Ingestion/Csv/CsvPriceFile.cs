using System.Globalization;
using System.Text;
using CsvHelper;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion.Csv;

/// <summary>One file to read, with the symbol its rows belong to.</summary>
/// <param name="Path">Full path.</param>
/// <param name="Name">File name, as rejection reasons quote it.</param>
/// <param name="Layout">Columns found from the header.</param>
/// <param name="Symbol">Normalised symbol of every bar read from the file.</param>
/// <param name="Ticker">Stooq bulk only: the first row's <c>&lt;TICKER&gt;</c>; rows naming another are rejected.</param>
/// <param name="Length">Size in bytes when looked at, to size the symbol's row list.</param>
internal sealed record CsvFilePlan(string Path, string Name, CsvLayout Layout, string Symbol, string? Ticker, long Length);

/// <summary>What a look at a file's first lines found: a plan, or why the file cannot be read.</summary>
/// <param name="Name">File name.</param>
/// <param name="Symbol">The symbol the file belongs to, when one could be told; null otherwise.</param>
/// <param name="Plan">How to read the file; null when it cannot be read.</param>
/// <param name="Error">Why the file cannot be read; null with a plan.</param>
internal sealed record CsvFilePeek(string Name, string? Symbol, CsvFilePlan? Plan, string? Error);

/// <summary>A file that cannot be read at all (period other than daily, I/O error mid-file).</summary>
internal sealed class CsvFileException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Reads price files with CsvHelper (chosen by measurement, docs/decisions.md D10).</summary>
internal static class CsvPriceFile
{
    // Cancellation is checked every this many rows; a row costs well under a microsecond.
    private const int CancellationStride = 4096;

    // Longer values are cut in reasons so one garbage line cannot make a megabyte-long message.
    private const int MaxQuoted = 40;

    // Line numbers are tracked (blank lines and quoted line breaks counted) because every reason names
    // one; blank lines are skipped; no comment character, so a '#' line is a malformed row, reported.
    // A price row is under 200 bytes: 1 MiB bounds what an unclosed quote can make the reader buffer.
    private static readonly CsvReaderOptions Options = new()
    {
        HasHeader = false,
        Separator = ',',
        TrimWhitespace = true,
        TrackLineNumbers = true,
        SkipEmptyLines = true,
        MaxRecordSize = 1 << 20,
    };

    /// <summary>Opens the file, reads its header and, for Stooq bulk files, the first ticker.</summary>
    public static CsvFilePeek Peek(string path, string? symbolOverride)
    {
        var name = System.IO.Path.GetFileName(path);
        string? nameSymbol = null;
        string? nameError = null;
        if (symbolOverride is not null)
        {
            nameSymbol = symbolOverride;
        }
        else if (Symbols.TryNormalize(System.IO.Path.GetFileNameWithoutExtension(path), out var s, out var why))
        {
            nameSymbol = s;
        }
        else
        {
            nameError = $"{name}: the file name does not give a symbol ({why}); name the file <SYMBOL>.csv, or read this one file with --symbol";
        }

        try
        {
            using var csv = CsvReader.FromFile(path, Options);
            if (!csv.Read())
            {
                return new CsvFilePeek(name, nameSymbol, null, $"{name}: the file is empty; expected a header: {CsvLayout.AcceptedHeaders}");
            }
            var header = new string[csv.FieldCount];
            for (var i = 0; i < header.Length; i++)
            {
                header[i] = csv.GetString(i);
            }
            if (!CsvLayout.TryDetect(header, out var layout, out var headerError))
            {
                return new CsvFilePeek(name, nameSymbol, null, $"{name}: {headerError}");
            }
            if (layout!.Format != CsvFormat.StooqBulk)
            {
                return nameSymbol is null
                    ? new CsvFilePeek(name, null, null, nameError)
                    : new CsvFilePeek(name, nameSymbol, new CsvFilePlan(path, name, layout, nameSymbol, null, Length(path)), null);
            }
            return PeekTicker(csv, path, name, layout, symbolOverride, nameSymbol, nameError);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CsvFormatException)
        {
            return new CsvFilePeek(name, nameSymbol, null, $"{name}: cannot be read: {ex.Message}");
        }
    }

    /// <summary>Reads every row of one file into <paramref name="into"/>; bad rows become reasons there.</summary>
    public static void Read(CsvFilePlan file, DateOnly? from, DateOnly? to, SymbolBars into, CancellationToken cancellationToken)
    {
        try
        {
            using var csv = CsvReader.FromFile(file.Path, Options);
            csv.Read(); // the header, already checked by Peek
            var rows = 0;
            while (csv.Read())
            {
                if (++rows % CancellationStride == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
                ReadRow(csv, file, from, to, into);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CsvFormatException)
        {
            throw new CsvFileException($"{file.Name}: cannot be read: {ex.Message}", ex);
        }
    }

    private static CsvFilePeek PeekTicker(CsvReader csv, string path, string name, CsvLayout layout, string? symbolOverride, string? nameSymbol, string? nameError)
    {
        // The ticker column names the symbol (Stooq's own files); an empty file or a short first row
        // falls back to the file name, and that row is reported when the file is read.
        string? ticker = null;
        if (csv.Read() && csv.FieldCount == layout.FieldCount)
        {
            ticker = csv.GetString(layout.Ticker);
        }
        if (symbolOverride is not null)
        {
            return new CsvFilePeek(name, symbolOverride, new CsvFilePlan(path, name, layout, symbolOverride, ticker, Length(path)), null);
        }
        if (ticker is null)
        {
            return nameSymbol is null
                ? new CsvFilePeek(name, null, null, nameError)
                : new CsvFilePeek(name, nameSymbol, new CsvFilePlan(path, name, layout, nameSymbol, null, Length(path)), null);
        }
        if (!Symbols.TryNormalize(ticker, out var symbol, out var why))
        {
            return new CsvFilePeek(name, nameSymbol, null, $"{name}:{csv.LineNumber}: <TICKER> does not give a symbol ({why})");
        }
        return new CsvFilePeek(name, symbol, new CsvFilePlan(path, name, layout, symbol, ticker, Length(path)), null);
    }

    private static void ReadRow(CsvReader csv, CsvFilePlan file, DateOnly? from, DateOnly? to, SymbolBars into)
    {
        var layout = file.Layout;
        var line = csv.LineNumber;
        if (csv.FieldCount != layout.FieldCount)
        {
            into.Reject($"{file.Name}:{line}: expected {layout.FieldCount} fields, found {csv.FieldCount}");
            return;
        }

        var dateBytes = csv.GetSpan(layout.Date);
        Span<char> dateChars = stackalloc char[16];
        if (dateBytes.Length > dateChars.Length
            || !DateOnly.TryParseExact(dateChars[..Encoding.UTF8.GetChars(dateBytes, dateChars)], layout.DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            into.Reject($"{file.Name}:{line}: date '{Quote(dateBytes)}' is not {layout.DateFormat}");
            return;
        }
        if (date < from || date > to)
        {
            return;
        }

        if (layout.Format == CsvFormat.StooqBulk)
        {
            var period = csv.GetSpan(layout.Period);
            if (!Ascii.EqualsIgnoreCase(period, "D"))
            {
                throw new CsvFileException($"{file.Name}:{line}: <PER> is '{Quote(period)}'; only daily files (<PER> = D) are accepted");
            }
            var ticker = csv.GetSpan(layout.Ticker);
            if (file.Ticker is not null && !Ascii.EqualsIgnoreCase(ticker, file.Ticker))
            {
                into.Reject($"{file.Name}:{line}: <TICKER> '{Quote(ticker)}' differs from the file's first ticker '{file.Ticker}' (one symbol per file)");
                return;
            }
        }

        string? error;
        if (!TryPrice(csv, layout.Open, "open", out var open, out error)
            || !TryPrice(csv, layout.High, "high", out var high, out error)
            || !TryPrice(csv, layout.Low, "low", out var low, out error)
            || !TryPrice(csv, layout.Close, "close", out var close, out error))
        {
            into.Reject($"{file.Name}:{line}: {error}");
            return;
        }
        double? adjClose = null;
        if (layout.AdjClose >= 0)
        {
            if (!TryPrice(csv, layout.AdjClose, "adj_close", out var adj, out error))
            {
                into.Reject($"{file.Name}:{line}: {error}");
                return;
            }
            adjClose = adj;
        }
        if (!TryVolume(csv, layout.Volume, out var volume, out error))
        {
            into.Reject($"{file.Name}:{line}: {error}");
            return;
        }
        into.Add(date, open, high, low, close, adjClose, volume, file.Name, line);
    }

    private static bool TryPrice(CsvReader csv, int column, string name, out double value, out string? error)
    {
        if (csv.TryParse(column, out value) && double.IsFinite(value))
        {
            error = null;
            return true;
        }
        var text = csv.GetSpan(column);
        error = Missing(text, name) ?? $"{name} '{Quote(text)}' is not a number";
        return false;
    }

    private static bool TryVolume(CsvReader csv, int column, out long value, out string? error)
    {
        error = null;
        if (csv.TryParse(column, out value))
        {
            return true;
        }
        // Some exports write volumes as decimals ("1234.0", "1.0371e+09"); a whole number is still exact.
        if (csv.TryParse<double>(column, out var d) && double.IsFinite(d) && d == Math.Floor(d) && Math.Abs(d) < 9e18)
        {
            value = (long)d;
            return true;
        }
        var text = csv.GetSpan(column);
        error = Missing(text, "volume") ?? $"volume '{Quote(text)}' is not a whole number";
        return false;
    }

    // Yahoo writes "null" for days it has no prices for; other tools write NaN or leave the cell empty.
    private static string? Missing(ReadOnlySpan<byte> text, string name) =>
        text.IsEmpty ? $"{name} is empty"
        : Ascii.EqualsIgnoreCase(text, "null"u8) ? $"{name} is null"
        : Ascii.EqualsIgnoreCase(text, "NaN"u8) ? $"{name} is NaN"
        : null;

    private static long Length(string path) => new FileInfo(path).Length;

    private static string Quote(ReadOnlySpan<byte> text)
    {
        var s = Encoding.UTF8.GetString(text);
        return s.Length <= MaxQuoted ? s : s[..MaxQuoted] + "...";
    }
}
