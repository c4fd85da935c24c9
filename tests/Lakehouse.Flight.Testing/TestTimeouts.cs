namespace Lakehouse.Flight.Testing;

/// <summary>A hang fails the test fast instead of stalling the run.</summary>
public static class TestTimeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(60);

    public static Task DefaultTimeout(this Task task) => task.WaitAsync(Default);

    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(Default);

    public static CancellationToken DefaultTimeoutToken() => new CancellationTokenSource(Default).Token;

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds; fails with <paramref name="what"/> after <see cref="Default"/>.
    /// For a state the code under test reaches on its own (a call parked at a gate, a job finished): it can fail only by timing out.
    /// </summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Default;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out after {Default.TotalSeconds} s waiting until {what}");
            await Task.Delay(10);
        }
    }

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
