using System.CommandLine;
using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Cli;

/// <summary><c>lakehouse vacuum</c>: deletes superseded data files past the retention period that no snapshot pins, and says what it freed.</summary>
internal static class VacuumCommand
{
    public static CliCommand Create(CliIo io)
    {
        var dataDir = CommonOptions.DataDir();
        var hours = new Option<double?>("--retention-hours") { Description = "Delete superseded files older than this (default Lakehouse:Retention, 30 days)", HelpName = "H" };
        var command = new Command("vacuum", "Delete superseded data files past the retention period that no snapshot pins; prints what it freed as JSON.")
        {
            dataDir, hours,
        };
        command.SetAction(async (parse, ct) =>
        {
            var h = parse.GetValue(hours);
            if (h is { } value && (!double.IsFinite(value) || value < 0))
            {
                throw LakehouseException.Invalid($"--retention-hours must be a number of hours >= 0 (got {value})");
            }
            var result = await LakeStore.Open(CommonOptions.DataDirOf(parse, dataDir))
                .VacuumAsync(h is { } x ? TimeSpan.FromHours(x) : null, ct).ConfigureAwait(false);
            io.Out.WriteLine(JsonSerializer.Serialize(new VacuumReport { Files = result.Files, Bytes = result.Bytes, Version = result.Version, Pinned = result.Pinned },
                WireJson.Default.VacuumReport));
            return 0;
        });
        return new CliCommand(command, "lakehouse vacuum", "lakehouse vacuum --retention-hours 24 --data-dir /srv/lake");
    }
}
