using Apache.Arrow;
using ParquetSharp;
using ParquetSharp.Arrow;

namespace Lakehouse.Flight.Benchmarks.ParquetLibs;

/// <summary>
/// The partition file through ParquetSharp (Arrow C++ underneath, straight to Arrow batches), with the
/// settings the store used before it moved to Parquet.Net: kept here as the comparison.
/// </summary>
internal static class ParquetSharpCodec
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

    /// <summary>Reads a whole partition file as one batch (a month partition is one row group).</summary>
    public static RecordBatch Read(string path)
    {
        using var reader = new FileReader(path);
        using var stream = reader.GetRecordBatchReader();
        RecordBatch? result = null;
        while (stream.ReadNextRecordBatchAsync().AsTask().GetAwaiter().GetResult() is { } b)
        {
            result = result is null ? b : throw new InvalidDataException($"{path}: more than one batch");
        }
        return result ?? throw new InvalidDataException($"{path}: no rows");
    }
}
