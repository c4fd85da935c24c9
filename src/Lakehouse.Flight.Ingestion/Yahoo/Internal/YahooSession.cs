namespace Lakehouse.Flight.Ingestion.Yahoo.Internal;

/// <summary>The cookie and crumb Yahoo asked for, shared by every request of the source.</summary>
internal sealed record YahooCredentials(string Cookie, string Crumb);

/// <summary>
/// Holds the current <see cref="YahooCredentials"/> (a singleton per source). One handshake at a time:
/// when several symbols hit 401 together, the first refreshes and the others reuse its result.
/// </summary>
internal sealed class YahooSession : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile YahooCredentials? _current;

    public YahooCredentials? Current => _current;

    public async Task<YahooCredentials> RefreshAsync(YahooCredentials? stale, Func<CancellationToken, Task<YahooCredentials>> handshake, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_current is { } fresh && !ReferenceEquals(fresh, stale))
            {
                return fresh;
            }
            var credentials = await handshake(cancellationToken).ConfigureAwait(false);
            _current = credentials;
            return credentials;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
