using Apache.Arrow.Flight;
using Google.Protobuf;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Protocol.Sql;
using Lakehouse.Flight.Server.Internal.Sql;

namespace Lakehouse.Flight.Server.Internal;

internal sealed partial class LakehouseFlightService
{
    /// <summary>
    /// Flight SQL bulk ingest (decisions D41): an upload by another name. The rows take DoPut's path (each batch checked,
    /// converted and appended to the write-ahead log as it arrives; one refused batch refuses the whole ingest and leaves
    /// the lake as it was), and the answer, a <c>DoPutUpdateResult</c> with the rows ingested, comes once they are applied
    /// to the table files, so the next SQL query sees them.
    /// </summary>
    private async Task IngestAsync(CommandStatementIngest command, FlightPutReader requestStream, IAsyncStreamWriter<FlightPutResult> responseStream,
        ServerCallContext context)
    {
        FlightCallInterceptor.CallerOf(context).RequireWriter("Flight SQL bulk ingest (CommandStatementIngest)");
        var target = FlightSqlIngest.Resolve(command, _store.Catalog);
        var ct = context.CancellationToken;
        var schema = await Decode(() => requestStream.ReadSchemaAsync(ct), ct).ConfigureAwait(false);
        var converter = UploadConverter.ForSchema(target.Landing, schema);
        long rows;
        using (var logged = _store.BeginUpload(target.Promoted is null
            ? [(target.Landing, target.Source)]
            : [(target.Landing, target.Source), (target.Promoted, target.Source)]))
        {
            rows = await ReceiveAsync(requestStream, converter, logged.Add, ct).ConfigureAwait(false);
            if (rows > 0)
            {
                var receipt = await logged.CommitAsync(ct).ConfigureAwait(false);
                var status = await _store.WaitForUploadAsync(receipt.RunId, ct).ConfigureAwait(false);
                if (status.Error is { } error)
                {
                    throw new LakehouseException(LakehouseErrorKind.Unavailable,
                        $"the ingest (run {status.RunId}) is durable but could not be applied: {error}; DoAction upload-status {{\"run_id\":\"{status.RunId}\"}} follows it");
                }
            }
        }
        ServerLog.Uploaded(_logger, rows, target.Source, target.Promoted is not null);
        var result = new DoPutUpdateResult { RecordCount = rows };
        await responseStream.WriteAsync(new FlightPutResult(result.ToByteString())).ConfigureAwait(false);
    }
}
