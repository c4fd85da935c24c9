using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Server.Internal;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// DoPut at the gRPC level: IPC messages as <see cref="ArrowStreamWriter"/> writes them (compressed or with
/// dictionaries, which the stock .NET Flight client cannot send), or spliced from several streams, each
/// wrapped as one FlightData (data_header, data_body), the command descriptor on the first.
/// </summary>
internal static class RawPut
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    private static readonly Method<byte[], byte[]> DoPut =
        new(MethodType.DuplexStreaming, "arrow.flight.protocol.FlightService", "DoPut", Bytes, Bytes);

    /// <summary>One encapsulated IPC message: the Message flatbuffer and its body.</summary>
    public sealed record IpcMessage(byte[] Header, byte[] Body)
    {
        /// <summary>Message.headerType: 1 schema, 2 dictionary batch, 3 record batch.</summary>
        public int Kind => HeaderType(Header);
    }

    /// <summary>The messages <see cref="ArrowStreamWriter"/> writes for <paramref name="batches"/> (schema, dictionaries, batches).</summary>
    public static List<IpcMessage> Write(IReadOnlyList<RecordBatch> batches, CompressionCodecType? compression = null)
    {
        var options = compression is null
            ? new IpcOptions()
            : new IpcOptions { CompressionCodec = compression, CompressionCodecFactory = new Apache.Arrow.Compression.CompressionCodecFactory() };
        using var stream = new MemoryStream();
        using (var writer = new ArrowStreamWriter(stream, batches[0].Schema, leaveOpen: true, options))
        {
            foreach (var b in batches)
            {
                writer.WriteRecordBatch(b);
            }
            writer.WriteEnd();
        }
        return Split(stream.ToArray());
    }

    /// <summary>Uploads the messages; returns the PutResult's reports (throws the call's RpcException on a refusal).</summary>
    public static async Task<List<StorageReport>> SendAsync(Uri endpoint, string command, IEnumerable<IpcMessage> messages)
    {
        using var channel = GrpcChannel.ForAddress($"http://{endpoint.Host}:{endpoint.Port}");
        using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(DoPut, null, new CallOptions(cancellationToken: TestTimeouts.DefaultTimeoutToken()));
        var first = true;
        try
        {
            foreach (var m in messages)
            {
                await call.RequestStream.WriteAsync(FlightData(first ? command : null, m)).DefaultTimeout();
                first = false;
            }
            await call.RequestStream.CompleteAsync().DefaultTimeout();
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException)
        {
            // Refused before we finished writing: the response carries the status.
        }
        var reports = new List<StorageReport>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            // PutResult: app_metadata = field 1.
            var input = new CodedInputStream(call.ResponseStream.Current);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                if (tag == 10)
                {
                    reports.AddRange(JsonSerializer.Deserialize<List<StorageReport>>(input.ReadBytes().Span, StorageReport.JsonOptions)!);
                }
                else
                {
                    input.SkipLastField();
                }
            }
        }
        return reports;
    }

    /// <summary>
    /// A dictionary batch with isDelta set (the .NET writer never writes one): <paramref name="values"/> appended
    /// to dictionary <paramref name="id"/>. The Message flatbuffer is laid out by hand, every offset forward.
    /// </summary>
    public static IpcMessage DeltaDictionary(long id, params string[] values)
    {
        var offsets = new byte[Pad(4 * (values.Length + 1))];
        var data = new MemoryStream();
        for (var i = 0; i < values.Length; i++)
        {
            data.Write(Encoding.UTF8.GetBytes(values[i]));
            BinaryPrimitives.WriteInt32LittleEndian(offsets.AsSpan(4 * (i + 1)), (int)data.Length);
        }
        var dataLength = (int)data.Length;
        var body = new byte[offsets.Length + Pad(dataLength)];
        offsets.CopyTo(body, 0);
        data.ToArray().CopyTo(body, offsets.Length);

        var h = new byte[200];
        var s = h.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, 16);                   // root: Message table at 16
        WriteVtable(s[4..], 24, [4, 6, 8, 16]);                            // version, header_type, header, bodyLength
        BinaryPrimitives.WriteInt32LittleEndian(s[16..], 16 - 4);          // Message table
        BinaryPrimitives.WriteInt16LittleEndian(s[20..], 4);               // MetadataVersion V5
        h[22] = 2;                                                         // MessageHeader.DictionaryBatch
        BinaryPrimitives.WriteUInt32LittleEndian(s[24..], 56 - 24);        // header -> DictionaryBatch table at 56
        BinaryPrimitives.WriteInt64LittleEndian(s[32..], body.Length);     // bodyLength
        WriteVtable(s[40..], 24, [8, 4, 16]);                              // id, data, isDelta
        BinaryPrimitives.WriteInt32LittleEndian(s[56..], 56 - 40);         // DictionaryBatch table
        BinaryPrimitives.WriteUInt32LittleEndian(s[60..], 96 - 60);        // data -> RecordBatch table at 96
        BinaryPrimitives.WriteInt64LittleEndian(s[64..], id);
        h[72] = 1;                                                         // isDelta
        WriteVtable(s[80..], 24, [8, 4, 16]);                              // length, nodes, buffers
        BinaryPrimitives.WriteInt32LittleEndian(s[96..], 96 - 80);         // RecordBatch table
        BinaryPrimitives.WriteUInt32LittleEndian(s[100..], 124 - 100);     // nodes -> vector at 124
        BinaryPrimitives.WriteInt64LittleEndian(s[104..], values.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(s[112..], 148 - 112);     // buffers -> vector at 148
        BinaryPrimitives.WriteUInt32LittleEndian(s[124..], 1);             // one FieldNode (length, null_count)
        BinaryPrimitives.WriteInt64LittleEndian(s[128..], values.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(s[148..], 3);             // three Buffers (offset, length): validity, offsets, data
        BinaryPrimitives.WriteInt64LittleEndian(s[168..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(s[176..], 4 * (values.Length + 1));
        BinaryPrimitives.WriteInt64LittleEndian(s[184..], offsets.Length);
        BinaryPrimitives.WriteInt64LittleEndian(s[192..], dataLength);
        return new IpcMessage(h, body);
    }

    private static void WriteVtable(Span<byte> at, int tableSize, int[] fieldOffsets)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)(4 + (2 * fieldOffsets.Length)));
        BinaryPrimitives.WriteUInt16LittleEndian(at[2..], (ushort)tableSize);
        for (var i = 0; i < fieldOffsets.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(at[(4 + (2 * i))..], (ushort)fieldOffsets[i]);
        }
    }

    private static int Pad(int n) => (n + 7) & ~7;

    private static List<IpcMessage> Split(byte[] stream)
    {
        var messages = new List<IpcMessage>();
        var position = 0;
        while (position + 8 <= stream.Length)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(stream.AsSpan(position + 4));
            if (length == 0)
            {
                break;
            }
            var header = stream.AsSpan(position + 8, length).ToArray();
            var bodyLength = (int)IpcMessageHeader.BodyLength(header);
            messages.Add(new IpcMessage(header, stream.AsSpan(position + 8 + length, bodyLength).ToArray()));
            position += 8 + length + bodyLength;
        }
        return messages;
    }

    private static int HeaderType(byte[] message)
    {
        var table = (int)BinaryPrimitives.ReadUInt32LittleEndian(message);
        var vtable = table - BinaryPrimitives.ReadInt32LittleEndian(message.AsSpan(table));
        var offset = BinaryPrimitives.ReadUInt16LittleEndian(message.AsSpan(vtable + 4 + 2));
        return offset == 0 ? 0 : message[table + offset];
    }

    /// <summary>FlightData: flight_descriptor (1, a CMD descriptor: type 2, cmd 2), data_header (2), data_body (1000).</summary>
    private static byte[] FlightData(string? command, IpcMessage message)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        if (command is not null)
        {
            var cmd = ByteString.CopyFromUtf8(command);
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteLength(3 + CodedOutputStream.ComputeBytesSize(cmd));
            output.WriteTag(1, WireFormat.WireType.Varint);
            output.WriteEnum(2);
            output.WriteTag(2, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(cmd);
        }
        output.WriteTag(2, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(message.Header));
        if (message.Body.Length > 0)
        {
            output.WriteTag(1000, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(message.Body));
        }
        output.Flush();
        return stream.ToArray();
    }
}
