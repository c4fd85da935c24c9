using System.Globalization;
using System.Text.Json;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli;

/// <summary><c>lakehouse query</c>: reads the lake directly (no server needed) as a table, CSV or JSON lines.</summary>
internal static class QueryCommand
{
    public static Task<int> RunAsync(CliArgs args, CliIo io, CancellationToken cancellationToken)
    {
        var format = (args.Get("format") ?? "table").ToLowerInvariant();
        if (format is not ("table" or "csv" or "json"))
        {
            throw LakehouseException.Invalid($"--format '{format}' is not one of table, csv, json");
        }
        var limit = args.GetInt("limit", format == "table" ? 100 : 0);
        var query = PriceQuery.Create(args.Get("layer"), args.Get("table"), args.GetList("symbols"), args.Get("from"), args.Get("to"),
            args.GetList("columns"), limit);
        var dataDir = args.DataDir();
        args.EnsureAllUsed();

        var store = PriceStore.Open(dataDir);
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
