using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Lakehouse.Flight.Benchmarks.E2e;

if (args.Length > 0 && args[0] == "legacy-migrate")
{
    return await LegacyMigrationBench.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "bulk")
{
    return await BulkHarness.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "lake")
{
    return await LakeHarness.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "e2e")
{
    return await E2eHarness.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "points")
{
    return await PointsHarness.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "kestrel-ceiling")
{
    return await KestrelCeiling.ServeAsync();
}
if (args.Length > 0 && args[0] == "generate")
{
    return Universe.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "compact")
{
    return await Universe.CompactAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "memory")
{
    return await MemoryHarness.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "compaction")
{
    return await CompactionHarness.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "versions")
{
    return await VersionsHarness.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "sql-steps")
{
    return await SqlSteps.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "sql")
{
    return await SqlHarness.RunAsync(args[1..]);
}
if (args.Length > 0 && args[0] == "ingest")
{
    return await IngestHarness.RunAsync(args[1..]);
}

// In-process toolchain: no generated project to build (it would inherit the repo's warnings-as-errors
// analyzers). A short job (3 warm-ups, 7 iterations) by default so the whole micro suite takes minutes
// on a shared 2-core box; medians are what docs/benchmarks.md quotes.
var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithIterationCount(7).WithToolchain(InProcessEmitToolchain.Instance).AsDefault())
    .AddColumn(StatisticColumn.Median, StatisticColumn.P95);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
return 0;
