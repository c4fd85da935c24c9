using System.Text.RegularExpressions;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// SQL reaches the lake's tables and nothing else (decisions D39): the engine's own catalogue and settings are not
/// served, because they name server paths (each view's definition lists its data files, <c>allowed_paths</c> holds
/// them, a plan prints them). A statement that names them is refused before it reaches the engine; identifiers are
/// compared without their quotes. A string literal spelling one of these names is refused too (a false refusal is
/// the safe side).
/// </summary>
internal static partial class SqlGuard
{
    [GeneratedRegex(
        @"\b(duckdb_\w*|information_schema|pg_catalog|sqlite_master|sqlite_schema|sqlite_temp_master|current_setting|getenv|pragma_\w*)\b|^\s*(pragma|explain|call)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex EngineInternals();

    /// <exception cref="LakehouseException">PermissionDenied naming what the statement reached for.</exception>
    public static void Check(string sql)
    {
        var match = EngineInternals().Match(sql.Replace("\"", "", StringComparison.Ordinal));
        if (match.Success)
        {
            throw new LakehouseException(LakehouseErrorKind.PermissionDenied,
                $"'{match.Value.Trim()}' is not served: SQL reads the lake's tables only (<layer>.<table>, e.g. silver.prices_daily; "
                + "GetTables and GetSqlInfo describe them), not the engine's catalogue, settings or plans");
        }
    }
}
