namespace Lakehouse.Flight.Core.Tests;

public sealed class BarValidatorTests
{
    private static readonly DateOnly Today = new(2026, 11, 26);

    private static PriceBar Good => new("AAPL", new DateOnly(2024, 1, 2), 10, 12, 9, 11, 11, 1000, "test", DateTimeOffset.UnixEpoch);

    [Fact]
    public void Validate_GoodBar_HasNoReason() => Assert.Null(BarValidator.Validate(Good, Today));

    [Fact]
    public void Validate_TomorrowIsAllowedButNotLater()
    {
        Assert.Null(BarValidator.Validate(Good with { Date = Today.AddDays(1) }, Today));
        Assert.Contains("between 1900-01-01 and tomorrow", BarValidator.Validate(Good with { Date = Today.AddDays(2) }, Today), StringComparison.Ordinal);
        Assert.NotNull(BarValidator.Validate(Good with { Date = new DateOnly(1899, 12, 31) }, Today));
    }

    [Theory]
    [InlineData(10, 12, 10.5, 11, 0, "low 10.5 is above min(open, close) 10")]
    [InlineData(10, 10.5, 9, 11, 0, "high 10.5 is below max(open, close) 11")]
    [InlineData(0, 12, 9, 11, 0, "finite and > 0")]
    [InlineData(10, double.PositiveInfinity, 9, 11, 0, "finite and > 0")]
    [InlineData(10, 12, 9, 11, -5, "volume -5 is negative")]
    public void Validate_BrokenRule_NamesIt(double open, double high, double low, double close, long volume, string fragment)
    {
        var reason = BarValidator.Validate(Good with { Open = open, High = high, Low = low, Close = close, Volume = volume }, Today);
        Assert.NotNull(reason);
        Assert.Contains(fragment, reason, StringComparison.Ordinal);
        Assert.StartsWith("AAPL 2024-01-02", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NullAdjCloseIsFine_NegativeIsNot()
    {
        Assert.Null(BarValidator.Validate(Good with { AdjClose = null }, Today));
        Assert.NotNull(BarValidator.Validate(Good with { AdjClose = -1 }, Today));
    }

    [Theory]
    [InlineData(10, 12, 9, 11, 1000, 11.0, 0)]
    [InlineData(10, 12, 10.5, 11, 0, null, 0)]
    [InlineData(10, 10.5, 9, 11, 0, 11.0, 0)]
    [InlineData(double.NaN, 12, 9, 11, 0, 11.0, 0)]
    [InlineData(10, 12, 9, 11, 0, double.NaN, 0)]
    [InlineData(10, 12, 9, 11, 0, 0.0, 0)]
    [InlineData(10, 12, 9, 11, -1, 11.0, 0)]
    [InlineData(11, 11, 11, 11, 0, 11.0, 1)]
    [InlineData(11, 11, 11, 11, 0, 11.0, 2)]
    [InlineData(11, 11, 11, 11, 0, 11.0, -46000)]
    public void Passes_AgreesWithValidate(double open, double high, double low, double close, long volume, double? adj, int days)
    {
        var bar = Good with { Open = open, High = high, Low = low, Close = close, Volume = volume, AdjClose = adj, Date = Today.AddDays(days) };

        var passes = BarValidator.Passes(bar.Date, open, high, low, close, adj, volume, Today);

        Assert.Equal(BarValidator.Validate(bar, Today) is null, passes);
    }
}
