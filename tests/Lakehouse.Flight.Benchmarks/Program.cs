using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Lakehouse.Flight.Benchmarks.E2e;

if (args.Length > 0 && args[0] == "e2e")
{
    return await E2eHarness.RunAsync(args[1..]);
}

// In-process toolchain: no generated project to build (it would inherit the repo's warnings-as-errors
// analyzers), and a short job by default so the whole micro suite takes minutes on a shared 2-core box.
var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).AsDefault())
    .WithOptions(ConfigOptions.JoinSummary);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
return 0;
