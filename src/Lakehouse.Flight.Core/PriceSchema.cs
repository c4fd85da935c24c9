using Apache.Arrow;
using Apache.Arrow.Types;

namespace Lakehouse.Flight.Core;

/// <summary>Arrow schemas of the tables, as fixed by DESIGN.md.</summary>
public static class PriceSchema
{
    public const string Table = "prices_daily";

    public static readonly TimestampType IngestedAtType = new(TimeUnit.Microsecond, "UTC");

    /// <summary>Silver <c>prices_daily</c>, also DoGet's default output.</summary>
    public static readonly Schema Silver = new Schema.Builder()
        .Field(f => f.Name("symbol").DataType(StringType.Default).Nullable(false))
        .Field(f => f.Name("date").DataType(Date32Type.Default).Nullable(false))
        .Field(f => f.Name("open").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("high").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("low").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("close").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("adj_close").DataType(DoubleType.Default).Nullable(true))
        .Field(f => f.Name("volume").DataType(Int64Type.Default).Nullable(false))
        .Field(f => f.Name("source").DataType(StringType.Default).Nullable(false))
        .Field(f => f.Name("ingested_at").DataType(IngestedAtType).Nullable(false))
        .Build();

    /// <summary>Bronze <c>prices_daily</c>: the silver columns plus the run that landed each raw row.</summary>
    public static readonly Schema Bronze = new Schema.Builder()
        .Field(f => f.Name("symbol").DataType(StringType.Default).Nullable(false))
        .Field(f => f.Name("date").DataType(Date32Type.Default).Nullable(false))
        .Field(f => f.Name("open").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("high").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("low").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("close").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("adj_close").DataType(DoubleType.Default).Nullable(true))
        .Field(f => f.Name("volume").DataType(Int64Type.Default).Nullable(false))
        .Field(f => f.Name("source").DataType(StringType.Default).Nullable(false))
        .Field(f => f.Name("ingested_at").DataType(IngestedAtType).Nullable(false))
        .Field(f => f.Name("run_id").DataType(StringType.Default).Nullable(false))
        .Build();

    public static Schema For(Layer layer) => layer == Layer.Bronze ? Bronze : Silver;

    /// <summary>The schema restricted to <paramref name="columns"/>, in the order given.</summary>
    public static Schema Project(Schema schema, IReadOnlyList<string> columns)
    {
        if (columns.Count == 0)
        {
            return schema;
        }
        var builder = new Schema.Builder();
        foreach (var c in columns)
        {
            builder.Field(schema.GetFieldByName(c));
        }
        return builder.Build();
    }
}
