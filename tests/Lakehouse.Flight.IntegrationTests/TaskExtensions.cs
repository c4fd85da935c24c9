namespace Lakehouse.Flight.IntegrationTests;

/// <summary>A hang fails the test fast instead of stalling the run.</summary>
internal static class TaskExtensions
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(60);

    public static Task DefaultTimeout(this Task task) => task.WaitAsync(Default);

    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(Default);

    public static CancellationToken DefaultTimeoutToken() => new CancellationTokenSource(Default).Token;

    public static async Task<List<T>> ToListAsync<T>(this IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var x in items.WithCancellation(DefaultTimeoutToken()))
        {
            list.Add(x);
        }
        return list;
    }
}
