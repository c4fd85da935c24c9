using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using Lakehouse.Flight.Server.Internal;

namespace Lakehouse.Flight.Server.Tests;

/// <summary>FlightData framing written straight into a response pipe (decisions D14, D33).</summary>
public sealed class IpcPipeStreamsTests
{
    [Fact]
    public async Task FlightDataPipeStream_PipeOf4KiBBlocks_WritesInLargePieces_FramesDecodeToTheBatches()
    {
        // A pipe over a pool of 4 KiB blocks, as Kestrel's response pipes are.
        using var pool = new BlockPool(4096);
        var pipe = new Pipe(new PipeOptions(pool: pool, minimumSegmentSize: 4096, pauseWriterThreshold: 0));
        var batches = new[] { Batch(0, 100_000), Batch(100_000, 3), Batch(100_003, 50_000) };
        var stream = new FlightDataPipeStream(pipe.Writer);
        using (var writer = new ArrowStreamWriter(stream, batches[0].Schema, leaveOpen: true))
        {
            writer.WriteStart();
            foreach (var batch in batches)
            {
                writer.WriteRecordBatch(batch);
            }
        }
        Assert.True(await stream.SendAsync(CancellationToken.None));
        await pipe.Writer.CompleteAsync();
        var read = await pipe.Reader.ReadAsync();
        var segments = 0;
        foreach (var _ in read.Buffer)
        {
            segments++;
        }
        var bytes = read.Buffer.ToArray();
        pipe.Reader.AdvanceTo(read.Buffer.End);

        var decoded = await DecodeAsync(bytes);

        // 2.4 MB of bodies: ~37 pieces of 64 KiB (plus a few for headers), not ~590 blocks of 4 KiB.
        Assert.InRange(segments, 1, bytes.Length / PipeBodyStream.WriteChunkBytes + 8);
        Assert.Equal(batches.Select(b => b.Length), decoded.Select(b => b.Length));
        Assert.Equal(batches.SelectMany(Ids), decoded.SelectMany(Ids));
        Assert.Equal(batches.SelectMany(Prices), decoded.SelectMany(Prices));
    }

    private static RecordBatch Batch(long first, int rows)
    {
        var ids = new Int64Array.Builder();
        var prices = new DoubleArray.Builder();
        for (var i = 0; i < rows; i++)
        {
            ids.Append(first + i);
            prices.Append((first + i) * 0.25);
        }
        var schema = new Schema.Builder()
            .Field(f => f.Name("id").DataType(Int64Type.Default).Nullable(false))
            .Field(f => f.Name("price").DataType(DoubleType.Default).Nullable(false))
            .Build();
        return new RecordBatch(schema, [ids.Build(), prices.Build()], rows);
    }

    private static long[] Ids(RecordBatch batch) => ((Int64Array)batch.Column(0)).Values.ToArray();

    private static double[] Prices(RecordBatch batch) => ((DoubleArray)batch.Column(1)).Values.ToArray();

    /// <summary>
    /// Reads gRPC-framed FlightData (length prefix; data_header, field 2; data_body, field 1000) back into an IPC
    /// stream (continuation, metadata length, metadata, body) and the batches in it.
    /// </summary>
    private static async Task<List<RecordBatch>> DecodeAsync(byte[] framed)
    {
        var ipc = new MemoryStream();
        var at = 0;
        while (at < framed.Length)
        {
            Assert.Equal(0, framed[at]);
            var length = BinaryPrimitives.ReadInt32BigEndian(framed.AsSpan(at + 1));
            var message = framed.AsSpan(at + 5, length);
            at += 5 + length;
            ReadOnlySpan<byte> header = default, body = default;
            var p = 0;
            while (p < message.Length)
            {
                var tag = ReadVarint(message, ref p);
                var size = (int)ReadVarint(message, ref p);
                if (tag == (2 << 3 | 2))
                {
                    header = message.Slice(p, size);
                }
                else if (tag == (1000 << 3 | 2))
                {
                    body = message.Slice(p, size);
                }
                p += size;
            }
            var prefix = new byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(prefix, 0xFFFFFFFF);
            BinaryPrimitives.WriteInt32LittleEndian(prefix.AsSpan(4), header.Length);
            ipc.Write(prefix);
            ipc.Write(header);
            ipc.Write(body);
        }
        ipc.Write([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]);
        ipc.Position = 0;
        using var reader = new ArrowStreamReader(ipc);
        var batches = new List<RecordBatch>();
        while (await reader.ReadNextRecordBatchAsync() is { } batch)
        {
            batches.Add(batch);
        }
        return batches;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> from, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = from[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }

    /// <summary>A memory pool of fixed-size blocks.</summary>
    private sealed class BlockPool(int blockSize) : MemoryPool<byte>
    {
        public override int MaxBufferSize => blockSize;

        public override IMemoryOwner<byte> Rent(int minBufferSize = -1) => new Block(new byte[blockSize]);

        protected override void Dispose(bool disposing)
        {
        }

        private sealed class Block(byte[] array) : IMemoryOwner<byte>
        {
            public Memory<byte> Memory => array;

            public void Dispose()
            {
            }
        }
    }
}
