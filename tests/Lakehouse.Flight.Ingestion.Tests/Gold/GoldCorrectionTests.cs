using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion.Gold;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Ingestion.Tests.Gold;

/// <summary>
/// A correction of a past day writes only the gold rows it moves (docs/decisions.md D46): each case checks what was
/// written and that gold afterwards equals the calculator over the whole of silver, bit for bit.
/// </summary>
public sealed class GoldCorrectionTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lakehouse-goldfix-" + Guid.NewGuid().ToString("N"));
    private readonly LakeStore _store;
    private readonly GoldBuilder _builder;
    private readonly List<PriceBar> _bars = [.. SyntheticBars.GenerateOne("MSFT", new DateOnly(2018, 1, 1), new DateOnly(2020, 12, 31))];

    public GoldCorrectionTests()
    {
        _store = LakeStore.Open(_dir);
        _builder = new GoldBuilder(_store);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task RefreshAsync_VolumeCorrection_MovesNoMetricRow_RewritesItsMonthAndTheReport()
    {
        await LoadAsync();
        var day = _bars.First(b => b.Date >= new DateOnly(2018, 9, 3));

        var result = await _builder.RefreshAsync(await _store.UpsertAsync([day with { Volume = day.Volume + 7 }]));

        // The corrected day's metric row is given and found unchanged; no later row is read or compared.
        var metrics = Assert.Single(result.Reports, r => r.Table == GoldTables.DailyMetricsName);
        Assert.Equal((1L, 0L, 1L), (metrics.Rows, metrics.Updated, metrics.Unchanged));
        var monthly = Assert.Single(result.Reports, r => r.Table == GoldTables.PricesMonthlyName);
        Assert.Equal((1L, 1L), (monthly.Rows, monthly.Updated));
        Assert.True(Assert.Single(result.Files).Written);
        AssertGoldIsTheFullComputation();
    }

    [Fact]
    public async Task RefreshAsync_PriceCorrectionThatSetsANewPeak_RewritesEveryLaterDrawdown()
    {
        await LoadAsync();
        var day = _bars.First(b => b.Date >= new DateOnly(2018, 3, 1));
        var high = _bars.Max(b => b.High) * 3;

        var result = await _builder.RefreshAsync(await _store.UpsertAsync([day with { High = high, Close = high, AdjClose = high }]));

        // The peak moves for every later day: every row from the correction on differs.
        var metrics = Assert.Single(result.Reports, r => r.Table == GoldTables.DailyMetricsName);
        var later = _bars.Count(b => b.Date >= day.Date);
        Assert.Equal((later, later), ((int)metrics.Rows, (int)metrics.Updated));
        AssertGoldIsTheFullComputation();
    }

    [Fact]
    public async Task RefreshAsync_PriceCorrectionOfThePeakDay_RewritesTheDrawdownsUntilTheNextPeak()
    {
        await LoadAsync();
        // The highest day of the first year, lowered: the drawdowns after it change until a price passes that peak.
        var first = _bars.Where(b => b.Date.Year == 2018).ToList();
        var peak = first.MaxBy(b => b.AdjClose ?? b.Close)!;

        var result = await _builder.RefreshAsync(await _store.UpsertAsync([peak with { Close = peak.Low, AdjClose = peak.Low }]));

        var metrics = Assert.Single(result.Reports, r => r.Table == GoldTables.DailyMetricsName);
        Assert.Equal(metrics.Rows, metrics.Updated);
        Assert.InRange(metrics.Rows, 1, _bars.Count(b => b.Date >= peak.Date));
        AssertGoldIsTheFullComputation();
    }

    [Fact]
    public async Task RefreshAsync_CorrectionWhileGoldIsBehindSilver_WritesEveryRowFromIt()
    {
        await LoadAsync(exceptLastDays: 5);
        // Days appended to silver whose gold rebuild never ran (it failed, or the process died before it).
        await _store.UpsertAsync(_bars.TakeLast(5).ToList());
        var day = _bars.First(b => b.Date >= new DateOnly(2020, 3, 2));

        var result = await _builder.RefreshAsync(await _store.UpsertAsync([day with { Volume = day.Volume + 1 }]));

        var metrics = Assert.Single(result.Reports, r => r.Table == GoldTables.DailyMetricsName);
        Assert.Equal(_bars.Count(b => b.Date >= day.Date), metrics.Rows);
        Assert.Equal(5, metrics.Inserted);
        AssertGoldIsTheFullComputation();
    }

    private async Task LoadAsync(int exceptLastDays = 0)
    {
        await _store.UpsertAsync(_bars.Take(_bars.Count - exceptLastDays).ToList());
        await _builder.BuildAsync(["MSFT"]);
    }

    private void AssertGoldIsTheFullComputation()
    {
        var silver = Read("silver", PriceTables.PricesDaily);
        AssertSameRows(GoldCalculator.DailyMetrics(silver), Read("gold", GoldTables.DailyMetricsName));
        AssertSameRows(GoldCalculator.Monthly(silver), Read("gold", GoldTables.PricesMonthlyName));
    }

    private RecordBatch Read(string layer, string table) =>
        RecordBatches.Concatenate(_store.Read(TableQuery.Create(layer, table, ["MSFT"])).ToArray());

    private static void AssertSameRows(RecordBatch expected, RecordBatch actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        foreach (var field in expected.Schema.FieldsList)
        {
            var e = expected.Column(field.Name);
            var a = actual.Column(field.Name);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.True(Equals(Value(e, i), Value(a, i)), $"{field.Name} row {i}: {Value(e, i)} != {Value(a, i)}");
            }
        }
    }

    private static object? Value(IArrowArray array, int i) => array switch
    {
        DoubleArray d => d.IsValid(i) ? BitConverter.DoubleToInt64Bits(d.Values[i]) : null,
        Int64Array l => l.GetValue(i),
        Int32Array n => n.GetValue(i),
        Date32Array t => t.GetDateOnly(i),
        StringArray s => s.GetString(i),
        _ => throw new NotSupportedException(array.GetType().Name),
    };
}
