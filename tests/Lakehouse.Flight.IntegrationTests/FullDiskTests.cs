using System.Net;
using System.Text.Json;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>A server whose disk fills up keeps serving, and tells writers what is wrong.</summary>
public sealed class FullDiskTests
{
    [TmpfsFact]
    public async Task FullDisk_DoPutAndHttpJobFailClearly_ServerKeepsServingReads()
    {
        using var disk = Tmpfs.Mount(6);
        await using var server = await TestServer.StartAsync(root: disk.Path);
        using var client = server.Client();
        await client.UploadAsync(SyntheticBars.Generate(["AAPL"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31)), "vendor_x", promote: true)
            .DefaultTimeout();
        disk.Fill(leaveBytes: 256 * 1024);

        var put = await Assert.ThrowsAsync<RpcException>(() =>
            client.UploadAsync(SyntheticBars.Generate(["FULL1", "FULL2"], new DateOnly(2020, 1, 1), new DateOnly(2023, 12, 31)), "vendor_x", promote: true));

        Assert.Equal(StatusCode.ResourceExhausted, put.StatusCode);
        Assert.StartsWith("disk full:", put.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(disk.Path, put.Status.Detail, StringComparison.Ordinal);

        using var http = new HttpClient { BaseAddress = server.Server.HttpEndpoint };
        using var posted = await http.PostAsync(new Uri("/prices/jobs/daily/range?symbol=FULL1&date_from=2020-01-01&date_to=2023-12-31", UriKind.Relative), null)
            .DefaultTimeout();
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        var location = posted.Headers.Location!;
        JsonElement job = default;
        for (var i = 0; i < 600; i++)
        {
            job = JsonDocument.Parse(await http.GetStringAsync(location).DefaultTimeout()).RootElement;
            if (job.GetProperty("state").GetString() is "failed" or "succeeded")
            {
                break;
            }
            await Task.Delay(50);
        }
        Assert.Equal("failed", job.GetProperty("state").GetString());
        Assert.Contains("disk full", job.GetProperty("error").GetString(), StringComparison.Ordinal);

        // Still up, still answering from what is committed.
        var rows = (await client.GetPricesAsync(TableQuery.Create(symbols: ["AAPL"])).ToListAsync()).Sum(b => b.Length);
        Assert.Equal(23, rows);
        using var health = JsonDocument.Parse(await http.GetStringAsync(new Uri("/health", UriKind.Relative)).DefaultTimeout());
        Assert.Equal("ok", health.RootElement.GetProperty("status").GetString());
    }
}
