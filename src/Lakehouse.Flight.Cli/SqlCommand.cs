using System.CommandLine;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using Grpc.Core;
using Lakehouse.Flight.Client;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Server;
using Lakehouse.Flight.Server.Internal;
using Lakehouse.Flight.Server.Internal.Sql;
using Lakehouse.Flight.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace Lakehouse.Flight.Cli;

/// <summary>
/// <c>lakehouse sql "SELECT ..."</c>: one SQL statement over the lake, printed as a table, CSV or JSON lines. Like
/// <c>query</c> it opens the lake in process (no server needed), through the server's own SQL engine and limits (decisions
/// D41); <c>--server</c> sends it to a running server over Flight SQL instead (the SDK's <c>QueryAsync</c>).
/// </summary>
internal static class SqlCommand
{
    public static CliCommand Create(CliIo io)
    {
        var statement = new Argument<string>("statement") { Description = "One SQL statement (DuckDB's dialect); tables are <layer>.<table>, e.g. silver.prices_daily" };
        var dataDir = CommonOptions.DataDir();
        var format = new Option<string>("--format") { Description = "table, csv or json (one object per line)", HelpName = "FORMAT", DefaultValueFactory = _ => "table" };
        var limit = new Option<int?>("--limit") { Description = "Print at most N rows (default 100 for a table, all for csv and json; 0 = all)", HelpName = "N" };
        var server = new Option<string?>("--server") { Description = "Run it on a running server over Flight SQL instead of opening the lake", HelpName = "grpc://HOST:PORT" };
        var token = new Option<string?>("--token") { Description = "Bearer token for --server (default: LAKEHOUSE_TOKEN)", HelpName = "TOKEN" };
        var version = new Option<long?>("--version") { Description = "Read every table as of this lake version (lakehouse versions lists them)", HelpName = "N" };
        var asOf = new Option<string?>("--as-of") { Description = "Read every table as it was at this instant: the last version committed at or before it", HelpName = "ISO-8601" };
        var snapshot = new Option<string?>("--snapshot") { Description = "Read the versions a named snapshot pins", HelpName = "NAME" };
        var command = new Command("sql", "Run one SQL statement over the lake (in process, or on a server with --server) and print its rows.")
        {
            statement, dataDir, format, limit, server, token, version, asOf, snapshot,
        };
        command.SetAction((parse, ct) =>
        {
            var f = (parse.GetValue(format) ?? "table").ToLowerInvariant();
            var n = parse.GetValue(limit);
            if (f is not ("table" or "csv" or "json"))
            {
                throw LakehouseException.Invalid($"--format '{f}' is not one of table, csv, json");
            }
            if (n < 0)
            {
                throw LakehouseException.Invalid($"--limit must be >= 0 (got {n})");
            }
            var output = new SqlOutput(io, f, n ?? (f == "table" ? 100 : 0));
            var moment = ReadAsOf.Create(parse.GetValue(version), parse.GetValue(asOf), parse.GetValue(snapshot));
            var sql = parse.GetValue(statement)!;
            return parse.GetValue(server) is { } address
                // A server reads the moment from the statement's hint (what any Flight SQL client would send).
                ? RunOnServerAsync(io, moment is null ? sql : $"-- lakehouse: {moment}\n{sql}", address,
                    parse.GetValue(token) ?? Environment.GetEnvironmentVariable("LAKEHOUSE_TOKEN"), output, ct)
                : RunInProcessAsync(io, sql, moment, CommonOptions.DataDirOf(parse, dataDir), output, ct);
        });
        return new CliCommand(command,
            "lakehouse sql \"SELECT symbol, count(*) AS days, max(close) AS top FROM silver.prices_daily GROUP BY symbol ORDER BY symbol\"",
            "lakehouse sql \"SELECT * FROM gold.daily_metrics WHERE symbol = 'AAPL' ORDER BY date DESC LIMIT 5\" --format json",
            "lakehouse sql \"SELECT date, close FROM silver.prices_daily WHERE symbol = 'MSFT'\" --format csv > msft.csv",
            "lakehouse sql \"SELECT count(*) FROM bronze.prices_daily\" --server grpc://localhost:8815",
            "lakehouse sql \"SELECT date, close FROM silver.prices_daily WHERE symbol = 'AAPL'\" --snapshot backtest-2026-11");
    }

    private static async Task<int> RunInProcessAsync(CliIo io, string sql, ReadAsOf? asOf, string dataDir, SqlOutput output, CancellationToken cancellationToken)
    {
        var options = LakehouseServerOptions.FromConfiguration(CliServices.Configuration());
        options.Sql.Validate();
        var store = LakeStore.Open(dataDir);
        using var engine = new SqlEngine(store, options, NullLogger<SqlEngine>.Instance);
        var runner = new SqlRunner(engine, NullLogger<SqlRunner>.Instance);
        var run = await runner.RunAsync(sql, [], _ => output, cancellationToken, asOf).ConfigureAwait(false);
        output.End();
        await io.Err.WriteLineAsync($"{(output.Cut.Length > 0 ? output.Printed : run.Rows)} row(s) at lake version {run.Version}{output.Cut}").ConfigureAwait(false);
        return 0;
    }

    private static async Task<int> RunOnServerAsync(CliIo io, string sql, string address, string? token, SqlOutput output, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri))
        {
            throw LakehouseException.Invalid($"--server '{address}' is not a URL such as grpc://localhost:8815");
        }
        using var client = new LakehouseClient(uri, new LakehouseClientOptions { Token = token });
        long rows = 0;
        var started = false;
        try
        {
            await foreach (var batch in client.QueryAsync(sql, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (!started)
                {
                    started = true;
                    await output.StartAsync(batch.Schema, cancellationToken).ConfigureAwait(false);
                }
                rows += batch.Length;
                if (!await output.WriteAsync(batch, cancellationToken).ConfigureAwait(false))
                {
                    // Enough rows printed: disposing the stream cancels the query on the server.
                    break;
                }
            }
            if (!started)
            {
                // No rows, so no batch: the header (CSV, table) comes from the statement's schema.
                await output.StartAsync(await client.QuerySchemaAsync(sql, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new LakehouseException(ex.StatusCode switch
            {
                StatusCode.InvalidArgument => LakehouseErrorKind.InvalidArgument,
                StatusCode.PermissionDenied => LakehouseErrorKind.PermissionDenied,
                StatusCode.Unauthenticated => LakehouseErrorKind.Unauthenticated,
                StatusCode.NotFound => LakehouseErrorKind.NotFound,
                StatusCode.ResourceExhausted => LakehouseErrorKind.ResourceExhausted,
                _ => LakehouseErrorKind.Unavailable,
            }, ex.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown && ex.Status.Detail.Length == 0
                ? $"the server at {address} did not answer ({ex.StatusCode}): is `lakehouse serve` running there?"
                : ex.Status.Detail);
        }
        output.End();
        await io.Err.WriteLineAsync($"{(output.Cut.Length > 0 ? output.Printed : rows)} row(s) from {address}{output.Cut}").ConfigureAwait(false);
        return 0;
    }

    /// <summary>Prints rows as they come (CSV, JSON lines) or at the end (a table, which needs every width), up to a limit.</summary>
    private sealed class SqlOutput(CliIo io, string format, int limit) : IDoGetSink
    {
        private readonly List<string[]> _table = [];
        private Schema? _schema;

        public long Printed { get; private set; }

        /// <summary>Said after the row count when the limit cut the output.</summary>
        public string Cut { get; private set; } = "";

        public ValueTask<bool> StartAsync(Schema schema, CancellationToken cancellationToken)
        {
            _schema = schema;
            if (format == "csv")
            {
                io.Out.Write(SqlText.CsvHeader(schema));
            }
            return ValueTask.FromResult(true);
        }

        public ValueTask<bool> WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
        {
            var text = new StringBuilder();
            var rows = limit == 0 ? batch.Length : (int)Math.Min(batch.Length, limit - Printed);
            var part = rows == batch.Length ? batch : batch.Slice(0, rows);
            switch (format)
            {
                case "csv":
                    SqlText.AppendCsv(text, part);
                    break;
                case "json":
                    for (var r = 0; r < part.Length; r++)
                    {
                        using var line = new MemoryStream();
                        using (var json = new Utf8JsonWriter(line))
                        {
                            SqlText.WriteJsonRow(json, part, r);
                        }
                        text.Append(Encoding.UTF8.GetString(line.ToArray())).Append('\n');
                    }
                    break;
                default:
                    for (var r = 0; r < part.Length; r++)
                    {
                        _table.Add(Enumerable.Range(0, part.ColumnCount).Select(c => SqlText.Text(part.Column(c), r)).ToArray());
                    }
                    break;
            }
            io.Out.Write(text.ToString());
            Printed += rows;
            if (limit > 0 && Printed >= limit)
            {
                Cut = $" (printed the first {limit}; --limit N prints more, --limit 0 all)";
                return ValueTask.FromResult(false);
            }
            return ValueTask.FromResult(true);
        }

        /// <summary>The table, once every row is in (nothing for CSV and JSON lines, already printed).</summary>
        public void End()
        {
            if (format != "table" || _schema is null)
            {
                return;
            }
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(io.Out),
                Ansi = io.Interactive ? AnsiSupport.Detect : AnsiSupport.No,
                ColorSystem = io.Interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
            });
            if (!io.Interactive)
            {
                // Into a file or a pipe: no wrapping at a terminal's width.
                console.Profile.Width = 100_000;
            }
            var table = new Spectre.Console.Table().Border(TableBorder.Rounded);
            foreach (var field in _schema.FieldsList)
            {
                var column = new TableColumn(Markup.Escape(field.Name));
                table.AddColumn(IsNumber(field.DataType) ? column.RightAligned() : column);
            }
            foreach (var row in _table)
            {
                table.AddRow(row.Select(Markup.Escape).ToArray());
            }
            console.Write(table);
        }

        private static bool IsNumber(IArrowType type) => type is FloatingPointType or IntegerType;
    }
}
