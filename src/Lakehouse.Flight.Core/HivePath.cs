using System.Text;

namespace Lakehouse.Flight.Core;

/// <summary>Hive/Spark partition value escaping (<c>^GSPC</c> is <c>%5EGSPC</c>, <c>EURUSD=X</c> is <c>EURUSD%3DX</c>).</summary>
public static class HivePath
{
    // The characters Hive's FileUtils.escapePathName (and Spark's ExternalCatalogUtils) escape.
    private const string Escaped = "\"#%'*/:=?\\{[]^";

    public static string Escape(string value)
    {
        var sb = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            if (c < ' ' || c == '\u007f' || Escaped.Contains(c, StringComparison.Ordinal))
            {
                sb.Append('%').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    public static string Unescape(string value)
    {
        if (!value.Contains('%', StringComparison.Ordinal))
        {
            return value;
        }
        var sb = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '%' && i + 2 < value.Length
                && int.TryParse(value.AsSpan(i + 1, 2), System.Globalization.NumberStyles.HexNumber, null, out var code))
            {
                sb.Append((char)code);
                i += 2;
            }
            else
            {
                sb.Append(value[i]);
            }
        }
        return sb.ToString();
    }
}
