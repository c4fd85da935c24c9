using Spectre.Console;

namespace Lakehouse.Flight.Cli;

/// <summary>
/// A Spectre.Console progress bar while long work runs on a terminal; nothing on stdout when it is
/// redirected (a pipe or a file keeps only results), plain lines on stderr if the command wants them.
/// </summary>
internal static class CliProgress
{
    public static async Task<T> RunAsync<T>(CliIo io, bool json, string label, Func<IProgress<ProgressStep>, Task<T>> work,
        Action<ProgressStep>? plain = null)
    {
        if (json || !io.Interactive)
        {
            return await work(new Sink(s => plain?.Invoke(s))).ConfigureAwait(false);
        }
        return await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(label, autoStart: true, maxValue: 1);
                var result = await work(new Sink(s =>
                {
                    task.MaxValue = Math.Max(1, s.Total);
                    task.Value = Math.Min(s.Done, task.MaxValue);
                    task.Description = Markup.Escape(s.Label);
                })).ConfigureAwait(false);
                task.Value = task.MaxValue;
                return result;
            }).ConfigureAwait(false);
    }

    /// <summary>Reports on the caller's thread: no SynchronizationContext hop, so the last report lands before the work returns.</summary>
    private sealed class Sink(Action<ProgressStep> onReport) : IProgress<ProgressStep>
    {
        public void Report(ProgressStep value) => onReport(value);
    }
}

/// <summary>One step of long work: a label and done out of total.</summary>
internal readonly record struct ProgressStep(string Label, long Done, long Total);
