using BenchmarkDotNet.Running;

if (args is ["--interleaved-cpu", .. var rest])
{
    // A complement to BenchmarkDotNet for a shared, busy machine: see ApacheAvroComparisonBenchmarks.RunInterleaved.
    AlertBroker.Benchmarks.Avro.ApacheAvroComparisonBenchmarks.RunInterleaved(rest is [var r] ? int.Parse(r, System.Globalization.CultureInfo.InvariantCulture) : 40);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(AlertBroker.Benchmarks.BenchmarkData).Assembly).Run(args);
