using Apache.Arrow;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Server.Internal;
using Microsoft.Extensions.Configuration;

namespace Lakehouse.Flight.Server.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void FromConfiguration_BindsLakehouseSection()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Lakehouse:DataDir"] = "/lake",
            ["Lakehouse:FlightPort"] = "9000",
            ["Lakehouse:MaxUploadRows"] = "10",
            ["Lakehouse:Auth:Users:0:Name"] = "ann",
            ["Lakehouse:Auth:Users:0:Password"] = "pw",
            ["Lakehouse:Auth:Users:0:Role"] = "writer",
            ["Lakehouse:Auth:Tokens:0:Token"] = "0123456789abcdef",
            ["Lakehouse:ImportRoots:0"] = "/srv/imports",
            ["Lakehouse:ImportRoots:1"] = "/mnt/vendor",
        }).Build();

        var options = LakehouseServerOptions.FromConfiguration(config);
        options.Validate();

        Assert.Equal(("/lake", 9000, 10L), (options.DataDir, options.FlightPort, options.MaxUploadRows));
        Assert.Equal("ann", Assert.Single(options.Auth.Users).Name);
        Assert.Equal("reader", Assert.Single(options.Auth.Tokens).Role);
        Assert.True(options.Auth.Enabled);
        Assert.Equal(["/srv/imports", "/mnt/vendor"], options.ImportRoots);
    }

    [Theory]
    [InlineData("port", "Lakehouse:FlightPort 70000")]
    [InlineData("host", "Lakehouse:Host 'not a host'")]
    [InlineData("cap", "Lakehouse:MaxUploadRows must be > 0")]
    [InlineData("role", "role 'admin' is not one of reader, writer")]
    [InlineData("short-token", "at least 16 characters")]
    [InlineData("cert", "Lakehouse:CertificatePath '/nope.pfx' does not exist")]
    [InlineData("import", "Lakehouse:ImportRoots has an empty entry")]
    [InlineData("retention", "Lakehouse:Retention must be >= 0")]
    [InlineData("warm", "Lakehouse:WarmCacheTime must be >= 0")]
    public void Validate_BadSetting_NamesIt(string kind, string expected)
    {
        var o = new LakehouseServerOptions();
        switch (kind)
        {
            case "port": o.FlightPort = 70000; break;
            case "host": o.Host = "not a host"; break;
            case "cap": o.MaxUploadRows = 0; break;
            case "role": o.Auth.Users.Add(new UserOptions { Name = "a", Password = "b", Role = "admin" }); break;
            case "short-token": o.Auth.Tokens.Add(new TokenOptions { Token = "short" }); break;
            case "cert": o.CertificatePath = "/nope.pfx"; break;
            case "import": o.ImportRoots.Add(" "); break;
            case "retention": o.Retention = TimeSpan.FromDays(-1); break;
            case "warm": o.WarmCacheTime = TimeSpan.FromSeconds(-1); break;
        }

        var ex = Assert.Throws<LakehouseException>(o.Validate);

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RowsPerMessage_SilverAtOneMiB_KeepsMessagesUnderTheLimit()
    {
        var rows = DoGetStreamer.RowsPerMessage(PriceTables.SilverSchema, 1 << 20);

        // Worst case per row: two 64-byte strings with offsets, eight fixed columns, a validity bit.
        Assert.InRange(rows, 1000, (1 << 20) / (2 * 68 + 7 * 8 + 4));
        Assert.True(DoGetStreamer.RowsPerMessage(PriceTables.Silver.Project(["close"]), 1 << 20) > rows);
    }

    [Theory]
    [InlineData(LakehouseErrorKind.InvalidArgument, StatusCode.InvalidArgument)]
    [InlineData(LakehouseErrorKind.NotFound, StatusCode.NotFound)]
    [InlineData(LakehouseErrorKind.Conflict, StatusCode.Aborted)]
    [InlineData(LakehouseErrorKind.Unavailable, StatusCode.Unavailable)]
    [InlineData(LakehouseErrorKind.Unauthenticated, StatusCode.Unauthenticated)]
    [InlineData(LakehouseErrorKind.PermissionDenied, StatusCode.PermissionDenied)]
    [InlineData(LakehouseErrorKind.Unimplemented, StatusCode.Unimplemented)]
    [InlineData(LakehouseErrorKind.ResourceExhausted, StatusCode.ResourceExhausted)]
    [InlineData(LakehouseErrorKind.InvalidData, StatusCode.InvalidArgument)]
    [InlineData(LakehouseErrorKind.FailedPrecondition, StatusCode.FailedPrecondition)]
    [InlineData(LakehouseErrorKind.DiskFull, StatusCode.ResourceExhausted)]
    public void ToStatus_MapsEveryKind(LakehouseErrorKind kind, StatusCode expected)
    {
        Assert.Equal(expected, ErrorMapper.ToStatusCode(kind));
    }

    [Fact]
    public void Schema_ProjectionOfSilver_IsWhatRowsPerMessageSees()
    {
        Schema s = PriceTables.Silver.Project(["date"]);

        Assert.Equal((1 << 20) / 4, DoGetStreamer.RowsPerMessage(s, 1 << 20));
    }

    [Fact]
    public void ImportRoots_DefaultIsTheDataDirsImportFolder_AndRealPathFollowsLinksAndDotDot()
    {
        var dir = Path.Combine(Path.GetTempPath(), "lakehouse-roots-" + Guid.NewGuid().ToString("N"));
        var outside = Path.Combine(dir, "outside");
        Directory.CreateDirectory(Path.Combine(dir, "lake", "import", "sub"));
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "f.parquet"), "x");
        Directory.CreateSymbolicLink(Path.Combine(dir, "lake", "import", "sub", "out"), "../../../outside");
        try
        {
            var roots = new ImportRoots(new LakehouseServerOptions { DataDir = Path.Combine(dir, "lake") });

            Assert.Equal([Path.Combine(dir, "lake", "import")], roots.Roots);
            Assert.Equal(Path.Combine(dir, "lake", "import", "sub", "a.parquet"), roots.Resolve("sub/x/../a.parquet", "from"));
            Assert.Equal(Path.Combine(outside, "f.parquet"), ImportRoots.RealPath(Path.Combine(dir, "lake", "import", "sub", "out", "f.parquet")));
            var ex = Assert.Throws<LakehouseException>(() => roots.Resolve("sub/out/f.parquet", "from"));
            Assert.Equal(LakehouseErrorKind.PermissionDenied, ex.Kind);
            Assert.Contains("Lakehouse:ImportRoots", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(dir, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
