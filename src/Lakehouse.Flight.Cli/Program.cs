using System.Runtime.InteropServices;
using Lakehouse.Flight.Cli;

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};
// SIGTERM (docker stop, systemd) stops like Ctrl+C: serve drains and exits 0 instead of dying with 143.
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    cts.Cancel();
});
return await LakehouseCli.RunAsync(args, Console.Out, Console.Error, cts.Token).ConfigureAwait(false);
