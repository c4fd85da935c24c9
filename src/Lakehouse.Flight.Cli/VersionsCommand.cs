using System.CommandLine;
using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli;

/// <summary><c>lakehouse versions</c>: the versions that changed a table, newest first (what <c>query --version</c> reads).</summary>
internal static class VersionsCommand
{
    public static CliCommand Create(CliIo io)
    {
        var dataDir = CommonOptions.DataDir();
        var json = CommonOptions.Json();
        var layer = new Option<string?>("--layer") { Description = "bronze, silver (default) or gold", HelpName = "LAYER" };
        var table = new Option<string?>("--table") { Description = "Table of the layer (default prices_daily)", HelpName = "TABLE" };
        var symbol = new Option<string?>("--symbol") { Description = "Only versions that changed this symbol's rows", HelpName = "SYMBOL" };
        var from = new Option<string?>("--from") { Description = "Committed at or after this instant", HelpName = "ISO-8601" };
        var to = new Option<string?>("--to") { Description = "Committed at or before this instant", HelpName = "ISO-8601" };
        var limit = new Option<int?>("--limit") { Description = "At most N versions (default 100)", HelpName = "N" };
        var command = new Command("versions", "The versions that changed a table, newest first: number, commit time, operation, run, rows, symbols.")
        {
            dataDir, json, layer, table, symbol, from, to, limit,
        };
        command.SetAction((parse, ct) => Run(io, parse.GetValue(json), parse.GetValue(layer), parse.GetValue(table), parse.GetValue(symbol),
            parse.GetValue(from), parse.GetValue(to), parse.GetValue(limit) ?? 100, CommonOptions.DataDirOf(parse, dataDir), ct));
        return new CliCommand(command, "lakehouse versions --symbol AAPL", "lakehouse versions --layer gold --table daily_metrics --json --limit 10");
    }

    private static Task<int> Run(CliIo io, bool json, string? layer, string? tableName, string? symbol, string? from, string? to, int limit,
        string dataDir, CancellationToken cancellationToken)
    {
        if (limit < 1)
        {
            throw LakehouseException.Invalid($"--limit must be >= 1 (got {limit})");
        }
        var store = LakeStore.Open(dataDir);
        var q = TableQuery.Create(layer, tableName);
        var table = store.Catalog.Get(q.Layer, q.Table);
        var versions = store.ListVersions(table, string.IsNullOrWhiteSpace(symbol) ? null : Symbols.Normalize(symbol),
            string.IsNullOrWhiteSpace(from) ? null : ReadAsOf.ParseInstant(from, "--from"),
            string.IsNullOrWhiteSpace(to) ? null : ReadAsOf.ParseInstant(to, "--to"), limit, cancellationToken);
        foreach (var v in versions)
        {
            io.Out.WriteLine(json
                ? JsonSerializer.Serialize(v, WireJson.Default.TableVersionInfo)
                : FormattableString.Invariant(
                    $"{v.Version,8}  {v.Ts:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}  {v.Operation,-8} {string.Join(',', v.Sources),-12} +{v.Inserted} ~{v.Updated}  {v.Symbols.Count} symbol(s){(v.Readable ? "" : "  (vacuumed)")}"));
        }
        if (!json)
        {
            io.Err.WriteLine($"{versions.Count} version(s) of {table.Id}");
        }
        return Task.FromResult(0);
    }
}
