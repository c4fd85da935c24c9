using System.CommandLine;
using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli;

/// <summary><c>lakehouse export --layout seed</c>: the lake's current version written in the seed layout (month files); see <see cref="LakeStore.ExportSeedAsync"/>.</summary>
internal static class ExportCommand
{
    /// <summary>An export reads each symbol once: the server's 2 GB read cache would only hold what is not read again.</summary>
    private const long ExportCacheBytes = 64L << 20;

    public static CliCommand Create(CliIo io)
    {
        var dataDir = CommonOptions.DataDir();
        var json = CommonOptions.Json();
        var layout = new Option<string>("--layout") { Description = "The layout to write: seed (symbol=S/year=Y/month=M/data.parquet)", HelpName = "seed", Required = true };
        var output = new Option<string>("--out") { Description = "The folder to write into (new or empty)", HelpName = "DIR", Required = true };
        var command = new Command("export",
            "Write the lake's current version in the seed layout, as earlier versions stored it: one Parquet file per partition "
            + "(symbol=S/year=Y/month=M/data.parquet; bronze under source=X/, corporate actions per symbol, gold per year), rows in key "
            + "order, with the manifests and gold reports. Written into a temp folder and renamed to --out at the end. "
            + "`lakehouse migrate --layout lake --data-dir DIR` moves such a folder back into the current layout.")
        {
            dataDir, layout, output, json,
        };
        command.SetAction((parse, ct) => RunAsync(io, parse.GetValue(layout)!, parse.GetValue(output)!, parse.GetValue(json),
            CommonOptions.DataDirOf(parse, dataDir), ct));
        return new CliCommand(command,
            "lakehouse export --layout seed --out /srv/lake-seed",
            "lakehouse export --layout seed --out seed-copy --data-dir /srv/lake --json");
    }

    private static async Task<int> RunAsync(CliIo io, string layout, string outDir, bool json, string dataDir, CancellationToken cancellationToken)
    {
        if (!string.Equals(layout, "seed", StringComparison.Ordinal))
        {
            throw LakehouseException.Invalid($"--layout '{layout}' cannot be exported: the one layout to export is seed (the lake layout is the data dir itself)");
        }
        var store = LakeStore.Open(new StoreOptions { DataDir = dataDir, CacheBytes = ExportCacheBytes });
        var result = await CliProgress.RunAsync(io, json, "export", progress =>
            store.ExportSeedAsync(outDir, new Relay(progress), cancellationToken)).ConfigureAwait(false);
        if (json)
        {
            await io.Out.WriteLineAsync(JsonSerializer.Serialize(new { export = result }, StorageReport.JsonOptions)).ConfigureAwait(false);
            return 0;
        }
        foreach (var t in result.Tables)
        {
            io.Out.WriteLine($"{t.Table,-26} {t.Symbols,6} symbol(s) {t.Partitions,9:N0} partition file(s) {t.Rows,13:N0} row(s) {Mib(t.Bytes),10}");
        }
        io.Out.WriteLine($"exported version {result.Version} in the seed layout to {result.OutDir}: {result.Partitions:N0} partition file(s), "
            + $"{result.Rows:N0} row(s), {Mib(result.Bytes)}; {result.ManifestFiles} manifest(s) and {result.ReportFiles} report(s) copied "
            + $"({result.DurationMs / 1000.0:0.0} s)");
        return 0;
    }

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):0.0} MiB";

    private sealed class Relay(IProgress<ProgressStep> to) : IProgress<LayoutProgress>
    {
        public void Report(LayoutProgress value) =>
            to.Report(new ProgressStep($"export {value.Table}: {value.Done}/{value.Total} symbol(s), {value.Rows:N0} rows", value.Done, value.Total));
    }
}
