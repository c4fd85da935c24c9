using System.Diagnostics;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>The baselines with no network: our reader in-process, Arrow IPC serialisation, planning on a huge index.</summary>
internal static class InProcessRuns
{
    public readonly record struct Scan(long Rows, long Bytes, double Seconds)
    {
        public double RowsPerSecond => Rows / Seconds;
        public double MBPerSecond => Bytes / 1e6 / Seconds;
    }

    /// <summary>Reads every row of silver through LakeStore.Read; keeps the batches when asked (for the IPC baseline).</summary>
    public static Scan FullScan(LakeStore store, List<RecordBatch>? keep = null)
    {
        var start = Stopwatch.GetTimestamp();
        long rows = 0, bytes = 0;
        foreach (var batch in store.Read(TableQuery.Create()))
        {
            rows += batch.Length;
            bytes += Stats.ArrowBytes(batch);
            keep?.Add(batch);
        }
        return new Scan(rows, bytes, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    /// <summary>
    /// Serialises the batches as one Arrow IPC stream into memory (what DoGet must at least do): copied into one
    /// reused 1 MiB buffer, as a server copies into pooled transport memory, so the figure is the writer's and the
    /// copy's, not a growing MemoryStream's reallocations and fresh pages. Median of 3 passes (a first, unmeasured
    /// one compiles the code).
    /// </summary>
    public static (Scan Scan, long IpcBytes) IpcSerialise(List<RecordBatch> batches, Schema schema)
    {
        var passes = new List<(Scan Scan, long IpcBytes)>(3);
        for (var pass = 0; pass < 4; pass++)
        {
            using var sink = new ReusedBufferStream(1 << 20);
            long rows = 0, bytes = 0;
            var start = Stopwatch.GetTimestamp();
            using (var writer = new ArrowStreamWriter(sink, schema, leaveOpen: true))
            {
                foreach (var b in batches)
                {
                    writer.WriteRecordBatch(b);
                    rows += b.Length;
                    bytes += Stats.ArrowBytes(b);
                }
                writer.WriteEnd();
            }
            if (pass > 0)
            {
                passes.Add((new Scan(rows, bytes, Stopwatch.GetElapsedTime(start).TotalSeconds), sink.Written));
            }
        }
        return passes.OrderBy(p => p.Scan.Seconds).ElementAt(1);
    }

    /// <summary>A write-only stream that copies every write into one buffer, over and over, and counts the bytes.</summary>
    private sealed class ReusedBufferStream(int size) : Stream
    {
        private readonly byte[] _buffer = new byte[size];
        private int _at;

        public long Written { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Written;

        public override long Position { get => Written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Written += buffer.Length;
            while (!buffer.IsEmpty)
            {
                if (_at == _buffer.Length)
                {
                    _at = 0;
                }
                var n = Math.Min(buffer.Length, _buffer.Length - _at);
                buffer[..n].CopyTo(_buffer.AsSpan(_at));
                _at += n;
                buffer = buffer[n..];
            }
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    public static List<double> PointQueries(LakeStore store, IReadOnlyList<TableQuery> queries)
    {
        var samples = new List<double>(queries.Count);
        foreach (var q in queries)
        {
            var start = Stopwatch.GetTimestamp();
            long rows = 0;
            foreach (var b in store.Read(q))
            {
                rows += b.Length;
            }
            samples.Add(Stats.Ms(start));
            if (rows == 0)
            {
                throw new InvalidOperationException($"point query {q.Symbols[0]} {q.DateFrom} returned no rows");
            }
        }
        return samples;
    }

    /// <summary>LandAsync (bronze + promote) of new symbols, <paramref name="perCall"/> symbols per call; rows and seconds.</summary>
    public static (long Rows, double Seconds) Land(string dataDir, IReadOnlyList<string> symbols, DateOnly from, DateOnly to, int perCall)
    {
        var store = LakeStore.Open(new StoreOptions { DataDir = dataDir });
        var chunks = new List<IReadOnlyList<PriceBar>>();
        for (var i = 0; i < symbols.Count; i += perCall)
        {
            chunks.Add(Lakehouse.Flight.Ingestion.SyntheticBars.Generate(symbols.Skip(i).Take(perCall), from, to));
        }
        long rows = 0;
        var start = Stopwatch.GetTimestamp();
        foreach (var bars in chunks)
        {
            store.LandAsync(bars, "bench", promote: true).GetAwaiter().GetResult();
            rows += bars.Count;
        }
        return (rows, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    public static List<double> Plans(LakeStore store, IReadOnlyList<TableQuery> queries)
    {
        var samples = new List<double>(queries.Count);
        foreach (var q in queries)
        {
            var start = Stopwatch.GetTimestamp();
            var plan = store.Plan(q);
            samples.Add(Stats.Ms(start));
            if (plan.Count != 1)
            {
                throw new InvalidOperationException($"plan for {q.Symbols[0]} has {plan.Count} symbols");
            }
        }
        return samples;
    }
}
