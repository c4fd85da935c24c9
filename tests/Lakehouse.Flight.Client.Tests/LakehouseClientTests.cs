using Lakehouse.Flight.Client.Internal;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Client.Tests;

public sealed class LakehouseClientTests
{
    [Theory]
    [InlineData("grpc://localhost:8815")]
    [InlineData("grpc+tcp://localhost:8815")]
    [InlineData("grpc+tls://localhost:8815")]
    [InlineData("http://localhost:8815")]
    public void Constructor_FlightSchemes_AreAccepted(string address)
    {
        using var client = new LakehouseClient(new Uri(address), new LakehouseClientOptions { Token = "t" });

        Assert.Equal("t", client.Token);
    }

    [Fact]
    public void Constructor_UnknownScheme_IsRefused()
    {
        var ex = Assert.Throws<ArgumentException>(() => new LakehouseClient(new Uri("ftp://localhost:21")));

        Assert.Contains("grpc://", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BarBatches_RoundTrip_KeepsEveryValueIncludingNullAdjClose()
    {
        var at = new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var bars = new[]
        {
            new PriceBar("AAPL", new DateOnly(2024, 1, 2), 1, 2, 0.5, 1.5, 1.4, 100, "x", at),
            new PriceBar("^GSPC", new DateOnly(2024, 1, 3), 10, 20, 5, 15, null, 0, "y", at.AddDays(1)),
            new PriceBar("MSFT", new DateOnly(2024, 1, 4), 3, 4, 2, 3.5, 3.5, 7, "z", at),
        };

        var batch = BarBatches.ToBatch(bars, 1, 2);
        var back = BarBatches.ToBars(batch).ToList();

        Assert.Equal(PriceSchema.Silver.FieldsList.Select(f => f.Name), batch.Schema.FieldsList.Select(f => f.Name));
        Assert.Equal(bars[1..], back);
    }
}
