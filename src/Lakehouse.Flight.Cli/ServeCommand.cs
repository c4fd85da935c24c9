namespace Lakehouse.Flight.Cli;

/// <summary><c>lakehouse serve</c>: placeholder until the Flight server lands.</summary>
internal static class ServeCommand
{
    public static Task<int> RunAsync(CliArgs args, CliIo io, CancellationToken cancellationToken)
    {
        _ = args;
        _ = cancellationToken;
        io.Err.WriteLine("error: serve is not built yet");
        return Task.FromResult(1);
    }
}
