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
    public void Runs_OfASliceAndWithNulls_CountFromTheSlicesStart()
    {
        var values = new StringArray.Builder().AppendRange(["X", "AAPL", "AAPL", "IBM"]).AppendNull().AppendNull().Append("IBM").Build();

        // A null compares as an empty value: the two nulls are one run.
        Assert.Equal([(0, 2), (2, 1), (3, 2), (5, 1)], RecordBatches.Runs((StringArray)values.Slice(1, 6)));
    }

    [Fact]
    public void Runs_OfNoValues_AreNone() =>
        Assert.Empty(RecordBatches.Runs(new StringArray.Builder().Build()));
}
