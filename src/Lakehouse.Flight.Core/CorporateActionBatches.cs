using Apache.Arrow;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Core;

/// <summary>Corporate actions to record batches of <c>silver/corporate_actions</c> and back.</summary>
public static class CorporateActionBatches
{
    public static RecordBatch ToBatch(IReadOnlyList<CorporateAction> actions)
    {
        var n = actions.Count;
        var symbol = new StringArray.Builder();
        var date = new Date32Array.Builder().Reserve(n);
        var type = new StringArray.Builder();
        var value = new DoubleArray.Builder().Reserve(n);
        var numerator = new DoubleArray.Builder().Reserve(n);
        var denominator = new DoubleArray.Builder().Reserve(n);
        var source = new StringArray.Builder();
        var ingested = new TimestampArray.Builder(PriceTables.TimestampType).Reserve(n);
        foreach (var a in actions)
        {
            symbol.Append(a.Symbol);
            date.Append(a.Date);
            type.Append(a.Type);
            value.Append(a.Value);
            numerator.Append(a.Numerator);
            denominator.Append(a.Denominator);
            source.Append(a.Source ?? "");
            ingested.Append(a.IngestedAt);
        }
        return new RecordBatch(PriceTables.CorporateActionsSchema,
            [symbol.Build(), date.Build(), type.Build(), value.Build(), numerator.Build(), denominator.Build(), source.Build(), ingested.Build()], n);
    }

    public static IEnumerable<CorporateAction> ToActions(RecordBatch batch)
    {
        var symbol = (StringArray)batch.Column("symbol");
        var date = (Date32Array)batch.Column("date");
        var type = (StringArray)batch.Column("type");
        var value = (DoubleArray)batch.Column("value");
        var numerator = (DoubleArray)batch.Column("numerator");
        var denominator = (DoubleArray)batch.Column("denominator");
        var source = (StringArray)batch.Column("source");
        var ingested = (TimestampArray)batch.Column("ingested_at");
        for (var i = 0; i < batch.Length; i++)
        {
            yield return new CorporateAction(symbol.GetString(i), date.GetDateOnly(i)!.Value, type.GetString(i), value.GetValue(i),
                numerator.GetValue(i), denominator.GetValue(i), source.GetString(i), ingested.GetTimestamp(i)!.Value);
        }
    }
}
