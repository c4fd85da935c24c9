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
        return new TableBatchBuilder(PriceTables.CorporateActions)
            .Set(CorporateActionColumns.Symbol, symbol.Build()).Set(CorporateActionColumns.Date, date.Build())
            .Set(CorporateActionColumns.Type, type.Build()).Set(CorporateActionColumns.Value, value.Build())
            .Set(CorporateActionColumns.Numerator, numerator.Build()).Set(CorporateActionColumns.Denominator, denominator.Build())
            .Set(CorporateActionColumns.Source, source.Build()).Set(CorporateActionColumns.IngestedAt, ingested.Build())
            .Build(n);
    }

    public static IEnumerable<CorporateAction> ToActions(RecordBatch batch)
    {
        var symbol = CorporateActionColumns.Symbol.Of(batch);
        var date = CorporateActionColumns.Date.Of(batch);
        var type = CorporateActionColumns.Type.Of(batch);
        var value = CorporateActionColumns.Value.Of(batch);
        var numerator = CorporateActionColumns.Numerator.Of(batch);
        var denominator = CorporateActionColumns.Denominator.Of(batch);
        var source = CorporateActionColumns.Source.Of(batch);
        var ingested = CorporateActionColumns.IngestedAt.Of(batch);
        for (var i = 0; i < batch.Length; i++)
        {
            yield return new CorporateAction(symbol.GetString(i), date.GetDateOnly(i)!.Value, type.GetString(i), value.GetValue(i),
                numerator.GetValue(i), denominator.GetValue(i), source.GetString(i), ingested.GetTimestamp(i)!.Value);
        }
    }
}
