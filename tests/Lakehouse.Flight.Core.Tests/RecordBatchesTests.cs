using Apache.Arrow;
using Apache.Arrow.Types;

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

    [Fact]
    public void BatchScratch_ConcatenatesAsAFreshCopyDoes_NullsStringsAndSlicesIncluded_AndReusesItsMemory()
    {
        var schema = new Schema([
            new Field("symbol", StringType.Default, false), new Field("date", Date32Type.Default, false),
            new Field("price", DoubleType.Default, true), new Field("volume", Int64Type.Default, false),
        ], null);
        RecordBatch Batch(string symbol, int firstDay, int rows, bool withNulls) => new(schema, [
            new StringArray.Builder().AppendRange(Enumerable.Repeat(symbol, rows)).Build(),
            new Date32Array.Builder().AppendRange(Enumerable.Range(firstDay, rows).Select(d => DateOnly.FromDayNumber(719162 + d))).Build(),
            Enumerable.Range(0, rows).Aggregate(new DoubleArray.Builder(), (b, i) => withNulls && i % 3 == 1 ? b.AppendNull() : b.Append(firstDay + i + 0.25)).Build(),
            new Int64Array.Builder().AppendRange(Enumerable.Range(0, rows).Select(i => (long)(firstDay * 1000 + i))).Build(),
        ], rows);
        var parts = new[] { Batch("AAPL", 100, 10, withNulls: false).Slice(3, 5), Batch("AAPLE", 200, 9, withNulls: true), Batch("B", 300, 1, withNulls: false) };
        var scratch = new BatchScratch();

        var expected = Dump(RecordBatches.Concatenate(parts));
        var got = scratch.Concatenate(parts);

        Assert.Equal(15, got.Length);
        Assert.Equal(3, got.Column(2).NullCount);
        Assert.Equal(expected, Dump(got));
        Assert.Equal("AAPL|103|103.25|100003", Dump(got)[0]);
        Assert.Equal("AAPLE|201||200001", Dump(got)[6]);
        // The next call reuses the memory: its batch is right (the one before is not to be read any more).
        var second = scratch.Concatenate([parts[2], parts[0]]);
        Assert.Equal(Dump(RecordBatches.Concatenate([parts[2], parts[0]])), Dump(second));
        // A single batch is handed back as it is.
        Assert.Same(parts[1], scratch.Concatenate([parts[1]]));
    }

    private static List<string> Dump(RecordBatch batch)
    {
        var symbols = (StringArray)batch.Column(0);
        var dates = (Date32Array)batch.Column(1);
        var prices = (DoubleArray)batch.Column(2);
        var volumes = (Int64Array)batch.Column(3);
        return [.. Enumerable.Range(0, batch.Length).Select(i => string.Join('|', symbols.GetString(i),
            dates.GetDateOnly(i)!.Value.DayNumber - 719162,
            prices.GetValue(i)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "",
            volumes.GetValue(i)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)))];
    }
}
