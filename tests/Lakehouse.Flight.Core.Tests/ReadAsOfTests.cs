using System.Text;

namespace Lakehouse.Flight.Core.Tests;

public sealed class ReadAsOfTests
{
    [Theory]
    [InlineData("""{"version": 42}""", "version=42")]
    [InlineData("""{"version": "42"}""", "version=42")]
    [InlineData("""{"version": 0}""", "version=0")]
    [InlineData("""{"as_of": "2026-11-30T23:00:00+01:00"}""", "as_of=2026-11-30T22:00:00.0000000Z")]
    [InlineData("""{"as_of": "2026-11-30T22:00:00.123Z"}""", "as_of=2026-11-30T22:00:00.1230000Z")]
    [InlineData("""{"as_of": "2026-11-30"}""", "as_of=2026-11-30T00:00:00.0000000Z")]
    [InlineData("""{"snapshot": "backtest-2026.11_a"}""", "snapshot=backtest-2026.11_a")]
    public void ParseTicket_AsOfFields_GiveTheMoment(string json, string expected)
    {
        var query = QueryCodec.ParseQuery(Encoding.UTF8.GetBytes(json));

        Assert.Equal(expected, query.AsOf!.ToString());
    }

    [Fact]
    public void ParseTicket_NoAsOf_IsTheCurrentVersion()
    {
        var query = QueryCodec.ParseQuery(Encoding.UTF8.GetBytes("""{"symbols":["AAPL"]}"""));

        Assert.Null(query.AsOf);
        Assert.Null(query.DiffFrom);
    }

    [Theory]
    [InlineData("""{"version": 3, "as_of": "2026-11-30T22:00:00Z"}""", "version and as_of are both given")]
    [InlineData("""{"as_of": "2026-11-30T22:00:00Z", "snapshot": "x"}""", "as_of and snapshot are both given")]
    [InlineData("""{"version": -1}""", "version must be >= 0")]
    [InlineData("""{"as_of": "2026-11-30T22:00:00"}""", "as_of '2026-11-30T22:00:00' is not an ISO-8601 instant with a time zone")]
    [InlineData("""{"as_of": "last tuesday"}""", "as_of 'last tuesday' is not an ISO-8601 instant")]
    [InlineData("""{"snapshot": "../etc"}""", "snapshot '../etc' is not a snapshot name")]
    [InlineData("""{"diff_from_version": -2}""", "diff_from_version must be >= 0")]
    public void ParseTicket_BadAsOf_IsInvalidArgumentNamingTheField(string json, string expected)
    {
        var ex = Assert.Throws<LakehouseException>(() => QueryCodec.ParseQuery(Encoding.UTF8.GetBytes(json)));

        Assert.Equal(LakehouseErrorKind.InvalidArgument, ex.Kind);
        Assert.StartsWith(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_ThenParse_RoundTripsAsOfAndDiffForEveryEndpoint()
    {
        var instant = new DateTimeOffset(2026, 11, 30, 22, 0, 0, 123, TimeSpan.Zero).AddTicks(4567);
        foreach (var asOf in new[] { ReadAsOf.AtVersion(0), ReadAsOf.AtVersion(17), ReadAsOf.AtInstant(instant), ReadAsOf.AtSnapshot("eod") })
        {
            var query = TableQuery.Create(symbols: ["MSFT", "AAPL"]).WithAsOf(asOf).WithDiffFrom(5);

            var back = QueryCodec.ParseQuery(QueryCodec.Encode(query.ForSymbol("AAPL")));

            Assert.Equal(asOf, back.AsOf);
            Assert.Equal(5, back.DiffFrom);
            Assert.Equal(["AAPL"], back.Symbols);
        }
        Assert.Equal(instant, ReadAsOf.AtInstant(instant).Instant);
    }
}
