using System.Text;
using System.Text.Json;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// Actions that name a server file read only under <c>Lakehouse:ImportRoots</c> (decisions D34): a path
/// outside them, or a symlink inside them that leads outside, is PERMISSION_DENIED naming the setting; a
/// file that is not Parquet is INVALID_ARGUMENT without native type names or server paths.
/// </summary>
public sealed class ImportRootsTests : IAsyncLifetime
{
    private TestServer _server = null!;

    private string Import => Path.Combine(_server.DataDir, "import");

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("migrate-legacy", """{"from":"/etc/passwd"}""")]
    [InlineData("migrate-legacy", """{"from":"../../../../../../etc/passwd"}""")]
    [InlineData("migrate-legacy", """{"from":"prices_daily.parquet","legacy_manifest":"/etc/passwd"}""")]
    [InlineData("ingest", """{"source":"csv","path":"/etc"}""")]
    public async Task Action_NamingAFileOutsideTheImportRoots_IsPermissionDeniedNamingTheSetting(string action, string body)
    {
        Directory.CreateDirectory(Import);
        WriteLegacyFile(Path.Combine(Import, "prices_daily.parquet"));

        var ex = await Assert.ThrowsAsync<RpcException>(() => ActionAsync(action, body));

        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Contains("Lakehouse:ImportRoots", ex.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(_server.DataDir, ex.Status.Detail, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_server.DataDir, "bronze")));
    }

    [Fact]
    public async Task MigrateLegacy_SymlinkInsideTheImportRootLeadingOutside_IsPermissionDenied()
    {
        Directory.CreateDirectory(Import);
        File.CreateSymbolicLink(Path.Combine(Import, "passwd.parquet"), "/etc/passwd");
        Directory.CreateSymbolicLink(Path.Combine(Import, "etc"), "/etc");

        var file = await Assert.ThrowsAsync<RpcException>(() => ActionAsync("migrate-legacy", """{"from":"passwd.parquet"}"""));
        var folder = await Assert.ThrowsAsync<RpcException>(() => ActionAsync("migrate-legacy", """{"from":"etc/passwd"}"""));

        Assert.Equal((StatusCode.PermissionDenied, StatusCode.PermissionDenied), (file.StatusCode, folder.StatusCode));
        Assert.Contains("Lakehouse:ImportRoots", file.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateLegacy_FileUnderTheImportRootThatIsNotParquet_IsInvalidArgumentWithoutNativeNamesOrPaths()
    {
        Directory.CreateDirectory(Import);
        await File.WriteAllTextAsync(Path.Combine(Import, "notes.parquet"), "root:x:0:0:root:/root:/bin/bash\n");

        var ex = await Assert.ThrowsAsync<RpcException>(() => ActionAsync("migrate-legacy", """{"from":"notes.parquet"}"""));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("notes.parquet is not a readable Parquet file", ex.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("N7parquet", ex.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", ex.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(_server.DataDir, ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateLegacy_FileUnderTheImportRoot_IsMigratedByItsNameThere()
    {
        Directory.CreateDirectory(Path.Combine(Import, "old"));
        WriteLegacyFile(Path.Combine(Import, "old", "prices_daily.parquet"));

        var results = await ResultsAsync("migrate-legacy", """{"from":"old/prices_daily.parquet"}""");

        // Progress on the wire: one object per step, with exactly these fields; the last step counts every row.
        var progress = results[..^1].Select(r => r.GetProperty("progress")).ToList();
        Assert.NotEmpty(progress);
        Assert.All(progress, p => Assert.Equal(["action", "phase", "done", "total", "rows"], p.EnumerateObject().Select(f => f.Name)));
        Assert.All(progress, p => Assert.Equal("migrate-legacy", p.GetProperty("action").GetString()));
        Assert.Equal(("migrate", 1L, 1L, 3L), (progress[^1].GetProperty("phase").GetString(), progress[^1].GetProperty("done").GetInt64(),
            progress[^1].GetProperty("total").GetInt64(), progress[^1].GetProperty("rows").GetInt64()));
        var result = results[^1];
        Assert.Equal(["reports", "migration"], result.EnumerateObject().Select(f => f.Name));
        var migration = result.GetProperty("migration");
        Assert.True(migration.GetProperty("verified").GetBoolean());
        Assert.Equal(3, migration.GetProperty("rows_migrated").GetInt64());
        using var client = _server.Client();
        Assert.Equal([10.0, 11.0, 12.0], (await client.ReadBarsAsync(TableQuery.Create(symbols: ["LEG"])).ToListAsync()).Select(b => b.Close));
    }

    /// <summary>A legacy file of three rows (silver's columns, as the prototype's later files had them).</summary>
    private static void WriteLegacyFile(string path)
    {
        var bars = Enumerable.Range(0, 3).Select(i =>
            new PriceBar("LEG", new DateOnly(2024, 1, 2).AddDays(i), 10 + i, 11 + i, 9 + i, 10 + i, 10 + i, 100, "legacy", DateTimeOffset.UnixEpoch));
        File.WriteAllBytes(path, SeedFiles.Encode(PriceBarBatches.ToBatch(bars.ToArray())));
    }

    private async Task<JsonElement> ActionAsync(string type, string body) => (await ResultsAsync(type, body))[^1];

    private async Task<List<JsonElement>> ResultsAsync(string type, string body)
    {
        using var call = _server.Raw.DoAction(new FlightAction(type, Encoding.UTF8.GetBytes(body)));
        var results = new List<JsonElement>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            results.Add(JsonDocument.Parse(call.ResponseStream.Current.Body.ToByteArray()).RootElement.Clone());
        }
        return results;
    }
}
