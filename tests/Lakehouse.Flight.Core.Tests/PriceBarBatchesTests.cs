using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Core.Tests;

public sealed class PriceBarBatchesTests
{
    private static readonly DateTimeOffset At = new(2024, 1, 2, 3, 4, 5, 123, TimeSpan.Zero);

    private static readonly PriceBar[] Bars =
    [
        new("AAPL", new DateOnly(2024, 1, 2), 1, 2, 0.5, 1.5, 1.4, 100, "x", At),
        new("^GSPC", new DateOnly(2024, 1, 3), 10, 20, 5, 15, null, 0, "y", At.AddDays(1)),
        new("MSFT", new DateOnly(2024, 1, 4), 3, 4, 2, 3.5, 3.5, 7, "z", At),
    ];

    [Fact]
    public void ToBatch_ThenToBars_KeepsEveryValueIncludingNullAdjClose()
    {
        var batch = PriceBarBatches.ToBatch(Bars, 1, 2);
        var back = PriceBarBatches.ToBars(batch).ToList();

        Assert.Equal(PriceTables.SilverSchema.FieldsList.Select(f => f.Name), batch.Schema.FieldsList.Select(f => f.Name));
        Assert.Equal(Bars[1..], back);
    }

    [Fact]
    public void ToBars_OfASlice_ReadsTheSlicedRows()
    {
        var batch = PriceBarBatches.ToBatch(Bars).Slice(1, 2);

        Assert.Equal(Bars[1..], PriceBarBatches.ToBars(batch));
    }

    [Fact]
    public void ValueAt_GivesTextFriendlyValues()
    {
        var batch = PriceBarBatches.ToBatch(Bars);

        Assert.Equal("^GSPC", PriceBarBatches.ValueAt(batch.Column("symbol"), 1));
        Assert.Equal("2024-01-03", PriceBarBatches.ValueAt(batch.Column("date"), 1));
        Assert.Equal(15.0, PriceBarBatches.ValueAt(batch.Column("close"), 1));
        Assert.Null(PriceBarBatches.ValueAt(batch.Column("adj_close"), 1));
        Assert.Equal(0L, PriceBarBatches.ValueAt(batch.Column("volume"), 1));
        Assert.Equal("2024-01-03T03:04:05.123000Z", PriceBarBatches.ValueAt(batch.Column("ingested_at"), 1));
    }
}
