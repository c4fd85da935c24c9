using System.Diagnostics;
using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>Where a DoGet writes: the stock Flight writer or FastDoGet's framing. False from a write means the client is gone.</summary>
internal interface IDoGetSink
{
    ValueTask<bool> StartAsync(Schema schema, CancellationToken cancellationToken);

    ValueTask<bool> WriteAsync(RecordBatch batch, CancellationToken cancellationToken);
}

/// <summary>
/// The one DoGet loop of both paths: resolve the query, send the schema first (so an empty result is
/// a schema-only stream), then the store's batches cut to at most one message each, checking the
/// token before each (Flight writers neither split batches nor watch cancellation), with metrics and a log line.
/// </summary>
internal sealed class DoGetStreamer(LakeStore store, LakehouseServerOptions options, FlightMetrics metrics, ILogger<DoGetStreamer> logger)
{
    public async Task StreamAsync(TableQuery query, IDoGetSink sink, CancellationToken cancellationToken)
    {
        var schema = store.SchemaOf(query);
        var maxRows = RowsPerMessage(schema, options.MaxSendMessageBytes);
        var sw = Stopwatch.StartNew();
        long rows = 0, messages = 0;
        metrics.StreamStarted();
        try
        {
            if (!await sink.StartAsync(schema, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
            foreach (var batch in store.Read(query, cancellationToken))
            {
                metrics.BatchRead();
                for (var offset = 0; offset < batch.Length; offset += maxRows)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var length = Math.Min(maxRows, batch.Length - offset);
                    var slice = offset == 0 && length == batch.Length ? batch : batch.Slice(offset, length);
                    if (!await sink.WriteAsync(slice, cancellationToken).ConfigureAwait(false))
                    {
                        return;
                    }
                    metrics.MessageSent();
                    rows += slice.Length;
                    messages++;
                }
            }
        }
        finally
        {
            metrics.StreamEnded();
        }
        ServerLog.Served(logger, query.Symbols.Count, rows, messages, sw.ElapsedMilliseconds);
    }

    /// <summary>Rows per message so a message stays under <paramref name="maxBytes"/> (strings counted at their longest usual size).</summary>
    internal static int RowsPerMessage(Schema schema, int maxBytes)
    {
        var perRow = 0;
        foreach (var f in schema.FieldsList)
        {
            perRow += f.DataType switch
            {
                FixedWidthType fw => Math.Max(1, fw.BitWidth / 8),
                _ => 4 + 64,
            };
            if (f.IsNullable)
            {
                perRow += 1;
            }
        }
        return Math.Max(1, maxBytes / Math.Max(1, perRow));
    }
}
