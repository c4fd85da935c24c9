using System.Runtime.ExceptionServices;

namespace Lakehouse.Flight.Core;

/// <summary>Loops over items on every core, failing as a plain loop would.</summary>
public static class AllCores
{
    /// <summary>
    /// <paramref name="body"/> for 0..<paramref name="count"/>-1 on all cores. A failure is rethrown as it is (not wrapped
    /// in an <see cref="AggregateException"/>), so callers' filters and messages see an exception a loop would throw. When
    /// items on several cores fail at once, one of them is rethrown (not necessarily the lowest item's): a failure other
    /// than a cancellation first, so a cancelled item does not hide an error.
    /// </summary>
    public static void For(int count, Action<int> body, CancellationToken cancellationToken = default)
    {
        try
        {
            Parallel.For(0, count, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount }, body);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
        {
            var first = ex.InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) ?? ex.InnerExceptions[0];
            ExceptionDispatchInfo.Capture(first).Throw();
            throw;
        }
    }
}
