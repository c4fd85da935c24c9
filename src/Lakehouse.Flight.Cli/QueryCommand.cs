using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli;

/// <summary><c>lakehouse query</c>: reads the lake directly (no server needed) as a table, CSV or JSON lines.</summary>
internal static class QueryCommand
{
    public static CliCommand Create(CliIo io)
    {
        var dataDir = CommonOptions.DataDir();
        var symbols = CommonOptions.List("--symbols", "Symbols, comma-separated or repeated (default: all)", "AAPL,MSFT");
        var from = new Option<string?>("--from") { Description = "First date, inclusive", HelpName = "YYYY-MM-DD" };
        var to = new Option<string?>("--to") { Description = "Last date, inclusive", HelpName = "YYYY-MM-DD" };
        var layer = new Option<string?>("--layer") { Description = "bronze, silver (default) or gold", HelpName = "LAYER" };
        var table = new Option<string?>("--table") { Description = "Table of the layer (default prices_daily)", HelpName = "TABLE" };
        var columns = CommonOptions.List("--columns", "Columns to show (default: all)", "date,close");
        var limit = new Option<int?>("--limit") { Description = "At most N rows (default 100 for a table, all for csv and json)", HelpName = "N" };
        var format = new Option<string>("--format") { Description = "table, csv or json (one object per line)", HelpName = "FORMAT", DefaultValueFactory = _ => "table" };
        var version = new Option<long?>("--version") { Description = "Read the table as of this lake version (lakehouse versions lists them)", HelpName = "N" };
        var asOf = new Option<string?>("--as-of") { Description = "Read the table as it was at this instant: the last version committed at or before it", HelpName = "ISO-8601" };
        var snapshot = new Option<string?>("--snapshot") { Description = "Read the version a named snapshot pins", HelpName = "NAME" };
        var command = new Command("query", "Read the lake directly (no server needed) as a table, CSV or JSON lines.")
        {
            dataDir, symbols, from, to, layer, table, columns, limit, format, version, asOf, snapshot,
        };
        command.SetAction((parse, ct) => RunAsync(io, (parse.GetValue(format) ?? "table").ToLowerInvariant(), parse.GetValue(limit),
            parse.GetValue(layer), parse.GetValue(table), CommonOptions.ListOf(parse, symbols), parse.GetValue(from), parse.GetValue(to),
            CommonOptions.ListOf(parse, columns), ReadAsOf.Create(parse.GetValue(version), parse.GetValue(asOf), parse.GetValue(snapshot)),
            CommonOptions.DataDirOf(parse, dataDir), ct));
        return new CliCommand(command,
            "lakehouse query --symbols AAPL --from 2024-01-01 --to 2024-03-31",
            "lakehouse query --symbols AAPL --as-of 2026-11-30T22:00:00Z --format csv",
            "lakehouse query --symbols AAPL --snapshot backtest-2026-11",
            "lakehouse query --symbols AAPL,MSFT --columns date,close --format csv > prices.csv",
            "lakehouse query --layer bronze --symbols AAPL --format json --limit 10");
    }

    private static Task<int> RunAsync(CliIo io, string format, int? limitGiven, string? layer, string? tableName, IReadOnlyList<string> symbols,
        string? from, string? to, IReadOnlyList<string> columns, ReadAsOf? asOf, string dataDir, CancellationToken cancellationToken)
    {
        if (format is not ("table" or "csv" or "json"))
        {
            throw LakehouseException.Invalid($"--format '{format}' is not one of table, csv, json");
        }
        var limit = limitGiven ?? (format == "table" ? 100 : 0);
        var query = TableQuery.Create(layer, tableName, symbols, from, to, columns, limit).WithAsOf(asOf);

        var store = LakeStore.Open(dataDir);
        var schema = store.SchemaOf(query);
        var names = schema.FieldsList.Select(f => f.Name).ToArray();
        var rows = store.Read(query, cancellationToken).SelectMany(b => Rows(b, names.Length));
        switch (format)
        {
            case "csv":
                io.Out.WriteLine(string.Join(',', names));
                foreach (var r in rows)
                {
                    io.Out.WriteLine(string.Join(',', r.Select(Csv)));
                }
                break;
            case "json":
                foreach (var r in rows)
                {
                    var obj = new Dictionary<string, object?>();
                    for (var i = 0; i < names.Length; i++)
                    {
                        obj[names[i]] = r[i];
                    }
                    io.Out.WriteLine(JsonSerializer.Serialize(obj));
                }
                break;
            default:
                var all = rows.Select(r => r.Select(Text).ToArray()).ToList();
                var widths = names.Select((n, i) => Math.Max(n.Length, all.Count == 0 ? 0 : all.Max(r => r[i].Length))).ToArray();
                io.Out.WriteLine(string.Join("  ", names.Select((n, i) => n.PadRight(widths[i]))));
                foreach (var r in all)
                {
                    io.Out.WriteLine(string.Join("  ", r.Select((v, i) => v.PadRight(widths[i]))));
                }
                io.Err.WriteLine($"{all.Count} row(s)");
                break;
        }
        return Task.FromResult(0);
    }

    private static IEnumerable<object?[]> Rows(RecordBatch batch, int columns)
    {
        for (var i = 0; i < batch.Length; i++)
        {
            var row = new object?[columns];
            for (var c = 0; c < columns; c++)
            {
                row[c] = PriceBarBatches.ValueAt(batch.Column(c), i);
            }
            yield return row;
        }
    }

    private static string Text(object? v) => v switch
    {
        null => "",
        double d => d.ToString("0.####", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    private static string Csv(object? v)
    {
        var s = v is double d ? d.ToString("R", CultureInfo.InvariantCulture) : Text(v);
        return s.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
    }

}
