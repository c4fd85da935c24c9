using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>gRPC calls as raw HTTP/2 requests: any body, any framing, and the status read back from headers or trailers.</summary>
internal static class RawGrpc
{
    public const string Service = "/arrow.flight.protocol.FlightService/";

    public static HttpClient H2c() => new()
    {
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TestTimeouts.Default,
    };

    /// <summary>One gRPC message frame: the compressed-flag byte, a big-endian length, the body.</summary>
    public static byte[] Frame(byte[] body, byte flag = 0, int? declaredLength = null)
    {
        var framed = new byte[5 + body.Length];
        framed[0] = flag;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(framed.AsSpan(1), declaredLength ?? body.Length);
        body.CopyTo(framed, 5);
        return framed;
    }

    /// <summary>POSTs <paramref name="body"/> to a Flight method; returns grpc-status and the decoded grpc-message.</summary>
    public static async Task<(int Status, string Message)> CallAsync(Uri flight, string method, byte[] body)
    {
        using var http = H2c();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{flight.Port}{Service}{method}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead).DefaultTimeout();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode} {response.Version}: {await response.Content.ReadAsStringAsync()}");
        // A trailers-only response carries the status in the headers.
        var headers = response.TrailingHeaders.Contains("grpc-status") ? (HttpHeaders)response.TrailingHeaders : response.Headers;
        var status = int.Parse(headers.GetValues("grpc-status").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var message = headers.TryGetValues("grpc-message", out var m) ? Uri.UnescapeDataString(m.Single()) : "";
        return (status, message);
    }
}

/// <summary>Every log line the server writes, with its level and exception.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message, Exception? Exception)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Entries.Enqueue((logLevel, category, formatter(state, exception), exception));
            }
        }
    }
}
