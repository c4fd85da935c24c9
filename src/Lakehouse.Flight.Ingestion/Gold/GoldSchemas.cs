using Apache.Arrow;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Ingestion.Gold;

/// <summary>Arrow schemas of the gold tables; they are declared once, in <see cref="GoldTables"/> (Core), beside the catalogue.</summary>
public static class GoldSchemas
{
    /// <summary><see cref="GoldTables.PricesMonthlySchema"/>.</summary>
    public static Schema PricesMonthly => GoldTables.PricesMonthlySchema;

    /// <summary><see cref="GoldTables.DailyMetricsSchema"/>. See <see cref="GoldCalculator.DailyMetrics(RecordBatch)"/>.</summary>
    public static Schema DailyMetrics => GoldTables.DailyMetricsSchema;
}
