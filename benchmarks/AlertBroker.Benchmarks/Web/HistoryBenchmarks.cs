using AlertBroker.Alerts;
using AlertBroker.Model.Features;
using AlertBroker.Model.Packaging;
using AlertBroker.Web;
using AlertBroker.Worker.Scoring;
using BenchmarkDotNet.Attributes;

namespace AlertBroker.Benchmarks.Web;

/// <summary>
/// One object page's probability history (<c>/api/objects/{survey}/{id}/history</c>): the shipped ZTF default
/// (<c>models/ztf-bts/2.7.0</c>, an ensemble of two 2×200 networks) re-run over a stored light curve of
/// <see cref="Steps"/> detections, up to the 4,000 a stored object keeps. The web view runs at most half the processors'
/// worth at once and keeps the last 32 results (<see cref="HistoryComputations"/>).
/// </summary>
[MemoryDiagnoser]
public class HistoryBenchmarks
{
    private ActiveModel? _model;
    private Observation[] _observations = [];

    [Params(100, 1000, 4000)]
    public int Steps { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _model = new ActiveModel(ModelPackage.Load(ModelDirectory(), LightCurveEncoding.Supported));
        _observations = new Observation[Steps];
        for (var i = 0; i < Steps; i++)
        {
            _observations[i] = new Observation(i, 59000 + (i * 0.5), i % 2 == 0 ? Passband.ZtfG : Passband.ZtfR, ObservationKind.Detection, 1000f + i, 20f, 19f);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _model?.Dispose();

    [Benchmark]
    public int History() => ProbabilityHistory.Compute(_model!, _observations).Probabilities.Length;

    private static string ModelDirectory()
    {
        foreach (var attribute in typeof(HistoryBenchmarks).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false))
        {
            if (attribute is System.Reflection.AssemblyMetadataAttribute { Key: "RepositoryRoot", Value: { } root })
            {
                return Path.Combine(root, "models", "ztf-bts", "2.7.0");
            }
        }

        throw new DirectoryNotFoundException("the repository root is not known to this build");
    }
}
