using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Server.Internal;

namespace Lakehouse.Flight.Server.Tests;

public sealed class UploadConverterTests
{
    private static readonly DateOnly Day = new(2024, 2, 29);

    [Theory]
    [InlineData(TimeUnit.Second)]
    [InlineData(TimeUnit.Millisecond)]
    [InlineData(TimeUnit.Microsecond)]
    [InlineData(TimeUnit.Nanosecond)]
    public void AddRows_MidnightTimestampOfAnyUnit_BecomesTheDate(TimeUnit unit)
    {
        var date = new TimestampArray.Builder(unit).Append(new DateTimeOffset(Day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)).Build();
        var batch = Row(("date", date));

        var bar = Convert(batch).Single();

        Assert.Equal(Day, bar.Date);
    }

    [Fact]
    public void AddRows_AllColumns_CopiesEveryValue()
    {
        var ingested = new DateTimeOffset(2024, 3, 1, 10, 30, 0, TimeSpan.Zero);
        var batch = Row(
            ("date", new Date32Array.Builder().Append(Day).Build()),
            ("adj_close", new DoubleArray.Builder().Append(10.25).Build()),
            ("source", new StringArray.Builder().Append("vendor").Build()),
            ("ingested_at", new TimestampArray.Builder(TimeUnit.Microsecond, "UTC").Append(ingested).Build()));

        var bar = Convert(batch).Single();

        Assert.Equal(new PriceBar("AAPL", Day, 10, 11, 9, 10.5, 10.25, 1000, "vendor", ingested), bar);
    }

    [Fact]
    public void AddRows_Date64NotAtMidnight_IsRefusedNamingTheRow()
    {
        var batch = Row(("date", new Date64Array(new ArrowBuffer.Builder<long>().Append(86_400_000L * 19_000 + 1).Build(), ArrowBuffer.Empty, 1, 0, 0)));

        var ex = Assert.Throws<LakehouseException>(() => Convert(batch));

        Assert.Contains("column 'date' row 0: date64 value", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddRows_NullAdjClose_IsKeptAsNull()
    {
        var batch = Row(("date", new Date32Array.Builder().Append(Day).Build()), ("adj_close", new DoubleArray.Builder().AppendNull().Build()));

        Assert.Null(Convert(batch).Single().AdjClose);
    }

    [Fact]
    public void AddRows_NullVolume_IsRefused()
    {
        var batch = Row(("date", new Date32Array.Builder().Append(Day).Build()), ("volume", new Int64Array.Builder().AppendNull().Build()));

        var ex = Assert.Throws<LakehouseException>(() => Convert(batch));

        Assert.Equal("column 'volume' row 0 is null; only adj_close may be null", ex.Message);
    }

    [Theory]
    [InlineData("float32 close", "column 'close' has type float; expected float64")]
    [InlineData("dictionary close", "column 'close' has type dictionary<values=double, indices=int8>; expected float64: only string columns may be dictionary-encoded")]
    [InlineData("int dictionary symbol", "column 'symbol' has type dictionary<values=int64, indices=int32>; a dictionary-encoded 'symbol' needs utf8 or large_utf8 values")]
    [InlineData("run_id", "unexpected column 'run_id'")]
    [InlineData("twice", "column 'open' appears twice")]
    public void ForSchema_BadSchema_IsRefusedNamingTheColumn(string kind, string expected)
    {
        var fields = new List<Field>
        {
            new("symbol", kind == "int dictionary symbol" ? new DictionaryType(Int32Type.Default, Int64Type.Default, false) : StringType.Default, false),
            new("date", Date32Type.Default, false),
            new("open", DoubleType.Default, false),
            new("high", DoubleType.Default, false),
            new("low", DoubleType.Default, false),
            new("close", kind switch
            {
                "float32 close" => FloatType.Default,
                "dictionary close" => new DictionaryType(Int8Type.Default, DoubleType.Default, false),
                _ => DoubleType.Default,
            }, false),
            new("volume", Int64Type.Default, false),
        };
        if (kind == "run_id")
        {
            fields.Add(new Field("run_id", StringType.Default, false));
        }
        if (kind == "twice")
        {
            fields.Add(new Field("OPEN", DoubleType.Default, false));
        }

        var ex = Assert.Throws<LakehouseException>(() => UploadConverter.ForSchema(PriceTables.Bronze, new Schema(fields, null)));

        Assert.Equal(LakehouseErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Convert_DictionaryEncodedStrings_BecomeThePlainValues()
    {
        // pandas categoricals: int8 indices into utf8 values (one unused), int16 indices into large_utf8 with a null row.
        var symbols = new DictionaryArray(new DictionaryType(Int8Type.Default, StringType.Default, false),
            new Int8Array.Builder().AppendRange([1, 0, 2, 1]).Build(),
            new StringArray.Builder().Append("MSFT").Append("AAPL").Append("IBM").Append("KO").Build());
        var labels = new DictionaryArray(new DictionaryType(Int16Type.Default, LargeStringType.Default, false),
            new Int16Array.Builder().Append(0).Append(0).AppendNull().Append(1).Build(),
            new LargeStringArray.Builder().Append("vendor_ü").Append("b").Build());

        var converted = Labels(symbols, labels, 4, firstRow: 0);

        var symbol = Assert.IsType<StringArray>(converted.Column(0));
        Assert.Equal(["AAPL", "MSFT", "IBM", "AAPL"], Enumerable.Range(0, 4).Select(i => symbol.GetString(i)));
        var label = Assert.IsType<StringArray>(converted.Column(2));
        Assert.Equal(["vendor_ü", "vendor_ü", null, "b"], Enumerable.Range(0, 4).Select(i => label.GetString(i)));
    }

    [Fact]
    public void Convert_DictionaryIndexOutsideTheDictionary_IsRefusedNamingTheRow()
    {
        var symbols = new DictionaryArray(new DictionaryType(Int32Type.Default, StringType.Default, false),
            new Int32Array.Builder().AppendRange([0, 5]).Build(), new StringArray.Builder().Append("AAPL").Build());
        var labels = new StringArray.Builder().Append("a").Append("b").Build();

        var ex = Assert.Throws<LakehouseException>(() => Labels(symbols, labels, 2, firstRow: 100));

        Assert.Equal("column 'symbol' row 101: dictionary index 5 is outside its dictionary of 1 values", ex.Message);
    }

    /// <summary>Converts (symbol, date, label) for a table of two string columns and a nullable one.</summary>
    private static RecordBatch Labels(IArrowArray symbols, IArrowArray labels, int rows, long firstRow)
    {
        var table = new TableDefinition(Layer.Silver, "labels",
            new Schema([new Field("symbol", StringType.Default, false), new Field("date", Date32Type.Default, false), new Field("label", StringType.Default, true)], null),
            ["symbol", "date"], Partitioning.Symbol, WriteMode.Append);
        var dates = new Date32Array.Builder().AppendRange(Enumerable.Repeat(Day, rows)).Build();
        var schema = new Schema([new Field("symbol", symbols.Data.DataType, true), new Field("date", Date32Type.Default, true), new Field("label", labels.Data.DataType, true)], null);
        return UploadConverter.ForSchema(table, schema).Convert(new RecordBatch(schema, [symbols, dates, labels], rows), firstRow);
    }

    /// <summary>One AAPL row with defaults for the columns not given.</summary>
    private static RecordBatch Row(params (string Name, IArrowArray Array)[] overrides)
    {
        var columns = new List<(string, IArrowArray)>
        {
            ("symbol", new StringArray.Builder().Append("AAPL").Build()),
            ("open", new DoubleArray.Builder().Append(10).Build()),
            ("high", new DoubleArray.Builder().Append(11).Build()),
            ("low", new DoubleArray.Builder().Append(9).Build()),
            ("close", new DoubleArray.Builder().Append(10.5).Build()),
            ("volume", new Int64Array.Builder().Append(1000).Build()),
        };
        foreach (var o in overrides)
        {
            columns.RemoveAll(c => c.Item1 == o.Name);
            columns.Add(o);
        }
        var schema = new Schema(columns.Select(c => new Field(c.Item1, c.Item2.Data.DataType, true)), null);
        return new RecordBatch(schema, columns.Select(c => c.Item2), 1);
    }

    /// <summary>The upload converted for bronze prices, then stamped as the store would (source kept when sent), as bars.</summary>
    private static List<PriceBar> Convert(RecordBatch batch)
    {
        var converted = UploadConverter.ForSchema(PriceTables.Bronze, batch.Schema).Convert(batch, 0);
        var full = PriceTables.SilverSchema.FieldsList.Select(f => converted.Schema.GetFieldIndex(f.Name) is var i and >= 0
            ? converted.Column(i)
            : f.Name == "source" ? new StringArray.Builder().AppendRange(Enumerable.Repeat("", converted.Length)).Build()
            : f.Name == "ingested_at" ? new TimestampArray.Builder(PriceTables.TimestampType).AppendRange(Enumerable.Repeat(DateTimeOffset.UnixEpoch, converted.Length)).Build()
            : RecordBatches.Nulls(f.DataType, converted.Length));
        return PriceBarBatches.ToBars(new RecordBatch(PriceTables.SilverSchema, full, converted.Length)).ToList();
    }
}
