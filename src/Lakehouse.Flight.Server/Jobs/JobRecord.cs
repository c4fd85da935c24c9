using System.Text.Json;
using Lakehouse.Flight.Core.Wire;

namespace Lakehouse.Flight.Server.Jobs;

/// <summary>Job states as the API and the records on disk spell them.</summary>
internal static class JobStates
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsFinished(string state) => state is Succeeded or Failed or Cancelled;
}

/// <summary>
/// One job: its <see cref="JobStatus"/>, what <c>GET /prices/jobs/{id}</c> shows and <c>_metadata/jobs/{id}.json</c>
/// keeps. The status is immutable; a change replaces it whole under <see cref="Gate"/>, so a reader gets one
/// consistent snapshot without taking the gate.
/// </summary>
internal sealed class JobRecord(JobStatus status)
{
    public const string IngestKind = "ingest";
    public const string FlowKind = "flow";

    /// <summary>Job files are indented, for people reading <c>_metadata/jobs/</c>.</summary>
    private static readonly WireJson FileJson = new(new JsonSerializerOptions { WriteIndented = true });

    private JobStatus _status = status;

    /// <summary>The job's id (it never changes).</summary>
    public string Id { get; } = status.Id;

    /// <summary>The job as it stands now.</summary>
    public JobStatus Status => Volatile.Read(ref _status);

    /// <summary>Serialises changes of the status, and writes of the record with them (<see cref="JobService"/>).</summary>
    internal Lock Gate { get; } = new();

    /// <summary>Replaces the status with <paramref name="change"/> of it, under <see cref="Gate"/>; returns the new status.</summary>
    public JobStatus Update(Func<JobStatus, JobStatus> change)
    {
        lock (Gate)
        {
            var next = change(_status);
            Volatile.Write(ref _status, next);
            return next;
        }
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(Status, FileJson.JobStatus);

    public static JobRecord? FromJson(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, FileJson.JobStatus) is { } s ? new JobRecord(s) : null;
}
