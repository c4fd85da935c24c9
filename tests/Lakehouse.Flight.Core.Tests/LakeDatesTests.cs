namespace Lakehouse.Flight.Core.Tests;

public sealed class LakeDatesTests
{
    private static readonly DateOnly Today = new(2026, 12, 8);

    [Theory]
    [InlineData("1900-01-01", true)]
    [InlineData("1899-12-31", false)]
    [InlineData("2026-12-09", true)]
    [InlineData("2026-12-10", false)]
    [InlineData("9999-12-31", false)]
    [InlineData("0001-01-01", false)]
    public void Accepts_From1900ToTomorrow(string date, bool accepted) =>
        Assert.Equal(accepted, LakeDates.Accepts(DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture), Today));

    [Fact]
    public void Accepts_OnTheCalendarsLastDay_DoesNotOverflow() =>
        Assert.True(LakeDates.Accepts(DateOnly.MaxValue, DateOnly.MaxValue));

    [Fact]
    public void CheckRange_FarDateTo_IsInvalidNamingTheFieldAndTheRange()
    {
        var ex = Assert.Throws<LakehouseException>(() => LakeDates.CheckRange(new DateOnly(1990, 1, 1), DateOnly.MaxValue, "--from", "--to", Today));

        Assert.Equal(LakehouseErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal("--to 9999-12-31 is outside the dates the lake accepts: 1900-01-01 to 2026-12-09 (tomorrow, UTC)", ex.Message);
    }

    [Fact]
    public void CheckRange_FromAfterTo_IsInvalidNamingBoth()
    {
        var ex = Assert.Throws<LakehouseException>(() => LakeDates.CheckRange(new DateOnly(2024, 2, 1), new DateOnly(2024, 1, 1), today: Today));

        Assert.Equal("date_from 2024-02-01 is after date_to 2024-01-01", ex.Message);
    }

    [Fact]
    public void BarValidator_UsesTheSameRange()
    {
        var bar = new PriceBar("A", Today.AddDays(1), 1, 1, 1, 1, 1, 1, "s", DateTimeOffset.UnixEpoch);

        Assert.Null(BarValidator.Validate(bar, Today));
        Assert.NotNull(BarValidator.Validate(bar with { Date = Today.AddDays(2) }, Today));
        Assert.Equal(LakeDates.Min, BarValidator.MinDate);
    }
}
