using Lakehouse.Flight.Cli;

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};
return await LakehouseCli.RunAsync(args, Console.Out, Console.Error, cts.Token);
