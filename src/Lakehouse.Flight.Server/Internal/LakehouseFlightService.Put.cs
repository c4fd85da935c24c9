using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Server;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Server.Internal;

internal sealed partial class LakehouseFlightService
{
    /// <summary>
    /// Lands an upload: a table kept per source (bronze <c>prices_daily</c>) gets the rows under the
    /// command's source, and with <c>promote</c> its silver table too; a silver table without a bronze
    /// one (<c>corporate_actions</c>, or any table the catalogue declares) is upserted directly. The
    /// schema is checked before any row is read, the whole upload is collected and converted, then
    /// written in one atomic commit, so a refused upload leaves the lake untouched. Answers one
    /// PutResult whose app_metadata is a JSON array of StorageReports (bronze reports, then silver).
    /// </summary>
    public override async Task DoPut(FlightServerRecordBatchStreamReader requestStream, IAsyncStreamWriter<FlightPutResult> responseStream,
        ServerCallContext context)
    {
        // The body is read below the stock reader (requestStream, left unread), which cannot decode
        // dictionaries or compressed bodies (decisions D22).
        using var upload = FlightPutReader.Open(context, _options);
        try
        {
            await PutAsync(upload, responseStream, context).ConfigureAwait(false);
        }
        catch (LakehouseException)
        {
            await upload.DrainAsync(context.CancellationToken).ConfigureAwait(false);
            throw;
        }
        finally
        {
            _metrics.UploadEnded();
        }
    }

    private async Task PutAsync(FlightPutReader requestStream, IAsyncStreamWriter<FlightPutResult> responseStream,
        ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var descriptor = await requestStream.ReadDescriptorAsync(ct).ConfigureAwait(false);
        if (SqlCommandOf(descriptor) is { } sqlCommand)
        {
            if (sqlCommand.Is(Protocol.Sql.CommandStatementIngest.Descriptor))
            {
                // Flight SQL bulk ingest: an upload by another name (writer only).
                await IngestAsync(sqlCommand.Unpack<Protocol.Sql.CommandStatementIngest>(), requestStream, responseStream, context).ConfigureAwait(false);
                return;
            }
            // Flight SQL: parameters of a prepared query (any role may query), or an update (refused).
            await sql.DoPutAsync(sqlCommand, requestStream, responseStream, ct).ConfigureAwait(false);
            return;
        }
        // Inside the drain: a reader refused while its client still writes gets PermissionDenied, not a cancelled write.
        FlightCallInterceptor.CallerOf(context).RequireWriter("DoPut");
        var command = CommandOf(descriptor);
        var (landing, promoted) = UploadTargets(string.IsNullOrWhiteSpace(command.Table) ? PriceTables.PricesDaily : command.Table.Trim().ToLowerInvariant());
        if (string.IsNullOrWhiteSpace(command.Source))
        {
            throw LakehouseException.Invalid("the upload command needs a source, e.g. {\"table\":\"prices_daily\",\"source\":\"vendor_x\",\"promote\":true}");
        }
        var source = Sources.Normalize(command.Source);

        var schema = await Decode(() => requestStream.ReadSchemaAsync(ct), ct).ConfigureAwait(false);
        var converter = UploadConverter.ForSchema(landing, schema);
        var promote = command.Promote && promoted is not null;
        // By default (no "wait") and with {"wait": false} each batch goes to the write-ahead log as it arrives; the
        // answer follows the last byte by one fsync. {"wait": true} writes the files before it answers.
        var explicitNoWait = command.HasWait && !command.Wait;
        using var logged = !command.HasWait || !command.Wait
            ? _store.BeginUpload(promote ? [(landing, source), (promoted!, source)] : [(landing, source)])
            : null;
        var batches = new List<RecordBatch>();
        var rows = await ReceiveAsync(requestStream, converter, logged is not null ? logged.Add : batches.Add, ct).ConfigureAwait(false);
        if (logged is not null)
        {
            var receipt = await logged.CommitAsync(ct).ConfigureAwait(false);
            var applied = false;
            if (!receipt.Visible && !explicitNoWait)
            {
                // The default promises the rows to the next query: an upload the read buffer cannot hold (too large,
                // or bronze only) is answered once applied.
                await _store.WaitForUploadAsync(receipt.RunId, ct).ConfigureAwait(false);
                applied = true;
            }
            ServerLog.Uploaded(_logger, rows, source, command.Promote);
            var acknowledgement = new PutAcknowledgement(receipt.RunId, applied ? "applied" : "durable", applied, receipt.Visible || applied,
                receipt.Rows, receipt.Symbols, receipt.Tables,
                $"DoAction upload-status {{\"run_id\":\"{receipt.RunId}\",\"wait\":true}} returns once it is applied");
            await responseStream.WriteAsync(new FlightPutResult(JsonSerializer.SerializeToUtf8Bytes(acknowledgement, WireJson.Default.PutAcknowledgement)))
                .ConfigureAwait(false);
            return;
        }
        IReadOnlyList<StorageReport> reports = [];
        if (rows > 0)
        {
            var all = batches.Count == 1 ? batches[0] : RecordBatches.Concatenate(batches);
            var writes = new List<TableWrite> { new(landing, all, source) };
            if (promote)
            {
                writes.Add(new TableWrite(promoted!, all, source));
            }
            // Gold follows silver; its reports go to the gold manifests, not into the PutResult.
            reports = (await writer.WriteAsync(writes, cancellationToken: ct).ConfigureAwait(false)).ReportsOrThrow();
        }
        ServerLog.Uploaded(_logger, rows, source, command.Promote);
        await responseStream.WriteAsync(new FlightPutResult(JsonSerializer.SerializeToUtf8Bytes(reports, WireJson.Default.IReadOnlyListStorageReport)))
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the upload's batches, converts each to the landing table's schema (refusing the first that does not fit) and
    /// hands it to <paramref name="add"/>; returns the rows read. The schema was read before.
    /// </summary>
    private async Task<long> ReceiveAsync(FlightPutReader requestStream, UploadConverter converter, Action<RecordBatch> add, CancellationToken ct)
    {
        long rows = 0;
        while (await Decode(() => requestStream.MoveNext(ct), ct).ConfigureAwait(false))
        {
            ct.ThrowIfCancellationRequested();
            var batch = requestStream.Current;
            if (rows + batch.Length > _options.MaxUploadRows)
            {
                throw LakehouseException.Invalid(
                    $"upload exceeds the cap of {_options.MaxUploadRows:N0} rows per upload: split it into several uploads");
            }
            add(converter.Convert(batch, rows));
            rows += batch.Length;
        }
        return rows;
    }

    /// <summary>Where an upload to <paramref name="name"/> lands, and the table <c>promote</c> also writes.</summary>
    private (TableDefinition Landing, TableDefinition? Promoted) UploadTargets(string name)
    {
        var catalog = _store.Catalog;
        var silver = catalog.Find(Layer.Silver, name);
        if (catalog.Find(Layer.Bronze, name) is { PerSource: true } bronze)
        {
            return (bronze, silver is { Derived: false } ? silver : null);
        }
        if (silver is { Derived: false })
        {
            return (silver, null);
        }
        var uploadable = catalog.Tables.Where(t => t.Layer != Layer.Gold && !t.Derived).Select(t => t.Name).Distinct();
        throw LakehouseException.Invalid($"unknown table '{name}' for upload: use one of {string.Join(", ", uploadable)}");
    }

    private static Protocol.UploadCommand CommandOf(FlightDescriptor descriptor)
    {
        if (descriptor.Type != FlightDescriptorType.Command)
        {
            throw LakehouseException.Invalid(
                "DoPut needs a command descriptor such as {\"table\":\"prices_daily\",\"source\":\"vendor_x\",\"promote\":true}");
        }
        return QueryCodec.Parse(descriptor.Command.Span, Protocol.UploadCommand.Parser, "upload command");
    }

    /// <summary>Reader failures are the client's data: report them as InvalidArgument, with what we do not accept.</summary>
    private static async Task<T> Decode<T>(Func<Task<T>> read, CancellationToken ct)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not (RpcException or OperationCanceledException or LakehouseException) && !ct.IsCancellationRequested)
        {
            throw LakehouseException.Invalid(
                $"the uploaded Arrow stream could not be decoded ({ex.Message}); send an Arrow IPC stream as pyarrow.flight writes it (uncompressed, LZ4_FRAME or ZSTD)");
        }
    }
}
