using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage.Tests;

/// <summary>What a table's folder holds, read file by file as another engine would (no store involved).</summary>
public static class LakeFolder
{
    /// <summary>The data files in the table's folder.</summary>
    public static string[] Files(string dataDir, TableDefinition table)
    {
        var dir = Path.Combine(dataDir, Layers.Name(table.Layer), table.Name);
        return Directory.Exists(dir) ? Directory.GetFiles(dir, "*.parquet", SearchOption.AllDirectories) : [];
    }

    /// <summary>Every row of every file in the folder (each file must open and hold rows).</summary>
    public static List<PriceBar> Bars(string dataDir, TableDefinition table)
    {
        var bars = new List<PriceBar>();
        foreach (var file in Files(dataDir, table))
        {
            var batch = SegmentFiles.ReadAll(file, table);
            Assert.True(batch.Length > 0, $"{file} is empty");
            bars.AddRange(PriceBarBatches.ToBars(batch));
        }
        return bars;
    }

    /// <summary>Every row of every file in the folder, as batches of the table's schema.</summary>
    public static IEnumerable<RecordBatch> Batches(string dataDir, TableDefinition table) =>
        Files(dataDir, table).Select(f => SegmentFiles.ReadAll(f, table));
}
