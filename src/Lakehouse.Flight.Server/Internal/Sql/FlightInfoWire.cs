using Google.Protobuf;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// The few fields of Flight.proto's FlightInfo (endpoint = 3, its ticket = 1, the ticket's bytes = 1) and of
/// CancelFlightInfoRequest/Result that cancellation needs, read and written directly on the protobuf wire.
/// </summary>
internal static class FlightInfoWire
{
    /// <summary>The bytes of length-delimited field <paramref name="number"/> of <paramref name="message"/> (empty if absent).</summary>
    public static ByteString Field(ByteString message, int number) => Fields(message, number).FirstOrDefault() ?? ByteString.Empty;

    /// <summary>The tickets of a serialised FlightInfo's endpoints.</summary>
    public static IEnumerable<ByteString> TicketsOf(ByteString flightInfo) =>
        Fields(flightInfo, 3).Select(endpoint => Field(Field(endpoint, 1), 1)).ToArray();

    /// <summary>A CancelFlightInfoResult with <paramref name="status"/> (1 = CANCEL_STATUS_CANCELLED).</summary>
    public static ByteString Status(int status)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        output.WriteTag(1, WireFormat.WireType.Varint);
        output.WriteInt32(status);
        output.Flush();
        return ByteString.CopyFrom(stream.ToArray());
    }

    private static List<ByteString> Fields(ByteString message, int number)
    {
        var found = new List<ByteString>();
        try
        {
            var input = new CodedInputStream(message.ToByteArray());
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                {
                    found.Add(input.ReadBytes());
                }
                else
                {
                    input.SkipLastField();
                }
            }
        }
        catch (InvalidProtocolBufferException)
        {
            throw LakehouseException.Invalid("the cancel request does not hold a FlightInfo: send the FlightInfo GetFlightInfo answered");
        }
        return found;
    }
}
