using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Ingestion.Tests.Yahoo;

/// <summary>Collects the delay of each retry the Yahoo client logs: the wait it chose, read without a clock.</summary>
internal sealed class RetryLog : ILoggerProvider, ILogger
{
    private readonly List<TimeSpan> _delays = [];

    public IReadOnlyList<TimeSpan> Delays
    {
        get
        {
            lock (_delays)
            {
                return [.. _delays];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (state is IReadOnlyList<KeyValuePair<string, object?>> values && values.FirstOrDefault(v => v.Key == "Delay").Value is TimeSpan delay)
        {
            lock (_delays)
            {
                _delays.Add(delay);
            }
        }
    }

    public void Dispose()
    {
    }
}
