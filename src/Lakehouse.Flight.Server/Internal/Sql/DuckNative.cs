using System.Runtime.InteropServices;
using DuckDB.NET.Native;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// The few functions of DuckDB's C API that DuckDB.NET 1.5 does not bind: a prepared statement's kind and result columns,
/// known once it is bound (no execution, so GetFlightInfo describes a query without running it). The library is the one
/// DuckDB.NET.Bindings.Full ships and loads (<c>duckdb</c>).
/// </summary>
internal static partial class DuckNative
{
    /// <summary>DuckDB's <c>STATEMENT_TYPE_SELECT</c> (DESCRIBE, SHOW, SUMMARIZE, VALUES and FROM-first queries are also of this kind).</summary>
    public const int SelectStatement = 1;

    public static int StatementType(DuckDBPreparedStatement statement) => duckdb_prepared_statement_type(statement.DangerousGetHandle());

    public static int ColumnCount(DuckDBPreparedStatement statement) => checked((int)duckdb_prepared_statement_column_count(statement.DangerousGetHandle()));

    public static DuckDBType ColumnType(DuckDBPreparedStatement statement, int column) =>
        (DuckDBType)duckdb_prepared_statement_column_type(statement.DangerousGetHandle(), (ulong)column);

    public static string ColumnName(DuckDBPreparedStatement statement, int column)
    {
        var name = duckdb_prepared_statement_column_name(statement.DangerousGetHandle(), (ulong)column);
        try
        {
            return Marshal.PtrToStringUTF8(name) ?? "";
        }
        finally
        {
            NativeMethods.Helpers.DuckDBFree(name);
        }
    }

    [LibraryImport("duckdb")]
    private static partial int duckdb_prepared_statement_type(IntPtr statement);

    [LibraryImport("duckdb")]
    private static partial ulong duckdb_prepared_statement_column_count(IntPtr statement);

    [LibraryImport("duckdb")]
    private static partial IntPtr duckdb_prepared_statement_column_name(IntPtr statement, ulong column);

    [LibraryImport("duckdb")]
    private static partial int duckdb_prepared_statement_column_type(IntPtr statement, ulong column);
}
