using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using ParquetSharp;
using ParquetSharp.Arrow;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// The lake's data files through ParquetSharp (Arrow C++): rows sorted by key (symbol, then date), zstd, row groups of
/// <see cref="RowGroupRows"/> rows with statistics and page indexes, so DuckDB, pyarrow and Spark prune by symbol and
/// date; doubles and int64 plain (a dictionary of prices costs time and bytes), strings, dates and timestamps
/// dictionary-encoded. The file's symbol directory (each symbol's row range and dates) is in its footer's key-value
/// metadata. Decoded batches are copied to the managed heap and the native ones released at once
/// (docs/decisions.md D35).
/// </summary>
internal static class SegmentFiles
{
    /// <summary>Rows per row group: a cold point query decodes one, so this bounds its cost (docs/decisions.md D35).</summary>
    public const int RowGroupRows = 16 * 1024;

    /// <summary>zstd level 1: pyarrow's default; higher levels gained little size for slower writes (docs/decisions.md D35).</summary>
    private const int CompressionLevel = 1;

    /// <summary>
    /// Writes <paramref name="rows"/> (the table's schema, sorted by key) to <paramref name="path"/> and returns its
    /// symbol directory. The file is not flushed to disk here (the commit syncs its files together).
    /// </summary>
    public static SymbolDirectory Write(string path, TableDefinition table, RecordBatch rows)
    {
        var directory = DirectoryOf(table, rows);
        var metadata = new Dictionary<string, string> { ["lakehouse.table"] = table.Id };
        if (directory.EncodePacked() is { } packed)
        {
            metadata[SymbolDirectory.PackedKey] = packed;
        }
        else
        {
            metadata[SymbolDirectory.MetadataKey] = directory.Encode();
        }
        if (directory.EncodeSummaryColumns() is { } summary)
        {
            metadata[SymbolDirectory.SummaryKey] = summary;
        }
        var schema = new Schema(table.Schema.FieldsList, metadata);
        var batch = new RecordBatch(schema, Enumerable.Range(0, rows.ColumnCount).Select(rows.Column), rows.Length);
        using var writerProperties = WriterProperties(table);
        using var arrowProperties = new ArrowWriterPropertiesBuilder().StoreSchema().Build();
        using (var writer = new FileWriter(path, schema, writerProperties, arrowProperties))
        {
            writer.WriteRecordBatch(batch, RowGroupRows);
            writer.Close();
        }
        return directory;
    }

    private static WriterProperties WriterProperties(TableDefinition table)
    {
        using var builder = new WriterPropertiesBuilder();
        builder.Compression(Compression.Zstd).CompressionLevel(CompressionLevel).MaxRowGroupLength(RowGroupRows)
            .EnableStatistics().EnableWritePageIndex().DisableDictionary();
        foreach (var field in table.Schema.FieldsList)
        {
            if (field.DataType is StringType or Date32Type or TimestampType or Int32Type)
            {
                builder.EnableDictionary(field.Name);
            }
        }
        var key = table.Key.Select(k => new WriterProperties.SortingColumn(table.Schema.GetFieldIndex(k, StringComparer.Ordinal), false, false)).ToArray();
        builder.SortingColumns(key);
        return builder.Build();
    }

    /// <summary>The symbol runs of sorted rows, and the row-group boundaries the writer will use.</summary>
    public static SymbolDirectory DirectoryOf(TableDefinition table, RecordBatch rows)
    {
        var symbols = (StringArray)rows.Column(TableDefinition.SymbolColumn);
        var days = ((Date32Array)rows.Column(table.DateColumn)).Values;
        var names = new List<string>();
        var starts = new List<int>();
        var counts = new List<int>();
        var min = new List<int>();
        var max = new List<int>();
        foreach (var (start, count) in RecordBatches.Runs(symbols))
        {
            names.Add(SymbolNames.Get(symbols.GetString(start)));
            starts.Add(start);
            counts.Add(count);
            var lo = int.MaxValue;
            var hi = int.MinValue;
            for (var i = start; i < start + count; i++)
            {
                lo = Math.Min(lo, days[i]);
                hi = Math.Max(hi, days[i]);
            }
            min.Add(lo);
            max.Add(hi);
        }
        var summaries = table.SummaryColumns.Select(c => Summarize(c, (DoubleArray)rows.Column(table.Schema.GetFieldIndex(c, StringComparer.Ordinal)), starts, counts)).ToArray();
        var groups = new List<int>();
        for (var g = 0; g < rows.Length; g += RowGroupRows)
        {
            groups.Add(g);
        }
        groups.Add(rows.Length);
        return new SymbolDirectory([.. names], [.. starts], [.. counts], [.. min], [.. max], [.. groups], summaries);
    }

    /// <summary>A column's highest non-null value (-infinity when none) and null count per symbol run.</summary>
    private static ColumnSummary Summarize(string column, DoubleArray values, List<int> starts, List<int> counts)
    {
        var max = new double[starts.Count];
        var nulls = new int[starts.Count];
        var span = values.Values;
        for (var r = 0; r < starts.Count; r++)
        {
            var peak = double.NegativeInfinity;
            var missing = 0;
            var run = span.Slice(starts[r], counts[r]);
            if (values.NullCount == 0)
            {
                foreach (var v in run)
                {
                    peak = Math.Max(peak, v);
                }
            }
            else
            {
                for (var i = 0; i < run.Length; i++)
                {
                    if (values.IsValid(starts[r] + i))
                    {
                        peak = Math.Max(peak, run[i]);
                    }
                    else
                    {
                        missing++;
                    }
                }
            }
            max[r] = peak;
            nulls[r] = missing;
        }
        return new ColumnSummary(column, max, nulls);
    }

    /// <summary>The symbol directory from a file's footer (one footer read).</summary>
    public static SymbolDirectory ReadDirectory(string path)
    {
        // The Parquet reader alone (the footer), not the Arrow reader over it (which also converts the schema), and every
        // handle disposed here: left to the finalizer, the native frees took a tenth of an index load's CPU.
        using var reader = new ParquetFileReader(path);
        using var meta = reader.FileMetaData;
        var groups = new int[meta.NumRowGroups + 1];
        for (var g = 0; g < meta.NumRowGroups; g++)
        {
            using var rowGroup = reader.RowGroup(g);
            groups[g + 1] = groups[g] + (int)rowGroup.MetaData.NumRows;
        }
        var kv = meta.KeyValueMetadata;
        var summary = kv.GetValueOrDefault(SymbolDirectory.SummaryKey);
        if (kv.TryGetValue(SymbolDirectory.PackedKey, out var packed))
        {
            return SymbolDirectory.DecodePacked(packed, groups, summary);
        }
        if (!kv.TryGetValue(SymbolDirectory.MetadataKey, out var text))
        {
            throw new InvalidDataException($"data file {Path.GetFileName(path)} has no symbol directory: it was not written by the lake");
        }
        return SymbolDirectory.Decode(text, groups, summary);
    }

    /// <summary>
    /// Rows [start, start + count) of a file, in the table's schema (or only the columns of <paramref name="projection"/>,
    /// a subset of it, decoding nothing else; never through <paramref name="cache"/>), on the managed heap.
    /// </summary>
    public static RecordBatch ReadRows(string path, TableDefinition table, SymbolDirectory directory, int start, int count,
        RowGroupCache? cache = null, string? cacheKey = null, Schema? projection = null)
    {
        if (count <= 0)
        {
            return RecordBatches.Empty(projection ?? table.Schema);
        }
        if (projection is not null && cache is not null)
        {
            throw new ArgumentException("row groups are cached whole: read a projection without the row-group cache", nameof(cache));
        }
        FileReader? reader = null;
        try
        {
            return FromGroups(directory, start, count, g =>
            {
                var group = cache?.Get(cacheKey!, g);
                if (group is null)
                {
                    reader ??= new FileReader(path);
                    group = DecodeGroups(reader, table, [g], projection);
                    cache?.Put(cacheKey!, g, group);
                }
                return group;
            });
        }
        finally
        {
            reader?.Dispose();
        }
    }

    /// <summary>
    /// Row groups of one file, each decoded whole (in the table's schema, or only <paramref name="projection"/>'s columns),
    /// with one reader: opening a file parses its footer, whose symbol directory is ~20 bytes a symbol (a day of 20,000
    /// symbols: ~400 KB), so a reader per group paid that parse again for every group.
    /// </summary>
    /// <remarks>
    /// With <paramref name="native"/>, a group decoded as one batch is handed over in Arrow C++'s memory, not copied: the
    /// batches it holds must be disposed (that frees the memory of the group) once nothing reads the group any more.
    /// </remarks>
    public static RecordBatch[] ReadGroups(string path, TableDefinition table, IReadOnlyList<int> groups, Schema? projection = null,
        List<RecordBatch>? native = null)
    {
        using var reader = new FileReader(path);
        var decoded = new RecordBatch[groups.Count];
        for (var i = 0; i < decoded.Length; i++)
        {
            decoded[i] = DecodeGroups(reader, table, [groups[i]], projection, native);
        }
        return decoded;
    }

    /// <summary>
    /// Rows [start, start + count) of a file put together from its decoded row groups (<paramref name="group"/> gives
    /// group g whole, from a cache or a decode): a slice of one group, or the slices of several copied into one batch.
    /// </summary>
    public static RecordBatch FromGroups(SymbolDirectory directory, int start, int count, Func<int, RecordBatch> group)
    {
        var parts = GroupSlices(directory, start, count, group);
        return parts.Count == 1 ? parts[0] : ArrowConcat.ConcatenateManaged(parts);
    }

    /// <summary>Rows [start, start + count) of a file as slices of its decoded row groups (from <paramref name="group"/>), in order, not copied.</summary>
    public static List<RecordBatch> GroupSlices(SymbolDirectory directory, int start, int count, Func<int, RecordBatch> group)
    {
        var (first, end) = directory.RowGroupsOf(start, count);
        var parts = new List<RecordBatch>(end - first);
        for (var g = first; g < end; g++)
        {
            var rows = group(g);
            var groupStart = directory.RowGroupStarts[g];
            var from = Math.Max(start, groupStart) - groupStart;
            var to = Math.Min(start + count, directory.RowGroupStarts[g + 1]) - groupStart;
            parts.Add(from == 0 && to == rows.Length ? rows : rows.Slice(from, to - from));
        }
        return parts;
    }

    /// <summary>
    /// Every row of a file, in the table's schema, on the managed heap; the columns are decoded in parallel (Arrow's
    /// CPU pool): a copy-on-write decodes a whole file on its commit's path (a 131K-row file in ~20 ms instead of ~26 ms
    /// on two cores; docs/decisions.md D46). Safe beside other decodes: our callers are .NET threads, never the pool's.
    /// </summary>
    public static RecordBatch ReadAll(string path, TableDefinition table)
    {
        using var readerProperties = ReaderProperties.GetDefaultReaderProperties();
        using var arrowProperties = ArrowReaderProperties.GetDefault();
        arrowProperties.UseThreads = true;
        using var reader = new FileReader(path, readerProperties, arrowProperties);
        return DecodeGroups(reader, table, [.. Enumerable.Range(0, reader.NumRowGroups)]);
    }

    private static RecordBatch DecodeGroups(FileReader reader, TableDefinition table, int[] groups, Schema? projection = null,
        List<RecordBatch>? keepNative = null)
    {
        var schema = projection ?? table.Schema;
        if (groups.Length == 0)
        {
            return RecordBatches.Empty(schema);
        }
        var native = new List<RecordBatch>();
        try
        {
            // A projection decodes only its columns that the file has (by name: a file may predate a nullable column).
            var columns = projection is null ? null : ColumnsOf(reader.Schema, projection);
            using (var batches = columns is null ? reader.GetRecordBatchReader(groups) : reader.GetRecordBatchReader(groups, columns))
            {
                while (batches.ReadNextRecordBatchAsync().AsTask().GetAwaiter().GetResult() is { } b)
                {
                    native.Add(b);
                }
            }
            var shaped = native.Select(b => Shape(table, schema, b)).ToList();
            if (keepNative is not null && shaped.Count == 1)
            {
                // Left in native memory for a caller that reads it at once and then disposes it (no copy, no garbage).
                lock (keepNative)
                {
                    keepNative.Add(native[0]);
                }
                native.Clear();
                return shaped[0];
            }
            return shaped.Count == 0 ? RecordBatches.Empty(schema) : ManagedCopy.Concatenate(schema, shaped);
        }
        finally
        {
            foreach (var b in native)
            {
                b.Dispose();
            }
        }
    }

    /// <summary>Positions in a file's schema of the columns of <paramref name="projection"/> it has, in the file's order.</summary>
    private static int[] ColumnsOf(Schema file, Schema projection) =>
        [.. projection.FieldsList.Select(f => file.GetFieldIndex(f.Name, StringComparer.Ordinal)).Where(i => i >= 0).Order()];

    /// <summary>A decoded batch in <paramref name="schema"/> (the table's, or a projection of it): columns by name, a nullable column the file predates as nulls.</summary>
    private static RecordBatch Shape(TableDefinition table, Schema schema, RecordBatch batch)
    {
        var arrays = new IArrowArray[schema.FieldsList.Count];
        for (var c = 0; c < arrays.Length; c++)
        {
            var field = schema.FieldsList[c];
            var i = batch.Schema.GetFieldIndex(field.Name, StringComparer.Ordinal);
            if (i < 0)
            {
                arrays[c] = field.IsNullable
                    ? RecordBatches.Nulls(field.DataType, batch.Length)
                    : throw new InvalidDataException($"a data file of {table.Id} lacks its non-null column '{field.Name}'");
                continue;
            }
            var array = batch.Column(i);
            if (array.Data.DataType.TypeId != field.DataType.TypeId)
            {
                throw new InvalidDataException($"a data file of {table.Id} stores '{field.Name}' as {array.Data.DataType.Name}, not {field.DataType.Name}");
            }
            arrays[c] = array;
        }
        return new RecordBatch(schema, arrays, batch.Length);
    }
}
