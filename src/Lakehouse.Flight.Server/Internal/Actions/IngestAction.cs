using System.Runtime.ExceptionServices;
using System.Text.Json;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Server.Jobs;

namespace Lakehouse.Flight.Server.Internal.Actions;

/// <summary>
/// <c>ingest</c>: through the job service, not inline, so the call gets the same bounded queue (full =
/// ResourceExhausted), per-symbol exclusion and persisted record as an HTTP job; it streams its own job's progress.
/// </summary>
internal sealed class IngestAction(IngestionRunner runner, JobService jobs, ImportRoots imports) : IFlightAction
{
    public string Name => "ingest";

    public string Description =>
        $$"""Fetch bars from a source into bronze and promote them to silver (writer). Body: {"source":"synthetic","symbols":["AAPL"],"date_from":"2024-01-01","date_to":"2024-03-31","promote":true}. Streams {"progress":...} results, one per commit of up to {{IngestionRunner.ChunkSymbols}} symbols (each commit atomic; a symbol that fails is listed in "failed" and does not stop the others); the last result is the JSON array of StorageReports.""";

    public bool RequiresWriter => true;

    public bool WaitsForIndex => true;

    public async Task RunAsync(ActionCall call)
    {
        var request = Parse(call.Body);
        runner.Source(request.Source);
        var record = await call.RunWithProgressAsync<ActionProgress, JobStatus>(async (progress, ct) =>
        {
            var relay = new JobProgressRelay(Name, progress);
            var ticket = relay.Enqueue(listener => jobs.EnqueueIngest(request, listener));
            // A caller that goes away cancels its job (between commits).
            await using (ct.Register(() => jobs.Cancel(ticket.Record.Id)).ConfigureAwait(false))
            {
                if (await ticket.Completion.ConfigureAwait(false) is { } failure)
                {
                    // The job's own exception keeps its kind (an unknown source stays InvalidArgument).
                    ExceptionDispatchInfo.Throw(failure);
                }
            }
            return ticket.Record.Status;
        }, p => p).ConfigureAwait(false);
        var id = record.Id;
        if (record.State == JobStates.Cancelled)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, $"job {id}: {record.Error}"));
        }
        var failures = record.Failed ?? [];
        var reports = record.Reports ?? [];
        if (record.State == JobStates.Failed && failures.Count == 0)
        {
            throw new LakehouseException(LakehouseErrorKind.Unavailable, $"job {id}: {record.Error}");
        }
        if (failures.Count > 0 && reports.Count == 0)
        {
            throw new LakehouseException(LakehouseErrorKind.Unavailable,
                "no symbol could be ingested: " + string.Join("; ", failures.Take(10).Select(f => $"{f.Symbol}: {f.Error}")));
        }
        if (failures.Count > 0)
        {
            await call.WriteAsync(new FailedSymbols(failures), WireJson.Default.FailedSymbols).ConfigureAwait(false);
        }
        await call.WriteAsync(reports, WireJson.Default.IReadOnlyListStorageReport).ConfigureAwait(false);
    }

    private IngestRequest Parse(byte[] body)
    {
        var r = QueryCodec.Parse(body, Protocol.IngestRequest.Parser, "ingest body");
        var symbols = Symbols.NormalizeAll(r.Symbols);
        var request = new IngestRequest(
            string.IsNullOrWhiteSpace(r.Source) ? SyntheticBars.Name : r.Source.Trim().ToLowerInvariant(),
            symbols,
            TableQuery.ParseDate(r.DateFrom, "date_from"),
            TableQuery.ParseDate(r.DateTo, "date_to"),
            Promote: r.Promote || !PromoteGivenInJson(body),
            // A server-side CSV file or folder: only under the import roots.
            Path: string.IsNullOrWhiteSpace(r.Path) ? null : imports.Resolve(r.Path, "path"),
            Seed: r.Seed == 0 ? 42 : r.Seed);
        if (symbols.Count == 0 && request.Path is null)
        {
            throw LakehouseException.Invalid("ingest needs symbols, e.g. {\"symbols\":[\"AAPL\",\"MSFT\"]}");
        }
        return request;
    }

    /// <summary>proto3 cannot tell a false bool from an absent one; in JSON an absent "promote" means true.</summary>
    private static bool PromoteGivenInJson(byte[] body)
    {
        if (body.Length == 0 || body.AsSpan().TrimStart(" \t\r\n"u8).IndexOf((byte)'{') != 0)
        {
            return true;
        }
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.TryGetProperty("promote", out _);
    }

    /// <summary>
    /// The job's progress as <c>ingest</c> progress results, tagged with the job id. A worker may report before
    /// <see cref="JobService.EnqueueIngest"/> returns the id: the gate holds such a report until the id is known.
    /// </summary>
    private sealed class JobProgressRelay(string action, IProgress<ActionProgress> to) : IProgress<IngestionProgress>
    {
        private readonly Lock _gate = new();
        private string _id = "";

        public JobTicket Enqueue(Func<IProgress<IngestionProgress>, JobTicket> enqueue)
        {
            lock (_gate)
            {
                var ticket = enqueue(this);
                _id = ticket.Record.Id;
                return ticket;
            }
        }

        public void Report(IngestionProgress value)
        {
            string id;
            lock (_gate)
            {
                id = _id;
            }
            to.Report(new ActionProgress
            {
                Action = action, JobId = id, SymbolsDone = value.SymbolsDone, SymbolsTotal = value.SymbolsTotal, Rows = value.Rows, Failed = value.Failed,
            });
        }
    }
}
