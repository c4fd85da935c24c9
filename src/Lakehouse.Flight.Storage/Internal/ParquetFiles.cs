using Apache.Arrow;
using ParquetSharp;
using ParquetSharp.Arrow;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>Parquet files of the lake through ParquetSharp (Arrow C++ underneath, straight to Arrow batches).</summary>
internal static class ParquetFiles
{
    private static readonly WriterProperties WriterProps = new WriterPropertiesBuilder()
        .Compression(Compression.Snappy)
        .CreatedBy("lakehouse-flight")
        .Build();

    private static readonly ArrowWriterProperties ArrowWriterProps = new ArrowWriterPropertiesBuilder()
        .CoerceTimestamps(Apache.Arrow.Types.TimeUnit.Microsecond)
        .StoreSchema()
        .Build();

    public static void Write(Stream stream, RecordBatch batch)
    {
        using var writer = new FileWriter(stream, batch.Schema, WriterProps, ArrowWriterProps, leaveOpen: true);
        writer.WriteRecordBatch(batch);
        writer.Close();
    }

    /// <summary>Reads a whole partition file as one batch on <paramref name="schema"/>.</summary>
    public static RecordBatch Read(string path, Schema schema)
    {
        using var reader = new FileReader(path);
        using var stream = reader.GetRecordBatchReader();
        RecordBatch? result = null;
        List<RecordBatch>? many = null;
        while (stream.ReadNextRecordBatchAsync().AsTask().GetAwaiter().GetResult() is { } b)
        {
            if (result is null)
            {
                result = b;
            }
            else
            {
                many ??= [result];
                many.Add(b);
            }
        }
        if (many is not null)
        {
            result = ArrowConcat.Concatenate(many);
        }
        result ??= new RecordBatch(schema, schema.FieldsList.Select(f => ArrowConcat.Empty(f.DataType)), 0);
        return PriceBatches.Canonical(result, schema, path);
    }

    public static long RowCount(string path)
    {
        using var reader = new ParquetFileReader(path);
        return reader.FileMetaData.NumRows;
    }
}
