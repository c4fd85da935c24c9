namespace Lakehouse.Flight.Core;

/// <summary>Symbol rules: upper-cased, letters, digits and <c>. - ^ =</c>, 1 to 32 characters.</summary>
public static class Symbols
{
    public const int MaxLength = 32;

    /// <summary>Upper-cases and checks a symbol; refuses anything that could name a path.</summary>
    public static string Normalize(string? symbol)
    {
        if (!TryNormalize(symbol, out var normalized, out var error))
        {
            throw LakehouseException.Invalid(error);
        }
        return normalized;
    }

    public static bool TryNormalize(string? symbol, out string normalized, out string error)
    {
        normalized = string.Empty;
        if (string.IsNullOrWhiteSpace(symbol))
        {
            error = "symbol is empty: give a ticker such as AAPL";
            return false;
        }
        var s = symbol.Trim();
        if (s.Length > MaxLength)
        {
            error = $"symbol '{Shorten(s)}' is {s.Length} characters long; at most {MaxLength} are allowed";
            return false;
        }
        foreach (var c in s)
        {
            if (!IsAllowed(c))
            {
                error = $"symbol '{Shorten(s)}' contains '{c}'; allowed are letters, digits and . - ^ =";
                return false;
            }
        }
        if (s is "." or "..")
        {
            error = $"symbol '{s}' is not a ticker";
            return false;
        }
        normalized = s.ToUpperInvariant();
        error = string.Empty;
        return true;
    }

    /// <summary>Normalizes, de-duplicates and sorts a list of symbols (ordinal order, the output order).</summary>
    public static IReadOnlyList<string> NormalizeAll(IEnumerable<string> symbols)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var s in symbols)
        {
            var parts = (s ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length == 0)
            {
                // An empty entry is a mistake, never "every symbol" (that is an empty list).
                throw LakehouseException.Invalid("symbol is empty: give a ticker such as AAPL, or no symbols at all to read every symbol");
            }
            foreach (var part in parts)
            {
                set.Add(Normalize(part));
            }
        }
        return [.. set];
    }

    private static bool IsAllowed(char c) =>
        c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-' or '^' or '=';

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
