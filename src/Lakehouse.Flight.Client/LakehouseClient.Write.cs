using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Client.Internal;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Core.Wire;

namespace Lakehouse.Flight.Client;

public sealed partial class LakehouseClient
{
    /// <summary>
    /// Uploads bars into bronze under <paramref name="source"/> (Flight DoPut), and with
    /// <paramref name="promote"/> upserts them into silver in the same commit. All or nothing.
    /// </summary>
    /// <param name="bars">The rows; each (symbol, date) once.</param>
    /// <param name="source">The bronze source name, e.g. <c>vendor_x</c>.</param>
    /// <param name="promote">Also upsert into silver.</param>
    /// <param name="cancellationToken">Cancels the upload (nothing is written then).</param>
    /// <returns>Bronze reports, then silver reports.</returns>
    public Task<IReadOnlyList<StorageReport>> UploadAsync(IReadOnlyList<PriceBar> bars, string source, bool promote = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bars);
        var size = Math.Max(1, _options.UploadBatchRows);
        var batches = Enumerable.Range(0, (bars.Count + size - 1) / size)
            .Select(i => PriceBarBatches.ToBatch(bars, i * size, Math.Min(size, bars.Count - (i * size))));
        return UploadAsync(PriceTables.SilverSchema, batches, source, promote, cancellationToken);
    }

    /// <summary>Uploads Arrow record batches of any accepted schema (see the server's DoPut rules); all or nothing.</summary>
    /// <param name="schema">The batches' schema.</param>
    /// <param name="batches">The batches, sent one message each.</param>
    /// <param name="source">The bronze source name.</param>
    /// <param name="promote">Also upsert into silver.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>Bronze reports, then silver reports.</returns>
    public async Task<IReadOnlyList<StorageReport>> UploadAsync(Schema schema, IEnumerable<RecordBatch> batches, string source, bool promote = false,
        CancellationToken cancellationToken = default)
    {
        var reports = new List<StorageReport>();
        foreach (var metadata in await PutAsync(FlightDescriptor.CreateCommandDescriptor(UploadCommand(source, promote, wait: true)), schema, batches, cancellationToken).ConfigureAwait(false))
        {
            reports.AddRange(Reports(metadata));
        }
        return reports;
    }

    /// <summary>
    /// Uploads like <see cref="UploadAsync(Schema, IEnumerable{RecordBatch}, string, bool, CancellationToken)"/>, but
    /// the server answers once the upload is durable in its write-ahead log, before it is applied: the fast
    /// path for bulk uploads. The rows become visible (all at once per commit of whole symbols) when the
    /// server's background applier lands them; <see cref="WaitForUploadAsync"/> waits for that.
    /// </summary>
    /// <param name="schema">The batches' schema.</param>
    /// <param name="batches">The batches, sent one message each.</param>
    /// <param name="source">The bronze source name.</param>
    /// <param name="promote">Also upsert into silver.</param>
    /// <param name="cancellationToken">Cancels the upload (nothing is acknowledged then).</param>
    /// <returns>The run the upload is applied under, with its row and symbol counts.</returns>
    public async Task<UploadAcknowledgement> SubmitUploadAsync(Schema schema, IEnumerable<RecordBatch> batches, string source, bool promote = false,
        CancellationToken cancellationToken = default)
    {
        var results = await PutAsync(FlightDescriptor.CreateCommandDescriptor(UploadCommand(source, promote, wait: false)), schema, batches, cancellationToken).ConfigureAwait(false);
        if (results.Count == 0)
        {
            throw new InvalidOperationException("the server acknowledged nothing: an empty upload is not queued");
        }
        var ack = JsonSerializer.Deserialize(results[^1], WireJson.Default.PutAcknowledgement)
            ?? throw new InvalidOperationException("the server's upload acknowledgement is empty");
        return new UploadAcknowledgement(ack.RunId, ack.Rows, ack.Symbols, ack.Visible);
    }

    /// <summary>Waits until an upload acknowledged by <see cref="SubmitUploadAsync"/> is applied (the <c>upload-status</c> action).</summary>
    /// <param name="runId">The acknowledgement's run id.</param>
    /// <param name="cancellationToken">Stops waiting (the upload goes on).</param>
    /// <returns>Its StorageReports: bronze and silver, per symbol.</returns>
    /// <exception cref="InvalidOperationException">The server could not apply the upload; the message says why.</exception>
    public async Task<IReadOnlyList<StorageReport>> WaitForUploadAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        var body = JsonSerializer.SerializeToUtf8Bytes(new UploadStatusBody(runId, Wait: true), WireJson.Default.UploadStatusBody);
        IReadOnlyList<StorageReport> reports = [];
        await foreach (var result in ActionAsync("upload-status", body, cancellationToken).ConfigureAwait(false))
        {
            var status = JsonSerializer.Deserialize(result, WireJson.Default.UploadStatusResult)
                ?? throw new InvalidOperationException($"the server's upload-status answer for {runId} is empty");
            if (status.State == UploadStatusResult.Failed)
            {
                throw new InvalidOperationException($"upload {runId} failed: {status.Error}");
            }
            reports = status.Reports;
        }
        return reports;
    }

    private static string UploadCommand(string source, bool promote, bool wait) =>
        JsonSerializer.Serialize(new UploadCommandBody(PriceTables.PricesDaily, source, promote, wait), WireJson.Default.UploadCommandBody);

    /// <summary>Sends a DoPut and returns the app_metadata of each PutResult.</summary>
    private async Task<List<byte[]>> PutAsync(FlightDescriptor descriptor, Schema schema, IEnumerable<RecordBatch> batches, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(batches);
        using var call = await _flight.StartPut(descriptor, schema, Headers(), null, cancellationToken)
            .ConfigureAwait(false);
        try
        {
            foreach (var batch in batches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await call.RequestStream.WriteAsync(batch).ConfigureAwait(false);
            }
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException && !cancellationToken.IsCancellationRequested)
        {
            // The server may refuse early (a bad schema) and end the call while we still write: its status says why.
            while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
            }
            throw;
        }
        var results = new List<byte[]>();
        while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            results.Add(call.ResponseStream.Current.ApplicationMetadata.ToByteArray());
        }
        return results;
    }

    /// <summary>Runs the server's <c>ingest</c> action, reporting progress as the server streams it.</summary>
    /// <param name="request">Source, symbols and dates.</param>
    /// <param name="progress">Receives one report per committed chunk; may be null.</param>
    /// <param name="cancellationToken">Stops the run between chunks (committed chunks stay).</param>
    /// <returns>The StorageReports of the run (bronze, then silver).</returns>
    /// <exception cref="IngestFailedSymbolsException">Some symbols failed (not fetched, or committed with stale gold); what was committed is in its <c>Reports</c>.</exception>
    public async Task<IReadOnlyList<StorageReport>> IngestAsync(IngestOptions request, IProgress<IngestProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = JsonSerializer.SerializeToUtf8Bytes(new IngestBody(request.Source, request.Symbols, OptionalDate(request.From),
            OptionalDate(request.To), request.Promote, request.Seed, request.Path ?? ""), WireJson.Default.IngestBody);
        IReadOnlyList<StorageReport> reports = [];
        IReadOnlyList<FailedSymbol> failed = [];
        await foreach (var result in ActionAsync("ingest", body, cancellationToken).ConfigureAwait(false))
        {
            if (!IsObject(result))
            {
                reports = Reports(result);
            }
            else if (JsonSerializer.Deserialize(result, WireJson.Default.ProgressMessage)?.Progress is { } p)
            {
                progress?.Report(new IngestProgress(p.SymbolsDone ?? 0, p.SymbolsTotal ?? 0, p.Rows ?? 0));
            }
            else if (JsonSerializer.Deserialize(result, WireJson.Default.FailedSymbols)?.Failed is { Count: > 0 } f)
            {
                // Sent before the reports: the symbols that failed (not fetched, or committed with stale gold).
                failed = f;
            }
        }
        return failed.Count == 0 ? reports : throw new IngestFailedSymbolsException(reports, failed);
    }

    /// <summary>A date of <see cref="IngestOptions"/>; unset (<c>default</c>) is sent as no bound.</summary>
    private static string OptionalDate(DateOnly date) => date == default ? "" : QueryText.Date(date);

    /// <summary>Re-derives silver from bronze (the <c>promote</c> action).</summary>
    /// <param name="source">Only this bronze source; null for all.</param>
    /// <param name="symbols">Only these symbols; empty for all.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One silver report per symbol.</returns>
    public async Task<IReadOnlyList<StorageReport>> PromoteAsync(string? source = null, IReadOnlyList<string>? symbols = null,
        CancellationToken cancellationToken = default)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new PromoteBody(source ?? "", symbols ?? []), WireJson.Default.PromoteBody);
        IReadOnlyList<StorageReport> reports = [];
        await foreach (var result in ActionAsync("promote", body, cancellationToken).ConfigureAwait(false))
        {
            reports = Reports(result);
        }
        return reports;
    }

    /// <summary>The most recent manifest lines of a dataset (the <c>manifest</c> action), oldest first.</summary>
    /// <param name="layer">The layer, e.g. <c>silver</c>.</param>
    /// <param name="limit">How many lines at most.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<StorageReport>> GetManifestAsync(string layer = "silver", int limit = 50, CancellationToken cancellationToken = default)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new ManifestBody(layer, PriceTables.PricesDaily, limit), WireJson.Default.ManifestBody);
        IReadOnlyList<StorageReport> reports = [];
        await foreach (var result in ActionAsync("manifest", body, cancellationToken).ConfigureAwait(false))
        {
            reports = Reports(result);
        }
        return reports;
    }

    /// <summary>Runs any action and yields each result body (UTF-8 JSON for this server's actions).</summary>
    /// <param name="type">The action, e.g. <c>health</c> or <c>stats</c>.</param>
    /// <param name="body">The JSON body; empty for none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async IAsyncEnumerable<byte[]> ActionAsync(string type, byte[]? body = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var call = _flight.DoAction(new FlightAction(type, body ?? []), Headers(), null, cancellationToken);
        while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            yield return call.ResponseStream.Current.Body.ToByteArray();
        }
    }
}
