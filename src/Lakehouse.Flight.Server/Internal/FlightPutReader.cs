using System.Buffers;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Ipc;
using Apache.Arrow.Memory;
using Grpc.Core;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// The DoPut upload, read below the stock Flight reader. Apache.Arrow.Flight 23.0.0's
/// <c>FlightServerRecordBatchStreamReader</c> builds its IPC reader with no compression codec factory and
/// cannot take dictionary batches, so it would refuse pandas' categorical columns and LZ4/ZSTD bodies. Here the
/// request body's FlightData messages are read straight from the (guarded) request pipe as an IPC stream
/// (<see cref="FlightDataIpcStream"/>) and decoded by Apache.Arrow's own <see cref="ArrowStreamReader"/>
/// with Apache.Arrow.Compression's codecs, which handles dictionary batches (replacements and deltas).
/// Same one copy of the body as the stock path (which copies it into a ByteString); decisions D22.
/// </summary>
internal sealed class FlightPutReader : IDisposable
{
    private static readonly Apache.Arrow.Compression.CompressionCodecFactory Codecs = new();

    private readonly FlightDataIpcStream _stream;
    private readonly ArrowStreamReader _reader;

    public FlightPutReader(System.IO.Pipelines.PipeReader body, string? grpcEncoding, long maxMessageBytes)
    {
        var allocator = new UploadAllocator(maxMessageBytes * UploadAllocator.InflationFactor);
        _stream = new FlightDataIpcStream(body, grpcEncoding, maxMessageBytes) { MessageStarted = allocator.NextMessage };
        _reader = new ArrowStreamReader(_stream, allocator, Codecs, leaveOpen: true);
    }

    /// <summary>The reader of a DoPut call's request body; the framework's own request stream must then stay unread.</summary>
    public static FlightPutReader Open(ServerCallContext context, LakehouseServerOptions options)
    {
        var request = context.GetHttpContext().Request;
        var encoding = request.Headers["grpc-encoding"].ToString();
        return new FlightPutReader(request.BodyReader, encoding.Length == 0 || encoding == "identity" ? null : encoding, options.MaxReceiveMessageBytes);
    }

    /// <summary>The last batch <see cref="MoveNext"/> read.</summary>
    public RecordBatch Current { get; private set; } = null!;

    /// <summary>The descriptor of the first message; a stream that starts without one is refused.</summary>
    public async ValueTask<FlightDescriptor> ReadDescriptorAsync(CancellationToken cancellationToken)
    {
        await _stream.StartAsync(cancellationToken).ConfigureAwait(false);
        return _stream.Descriptor ?? throw LakehouseException.Invalid(
            "the first DoPut message carries no flight descriptor: send the upload command as a command descriptor, " +
            "e.g. {\"table\":\"prices_daily\",\"source\":\"vendor_x\",\"promote\":true}");
    }

    /// <summary>The upload's schema (its first IPC message).</summary>
    public async Task<Schema> ReadSchemaAsync(CancellationToken cancellationToken) =>
        await _reader.GetSchema(cancellationToken).ConfigureAwait(false);

    /// <summary>Reads the next record batch (dictionary batches on the way are taken in); false at the end.</summary>
    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        var batch = await _reader.ReadNextRecordBatchAsync(cancellationToken).ConfigureAwait(false);
        if (batch is null)
        {
            return false;
        }
        Current = batch;
        return true;
    }

    /// <summary>
    /// Reads what the client is still sending (briefly, without decoding or keeping it) before a refusal: a
    /// client that is mid-write when the call ends sees a cancelled write instead of our InvalidArgument.
    /// </summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await _stream.SkipAsync(10_000, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Undecodable or aborted input: the refusal that follows says what was wrong.
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        _stream.Dispose();
    }

    /// <summary>
    /// Managed memory for the decoded buffers (the GC frees them with the batches: no pool to return them to),
    /// with a cap per message: a compressed buffer states its own decompressed size,
    /// so without one a few bytes on the wire could ask for 2 GiB.
    /// </summary>
    private sealed class UploadAllocator(long maxPerMessage) : MemoryAllocator(alignment: 8)
    {
        /// <summary>How much larger than <c>Lakehouse:MaxReceiveMessageBytes</c> one message may decode to.</summary>
        public const int InflationFactor = 8;

        private long _bytes;

        public void NextMessage() => _bytes = 0;

        protected override IMemoryOwner<byte> AllocateInternal(int length, out int bytesAllocated)
        {
            _bytes += length;
            if (_bytes > maxPerMessage)
            {
                throw LakehouseException.Invalid(
                    $"a DoPut message decompresses to more than {maxPerMessage >> 20:N0} MiB ({InflationFactor}x Lakehouse:MaxReceiveMessageBytes): send smaller record batches");
            }
            bytesAllocated = length;
            return new Owner(GC.AllocateUninitializedArray<byte>(length));
        }

        private sealed class Owner(byte[] array) : IMemoryOwner<byte>
        {
            public Memory<byte> Memory => array;

            public void Dispose()
            {
            }
        }
    }
}
