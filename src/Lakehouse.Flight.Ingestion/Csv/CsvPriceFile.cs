using System.Globalization;
using System.Text;
using Lakehouse.Flight.Core;
using Sylvan.Data.Csv;

namespace Lakehouse.Flight.Ingestion.Csv;

/// <summary>One file to read, with the symbol its rows belong to.</summary>
/// <param name="Path">Full path.</param>
/// <param name="Name">File name, as rejection reasons quote it.</param>
/// <param name="Layout">Columns found from the header.</param>
/// <param name="Symbol">Normalised symbol of every bar read from the file.</param>
/// <param name="Ticker">Stooq bulk only: the first row's <c>&lt;TICKER&gt;</c>; rows naming another are rejected.</param>
internal sealed record CsvFilePlan(string Path, string Name, CsvLayout Layout, string Symbol, string? Ticker);

/// <summary>What a look at a file's first lines found: a plan, or why the file cannot be read.</summary>
/// <param name="Name">File name.</param>
/// <param name="Symbol">The symbol the file belongs to, when one could be told; null otherwise.</param>
/// <param name="Plan">How to read the file; null when it cannot be read.</param>
/// <param name="Error">Why the file cannot be read; null with a plan.</param>
internal sealed record CsvFilePeek(string Name, string? Symbol, CsvFilePlan? Plan, string? Error);

/// <summary>A file that cannot be read at all (period other than daily, I/O error mid-file).</summary>
internal sealed class CsvFileException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Reads price files with Sylvan.Data.Csv (chosen by measurement, docs/decisions.md D10).</summary>
internal static class CsvPriceFile
{
    // Cancellation is checked every this many rows; a row costs well under a microsecond.
    private const int CancellationStride = 4096;

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
            using var csv = Open(path);
            if (!csv.Read())
            {
                return new CsvFilePeek(name, nameSymbol, null, $"{name}: the file is empty; expected a header: {CsvLayout.AcceptedHeaders}");
            }
            var header = new string[csv.RowFieldCount];
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
                    : new CsvFilePeek(name, nameSymbol, new CsvFilePlan(path, name, layout, nameSymbol, null), null);
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
            using var csv = Open(file.Path);
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

    private static CsvFilePeek PeekTicker(CsvDataReader csv, string path, string name, CsvLayout layout, string? symbolOverride, string? nameSymbol, string? nameError)
    {
        // The ticker column names the symbol (Stooq's own files); an empty file or a short first row
        // falls back to the file name, and that row is reported when the file is read.
        string? ticker = null;
        while (csv.Read())
        {
            if (IsBlank(csv))
            {
                continue;
            }
            if (csv.RowFieldCount == layout.FieldCount)
            {
                ticker = csv.GetString(layout.Ticker).Trim();
            }
            break;
        }
        if (symbolOverride is not null)
        {
            return new CsvFilePeek(name, symbolOverride, new CsvFilePlan(path, name, layout, symbolOverride, ticker), null);
        }
        if (ticker is null)
        {
            return nameSymbol is null
                ? new CsvFilePeek(name, null, null, nameError)
                : new CsvFilePeek(name, nameSymbol, new CsvFilePlan(path, name, layout, nameSymbol, null), null);
        }
        if (!Symbols.TryNormalize(ticker, out var symbol, out var why))
        {
            return new CsvFilePeek(name, nameSymbol, null, $"{name}:2: <TICKER> does not give a symbol ({why})");
        }
        return new CsvFilePeek(name, symbol, new CsvFilePlan(path, name, layout, symbol, ticker), null);
    }

    private static void ReadRow(CsvDataReader csv, CsvFilePlan file, DateOnly? from, DateOnly? to, SymbolBars into)
    {
        var layout = file.Layout;
        // Sylvan counts records from 1 with the header as record 1: the line number while no quoted
        // field spans lines (price files have none).
        var line = csv.RowNumber;
        if (csv.RowFieldCount != layout.FieldCount)
        {
            if (!IsBlank(csv))
            {
                into.Reject($"{file.Name}:{line}: expected {layout.FieldCount} fields, found {csv.RowFieldCount}");
            }
            return;
        }

        var dateText = csv.GetFieldSpan(layout.Date).Trim();
        if (!DateOnly.TryParseExact(dateText, layout.DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            into.Reject($"{file.Name}:{line}: date '{dateText}' is not {layout.DateFormat}");
            return;
        }
        if (date < from || date > to)
        {
            return;
        }

        if (layout.Format == CsvFormat.StooqBulk)
        {
            var period = csv.GetFieldSpan(layout.Period).Trim();
            if (!period.Equals("D", StringComparison.OrdinalIgnoreCase))
            {
                throw new CsvFileException($"{file.Name}:{line}: <PER> is '{period}'; only daily files (<PER> = D) are accepted");
            }
            var ticker = csv.GetFieldSpan(layout.Ticker).Trim();
            if (file.Ticker is not null && !ticker.Equals(file.Ticker, StringComparison.OrdinalIgnoreCase))
            {
                into.Reject($"{file.Name}:{line}: <TICKER> '{ticker}' differs from the file's first ticker '{file.Ticker}' (one symbol per file)");
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
        if (!TryVolume(csv.GetFieldSpan(layout.Volume).Trim(), out var volume, out error))
        {
            into.Reject($"{file.Name}:{line}: {error}");
            return;
        }
        into.Add(date, open, high, low, close, adjClose, volume, file.Name, line);
    }

    private static bool TryPrice(CsvDataReader csv, int column, string name, out double value, out string? error)
    {
        var text = csv.GetFieldSpan(column).Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value))
        {
            error = null;
            return true;
        }
        error = Missing(text, name) ?? $"{name} '{text}' is not a number";
        return false;
    }

    private static bool TryVolume(ReadOnlySpan<char> text, out long value, out string? error)
    {
        error = null;
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value))
        {
            return true;
        }
        // Some exports write volumes as decimals ("1234.0", "1.5e6"); a whole number is still exact.
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
            && double.IsFinite(d) && d == Math.Floor(d) && Math.Abs(d) < 9e18)
        {
            value = (long)d;
            return true;
        }
        error = Missing(text, "volume") ?? $"volume '{text}' is not a whole number";
        return false;
    }

    // Yahoo writes "null" for days it has no prices for; other tools write NaN or leave the cell empty.
    private static string? Missing(ReadOnlySpan<char> text, string name) =>
        text.IsEmpty ? $"{name} is empty"
        : text.Equals("null", StringComparison.OrdinalIgnoreCase) ? $"{name} is null"
        : text.Equals("NaN", StringComparison.OrdinalIgnoreCase) ? $"{name} is NaN"
        : null;

    private static bool IsBlank(CsvDataReader csv) => csv.RowFieldCount == 1 && csv.GetFieldSpan(0).IsWhiteSpace();

    private static CsvDataReader Open(string path)
    {
        // FileStream unbuffered, StreamReader with a 64 KiB buffer: one read call per 64 KiB, one copy.
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        try
        {
            // Comment = '\0': a '#' line is data to report, not something to skip (Sylvan skips '#' lines
            // by default, which would also shift line numbers). The delimiter is fixed, not sniffed.
            return CsvDataReader.Create(reader, new CsvDataReaderOptions { HasHeaders = false, Delimiter = ',', Comment = '\0' });
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }
}
