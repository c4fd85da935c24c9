using System.Globalization;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage;

/// <summary>Every path of the lake, built only from validated symbols and source names.</summary>
public sealed class LakePaths
{
    public const string DataFileName = "data.parquet";

    public LakePaths(string dataDir)
    {
        if (string.IsNullOrWhiteSpace(dataDir))
        {
            throw LakehouseException.Invalid("data dir is empty: pass --data-dir or set LAKEHOUSE_DATA_DIR");
        }
        DisplayRoot = dataDir.TrimEnd('/', '\\');
        Root = Path.GetFullPath(dataDir);
    }

    /// <summary>Absolute path of the data dir.</summary>
    public string Root { get; }

    /// <summary>The data dir as the user gave it; used in report locations (<c>data/silver/prices_daily</c>).</summary>
    public string DisplayRoot { get; }

    public string MetadataDir => Path.Combine(Root, "_metadata");
    public string ManifestDir => Path.Combine(MetadataDir, "manifests");
    public string LockDir => Path.Combine(MetadataDir, "locks");
    public string JournalDir => Path.Combine(MetadataDir, "journal");

    /// <summary>Commits a recovery pass rolled forward whose follow-up (gold) is not done yet (<see cref="PriceStore.RecoveredCommits"/>).</summary>
    public string RecoveredDir => Path.Combine(MetadataDir, "recovered");

    /// <summary>The write-ahead log of uploads acknowledged before they are applied.</summary>
    public string WalDir => Path.Combine(MetadataDir, "wal");
    /// <summary>Read-optimised compacted copies of the month files (a cache; Hive readers never look under <c>_metadata/</c>).</summary>
    public string CompactDir => Path.Combine(MetadataDir, "compact");

    /// <summary><c>_metadata/compact/&lt;layer&gt;_&lt;table&gt;</c> (per-source tables are never compacted).</summary>
    public string CompactTableDir(TableId t) => Path.Combine(CompactDir, $"{Layers.Name(t.Definition.Layer)}_{t.Definition.Name}");

    /// <summary><c>_metadata/compact/&lt;layer&gt;_&lt;table&gt;/symbol=S/data.arrows</c>: all rows of one symbol.</summary>
    public string CompactFile(TableId t, string symbol) =>
        Path.Combine(CompactTableDir(t), "symbol=" + HivePath.Escape(Symbols.Normalize(symbol)), "data" + Internal.CompactFiles.Extension);

    public string LayerTableDir(TableDefinition table) => Path.Combine(Root, Layers.Name(table.Layer), table.Name);

    public string TableDir(TableId t) =>
        t.Source is null ? LayerTableDir(t.Definition) : Path.Combine(LayerTableDir(t.Definition), "source=" + HivePath.Escape(t.Source));

    public string SymbolDir(TableId t, string symbol) => Path.Combine(TableDir(t), "symbol=" + HivePath.Escape(Symbols.Normalize(symbol)));

    /// <summary><c>symbol=S[/year=Y[/month=M]]/data.parquet</c> as the table is partitioned.</summary>
    public string PartitionFile(TableId t, PartitionKey key)
    {
        var dir = SymbolDir(t, key.Symbol);
        if (t.Definition.Partitioning != Partitioning.Symbol)
        {
            dir = Path.Combine(dir, "year=" + key.Year.ToString(CultureInfo.InvariantCulture));
        }
        if (t.Definition.Partitioning == Partitioning.SymbolYearMonth)
        {
            dir = Path.Combine(dir, "month=" + key.Month.ToString(CultureInfo.InvariantCulture));
        }
        return Path.Combine(dir, DataFileName);
    }

    public string ManifestFile(TableDefinition table) => ManifestFile(table.Layer, table.Name);

    public string ManifestFile(Layer layer, string table) => Path.Combine(ManifestDir, $"{Layers.Name(layer)}_{table}.jsonl");

    public string GoldReportsDir => Path.Combine(Root, "gold", "reports");

    /// <summary>The location string written into reports.</summary>
    public string Location(TableId t)
    {
        var rel = Path.GetRelativePath(Root, TableDir(t)).Replace('\\', '/');
        return DisplayRoot.Replace('\\', '/') + "/" + rel;
    }
}
