using Apache.Arrow;

namespace Lakehouse.Flight.Core.Tests;

public sealed class RecordBatchesTests
{
    [Fact]
    public void Runs_AreTheStretchesOfEqualConsecutiveValues()
    {
        var values = new StringArray.Builder().AppendRange(["AAPL", "AAPL", "IBM", "MSFT", "MSFT", "MSFT", "AAPL"]).Build();

        Assert.Equal([(0, 2), (2, 1), (3, 3), (6, 1)], RecordBatches.Runs(values));
    }

    [Fact]
    public void Runs_OfNoValues_AreNone() =>
        Assert.Empty(RecordBatches.Runs(new StringArray.Builder().Build()));
}
