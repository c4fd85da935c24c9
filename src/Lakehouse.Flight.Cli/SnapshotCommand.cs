using System.CommandLine;
using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli;

/// <summary><c>lakehouse snapshot create|list|delete</c>: named versions of the lake that vacuum keeps readable.</summary>
internal static class SnapshotCommand
{
    public static CliCommand Create(CliIo io)
    {
        var command = new Command("snapshot", "Named snapshots: create (every table or chosen ones, at the latest or a given version), list, delete.");

        var dataDir = CommonOptions.DataDir();
        var name = new Argument<string>("name") { Description = "Letters, digits, '.', '_', '-' (1..64)" };
        var tables = CommonOptions.List("--tables", "Table ids (default every table)", "silver/prices_daily");
        var version = new Option<long?>("--version") { Description = "The lake version to pin (default the latest)", HelpName = "N" };
        var create = new Command("create", "Create a named snapshot.") { dataDir, name, tables, version };
        create.SetAction(async (parse, ct) =>
        {
            var store = LakeStore.Open(CommonOptions.DataDirOf(parse, dataDir));
            var chosen = new List<TableDefinition>();
            foreach (var id in CommonOptions.ListOf(parse, tables))
            {
                chosen.Add(store.Catalog.Tables.FirstOrDefault(t => t.Id == id.Trim().ToLowerInvariant()) ?? throw LakehouseException.Invalid(
                    $"--tables: unknown table '{id}': valid tables are {string.Join(", ", store.Catalog.Tables.Select(t => t.Id))}"));
            }
            var info = await store.CreateSnapshotAsync(parse.GetValue(name)!, chosen, parse.GetValue(version), ct).ConfigureAwait(false);
            io.Out.WriteLine(JsonSerializer.Serialize(info, WireJson.Default.SnapshotInfo));
            return 0;
        });

        var listDir = CommonOptions.DataDir();
        var list = new Command("list", "List the snapshots (one JSON object per line).") { listDir };
        list.SetAction((parse, ct) =>
        {
            foreach (var s in LakeStore.Open(CommonOptions.DataDirOf(parse, listDir)).ListSnapshots())
            {
                io.Out.WriteLine(JsonSerializer.Serialize(s, WireJson.Default.SnapshotInfo));
            }
            return Task.FromResult(0);
        });

        var deleteDir = CommonOptions.DataDir();
        var deleteName = new Argument<string>("name") { Description = "The snapshot to delete" };
        var delete = new Command("delete", "Delete a snapshot (its versions fall under the retention period again).") { deleteDir, deleteName };
        delete.SetAction(async (parse, ct) =>
        {
            await LakeStore.Open(CommonOptions.DataDirOf(parse, deleteDir)).DeleteSnapshotAsync(parse.GetValue(deleteName)!, ct).ConfigureAwait(false);
            io.Err.WriteLine($"snapshot '{parse.GetValue(deleteName)}' deleted");
            return 0;
        });

        command.Subcommands.Add(create);
        command.Subcommands.Add(list);
        command.Subcommands.Add(delete);
        return new CliCommand(command,
            "lakehouse snapshot create backtest-2026-11 --tables silver/prices_daily",
            "lakehouse snapshot list",
            "lakehouse snapshot delete backtest-2026-11");
    }
}
