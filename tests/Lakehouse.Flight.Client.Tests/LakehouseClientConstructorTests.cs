namespace Lakehouse.Flight.Client.Tests;

public sealed class LakehouseClientConstructorTests
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
}
