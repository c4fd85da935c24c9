using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Lakehouse.Flight.Protocol.Sql;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// A Flight SQL client over the raw FlightClient, as ADBC and JDBC drive a server: commands packed in
/// google.protobuf.Any (type.googleapis.com/arrow.flight.protocol.sql.X), GetFlightInfo then DoGet of each endpoint.
/// </summary>
internal sealed class FlightSqlCalls(FlightClient raw, Metadata? headers = null)
{
    public static FlightDescriptor Descriptor(IMessage command) => FlightDescriptor.CreateCommandDescriptor(Any.Pack(command).ToByteArray());

    public async Task<FlightInfo> InfoAsync(IMessage command) => await raw.GetInfo(Descriptor(command), headers).ResponseAsync.DefaultTimeout();

    public async Task<Schema> SchemaAsync(IMessage command) => await raw.GetSchema(Descriptor(command), headers).ResponseAsync.DefaultTimeout();

    /// <summary>GetFlightInfo, then every endpoint's DoGet: the batches and the schema the stream announced.</summary>
    public async Task<(FlightInfo Info, Schema Schema, List<RecordBatch> Batches)> QueryAsync(IMessage command)
    {
        var info = await InfoAsync(command);
        var batches = new List<RecordBatch>();
        Schema? schema = null;
        foreach (var endpoint in info.Endpoints)
        {
            using var call = raw.GetStream(endpoint.Ticket, headers);
            while (await call.ResponseStream.MoveNext().DefaultTimeout())
            {
                batches.Add(call.ResponseStream.Current);
            }
            schema = await call.ResponseStream.Schema.AsTask().DefaultTimeout();
        }
        return (info, schema!, batches);
    }

    public Task<(FlightInfo Info, Schema Schema, List<RecordBatch> Batches)> SqlAsync(string sql) => QueryAsync(new CommandStatementQuery { Query = sql });

    public async Task<List<ByteString>> ActionAsync(string type, ByteString body)
    {
        using var call = raw.DoAction(new FlightAction(type, body), headers);
        var results = new List<ByteString>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            results.Add(call.ResponseStream.Current.Body);
        }
        return results;
    }

    public async Task<ActionCreatePreparedStatementResult> PrepareAsync(string sql)
    {
        var results = await ActionAsync("CreatePreparedStatement", Any.Pack(new ActionCreatePreparedStatementRequest { Query = sql }).ToByteString());
        return Any.Parser.ParseFrom(Assert.Single(results)).Unpack<ActionCreatePreparedStatementResult>();
    }

    /// <summary>DoPut of <paramref name="batch"/> under <paramref name="command"/>; the PutResults' metadata.</summary>
    public async Task<List<ByteString>> PutAsync(IMessage command, RecordBatch batch)
    {
        using var call = await raw.StartPut(Descriptor(command), batch.Schema, headers).DefaultTimeout();
        try
        {
            await call.RequestStream.WriteAsync(batch).DefaultTimeout();
            await call.RequestStream.CompleteAsync().DefaultTimeout();
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException)
        {
            // Refused before the end of the stream: the response carries the status.
        }
        var results = new List<ByteString>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            results.Add(call.ResponseStream.Current.ApplicationMetadata);
        }
        return results;
    }

    public static List<T?> Column<T>(IEnumerable<RecordBatch> batches, string name, Func<IArrowArray, int, T?> get) =>
        batches.SelectMany(b => Enumerable.Range(0, b.Length).Select(i => get(b.Column(name), i))).ToList();
}
