using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(AlertBroker.Benchmarks.BenchmarkData).Assembly).Run(args);
