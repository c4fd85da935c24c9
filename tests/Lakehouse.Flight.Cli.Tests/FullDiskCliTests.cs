
namespace Lakehouse.Flight.Cli.Tests;

/// <summary>`lakehouse ingest` on a full disk: exit 1, a line that says so, no stack trace.</summary>
public sealed class FullDiskCliTests
{
    [TmpfsFact]
    public async Task Ingest_OnAFullDisk_ExitsOneWithDiskFullLinesAndNoStackTrace()
    {
        using var disk = Tmpfs.Mount(4);
        disk.Fill(leaveBytes: 256 * 1024);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await LakehouseCli.RunAsync(
            ["ingest", "--source", "synthetic", "--symbols", "FULL1,FULL2", "--from", "2020-01-01", "--to", "2023-12-31", "--data-dir", disk.Path],
            stdout, stderr, CancellationToken.None);

        Assert.Equal(1, code);
        var lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.StartsWith("error: ", l, StringComparison.Ordinal));
        Assert.All(lines, l => Assert.Contains("disk full", l, StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", stderr.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(disk.Path, stderr.ToString(), StringComparison.Ordinal);
    }
}
