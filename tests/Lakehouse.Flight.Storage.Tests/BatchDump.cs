using System.Globalization;
using Apache.Arrow;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>Read results as text, for equality checks between read paths.</summary>
internal static class BatchDump
{
    /// <summary>Every row of every batch as text, in order: equal dumps mean equal results.</summary>
    public static List<string> Rows(IEnumerable<RecordBatch> batches)
    {
        var rows = new List<string>();
        foreach (var b in batches)
        {
            for (var i = 0; i < b.Length; i++)
            {
                var cells = new string[b.ColumnCount];
                for (var c = 0; c < b.ColumnCount; c++)
                {
                    cells[c] = b.Column(c) switch
                    {
                        StringArray s => s.GetString(i),
                        Date32Array d => d.GetValue(i)?.ToString(CultureInfo.InvariantCulture) ?? "null",
                        DoubleArray d => d.GetValue(i)?.ToString("R", CultureInfo.InvariantCulture) ?? "null",
                        Int64Array l => l.GetValue(i)?.ToString(CultureInfo.InvariantCulture) ?? "null",
                        Int32Array n => n.GetValue(i)?.ToString(CultureInfo.InvariantCulture) ?? "null",
                        TimestampArray t => t.GetValue(i)?.ToString(CultureInfo.InvariantCulture) ?? "null",
                        var a => throw new NotSupportedException(a.GetType().Name),
                    };
                }
                rows.Add(string.Join('|', cells));
            }
        }
        return rows;
    }
}
