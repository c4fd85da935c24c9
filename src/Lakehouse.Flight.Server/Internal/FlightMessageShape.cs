using System.Buffers;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// The request messages of Flight.proto, described just enough to check a body the way the generated
/// parser reads it: the protobuf wire format (tags, varints, lengths, groups), UTF-8 in string fields and
/// nested messages. A field whose wire type differs from the declared one is an unknown field to the
/// generated parser, so it is only skipped here too. Walks the bytes in place (a 64 MiB DoPut batch is
/// not copied). The Apache.Arrow.Flight protocol types are internal, hence this description.
/// </summary>
internal sealed class FlightMessageShape
{
    private const int MaxDepth = 100;

    private readonly Dictionary<int, (Kind Kind, FlightMessageShape? Nested)> _fields;

    private FlightMessageShape(string name, params (int Field, Kind Kind, FlightMessageShape? Nested)[] fields)
    {
        Name = name;
        _fields = fields.ToDictionary(f => f.Field, f => (f.Kind, f.Nested));
    }

    private enum Kind
    {
        Varint,
        Bytes,
        Utf8,
        Message,
    }

    public static readonly FlightMessageShape Empty = new("arrow.flight.protocol.Empty");
    public static readonly FlightMessageShape HandshakeRequest = new("arrow.flight.protocol.HandshakeRequest", (1, Kind.Varint, null), (2, Kind.Bytes, null));
    public static readonly FlightMessageShape Criteria = new("arrow.flight.protocol.Criteria", (1, Kind.Bytes, null));
    public static readonly FlightMessageShape Ticket = new("arrow.flight.protocol.Ticket", (1, Kind.Bytes, null));
    public static readonly FlightMessageShape Action = new("arrow.flight.protocol.Action", (1, Kind.Utf8, null), (2, Kind.Bytes, null));
    public static readonly FlightMessageShape FlightDescriptor = new("arrow.flight.protocol.FlightDescriptor",
        (1, Kind.Varint, null), (2, Kind.Bytes, null), (3, Kind.Utf8, null));
    public static readonly FlightMessageShape FlightData = new("arrow.flight.protocol.FlightData",
        (1, Kind.Message, FlightDescriptor), (2, Kind.Bytes, null), (3, Kind.Bytes, null), (1000, Kind.Bytes, null));

    /// <summary>The protobuf message name, for error messages.</summary>
    public string Name { get; }

    /// <summary>True when <paramref name="body"/> parses as this message.</summary>
    public bool IsValid(ReadOnlySequence<byte> body)
    {
        var reader = new SequenceReader<byte>(body);
        return Walk(ref reader, body.Length, this, 0, endGroupField: 0);
    }

    /// <summary>Reads fields until <paramref name="end"/> (bytes from the reader's start) or the end-group tag of <paramref name="endGroupField"/>.</summary>
    private static bool Walk(ref SequenceReader<byte> reader, long end, FlightMessageShape? shape, int depth, int endGroupField)
    {
        if (depth > MaxDepth)
        {
            return false;
        }
        while (reader.Consumed < end)
        {
            if (!TryReadVarint(ref reader, out var tag) || (tag & 0xFFFFFFFF) != tag)
            {
                return false;
            }
            var field = (int)(tag >> 3);
            var wireType = (int)(tag & 7);
            if (field == 0)
            {
                return false;
            }
            (Kind Kind, FlightMessageShape? Nested)? declared = shape is not null && shape._fields.TryGetValue(field, out var f) ? f : null;
            switch (wireType)
            {
                case 0:
                    if (!TryReadVarint(ref reader, out _))
                    {
                        return false;
                    }
                    break;
                case 1:
                    if (!TrySkip(ref reader, 8, end))
                    {
                        return false;
                    }
                    break;
                case 5:
                    if (!TrySkip(ref reader, 4, end))
                    {
                        return false;
                    }
                    break;
                case 2:
                    if (!TryReadVarint(ref reader, out var length) || length > int.MaxValue || reader.Consumed + (long)length > end)
                    {
                        return false;
                    }
                    var value = reader.UnreadSequence.Slice(0, (long)length);
                    if (declared is { Kind: Kind.Utf8 } && !IsUtf8(value))
                    {
                        return false;
                    }
                    if (declared is { Kind: Kind.Message } nested)
                    {
                        var inner = new SequenceReader<byte>(value);
                        if (!Walk(ref inner, value.Length, nested.Nested, depth + 1, endGroupField: 0))
                        {
                            return false;
                        }
                    }
                    reader.Advance((long)length);
                    break;
                case 3:
                    // A group (deprecated, but legal as an unknown field): skip to its matching end tag.
                    if (!Walk(ref reader, end, null, depth + 1, endGroupField: field))
                    {
                        return false;
                    }
                    break;
                case 4:
                    return field == endGroupField;
                default:
                    return false;
            }
        }
        // Reaching the end inside a group is a truncated message.
        return endGroupField == 0;
    }

    private static bool TrySkip(ref SequenceReader<byte> reader, int count, long end)
    {
        if (reader.Consumed + count > end)
        {
            return false;
        }
        reader.Advance(count);
        return true;
    }

    private static bool TryReadVarint(ref SequenceReader<byte> reader, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (!reader.TryRead(out var b))
            {
                return false;
            }
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsUtf8(ReadOnlySequence<byte> value)
    {
        if (value.IsSingleSegment)
        {
            return System.Text.Unicode.Utf8.IsValid(value.FirstSpan);
        }
        return System.Text.Unicode.Utf8.IsValid(value.ToArray());
    }
}
