namespace Lakehouse.Flight.Server.Jobs;

/// <summary>The job service, bound from <c>Lakehouse:Jobs</c>.</summary>
public sealed class JobOptions
{
    /// <summary>Jobs waiting to run; one more is refused (HTTP 429, gRPC ResourceExhausted) rather than held in memory.</summary>
    public int QueueCapacity { get; set; } = 100;

    /// <summary>Jobs running at once (jobs that share a symbol never run at the same time whatever this says).</summary>
    public int Workers { get; set; } = 2;

    /// <summary>Finished jobs kept in memory for <c>GET /prices/jobs</c>; older ones are still read from disk by id.</summary>
    public int Kept { get; set; } = 1000;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (QueueCapacity is < 1 or > 1_000_000)
        {
            errors.Add($"Lakehouse:Jobs:QueueCapacity must be between 1 and 1000000 (got {QueueCapacity})");
        }
        if (Workers is < 1 or > 64)
        {
            errors.Add($"Lakehouse:Jobs:Workers must be between 1 and 64 (got {Workers})");
        }
        if (Kept < 1)
        {
            errors.Add($"Lakehouse:Jobs:Kept must be >= 1 (got {Kept})");
        }
        return errors;
    }
}
