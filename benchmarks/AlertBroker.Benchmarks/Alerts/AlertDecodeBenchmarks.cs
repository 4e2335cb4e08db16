using AlertBroker.Alerts;
using BenchmarkDotNet.Attributes;

namespace AlertBroker.Benchmarks.Alerts;

/// <summary>Real ZTF (2021, 30-day history, cutouts) and Rubin alerts decoded message by message into Alerts.</summary>
[MemoryDiagnoser]
public class AlertDecodeBenchmarks
{
    private readonly AlertDecoder _decoder = new();
    private readonly List<Alert> _output = new(4);
    private byte[][] _ztf = [];
    private byte[][] _rubin = [];

    [GlobalSetup]
    public void Setup()
    {
        _ztf = BenchmarkData.ReadAll("alert-samples/ztf-real-50");
        _rubin = BenchmarkData.ReadAll("alert-samples/lsst-real-v7_4");
    }

    /// <summary>All 50 real ZTF messages; divide by 50 for the per-alert cost.</summary>
    [Benchmark(OperationsPerInvoke = 50)]
    public int DecodeZtfReal50()
    {
        var n = 0;
        foreach (var m in _ztf)
        {
            _output.Clear();
            n += _decoder.Decode(m, _output);
        }

        return n;
    }

    /// <summary>All 100 Rubin (lsst.v7_4, re-written by Fink) messages; divide by 100.</summary>
    [Benchmark(OperationsPerInvoke = 100)]
    public int DecodeRubinReal100()
    {
        var n = 0;
        foreach (var m in _rubin)
        {
            _output.Clear();
            n += _decoder.Decode(m, _output);
        }

        return n;
    }
}
