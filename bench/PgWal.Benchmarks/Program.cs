// PgWal micro-benchmarks (BenchmarkDotNet). Run: dotnet run -c Release --project bench/PgWal.Benchmarks -- --filter '*'
// In-process toolchain: BenchmarkDotNet 0.14 does not know the net10.0 moniker for its usual
// child-process build, and in-process runs are what this machine can measure anyway.
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
