using System.Runtime.ExceptionServices;

namespace Lakehouse.Flight.Core;

/// <summary>Loops over items on every core, failing as a plain loop would.</summary>
public static class AllCores
{
    /// <summary>
    /// <paramref name="body"/> for 0..<paramref name="count"/>-1 on all cores. A failure is rethrown as it is (not wrapped
    /// in an <see cref="AggregateException"/>), so callers' filters and messages see the exception a loop would throw;
    /// when items on several cores fail at once, the first of them (a loop would have stopped there too).
    /// </summary>
    public static void For(int count, Action<int> body, CancellationToken cancellationToken = default)
    {
        try
        {
            Parallel.For(0, count, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount }, body);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
            throw;
        }
    }
}
