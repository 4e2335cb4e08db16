using System.Text.Json;
using AlertBroker.Alerts;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Telemetry;
using BenchmarkDotNet.Attributes;

namespace AlertBroker.Benchmarks.Web;

/// <summary>
/// What the web view adds to a worker's batch of 500 classifications, on the consume thread: the instruments' records with
/// <see cref="WorkerStatistics"/> listening (against the same records with no listener), the recent ring, and the JSON of
/// the at most 100 entries the Redis list gets per batch (the LPUSH itself is fire-and-forget on the client's writer).
/// Compare with a batch's processing time (bench pipeline: several milliseconds for 500 messages).
/// </summary>
[MemoryDiagnoser]
public class WebObserverBenchmarks
{
    private WorkerMetrics _plain = null!;
    private WorkerMetrics _observed = null!;
    private WorkerStatistics _statistics = null!;
    private RecentClassificationLog _ring = null!;
    private BatchResult _batch = null!;
    private long _now;

    [GlobalSetup]
    public void Setup()
    {
        _plain = new WorkerMetrics();
        _observed = new WorkerMetrics();
        _statistics = new WorkerStatistics(_observed);
        _ring = new RecentClassificationLog(500);
        _now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var outputs = new List<OutputMessage>(500);
        for (var i = 0; i < 500; i++)
        {
            var id = "ZTF21aa" + i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture);
            outputs.Add(new OutputMessage(id, [], new Classification(id, i, i, Survey.Ztf, 60000 + i, "ztf-bts", "1.0.0", ["SNIa", "SNII", "SNIbc", "SLSN-I", "TDE"], [0.1f, 0.6f, 0.1f, 0.1f, 0.1f], 20, 15, ScoringPath.Incremental, _now - 400, _now - 10, _now)));
        }

        _batch = new BatchResult(500, 500, outputs, [], 500, 500, 0, new StageTimings(default, default, default, default, default, TimeSpan.FromMilliseconds(8)));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _statistics.Dispose();
        _observed.Dispose();
        _plain.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void Instruments_NoListener()
    {
        _plain.RecordBatch(_batch);
        _plain.Published(_batch, _now);
    }

    [Benchmark]
    public void Instruments_WithWorkerStatistics()
    {
        _observed.RecordBatch(_batch);
        _observed.Published(_batch, _now);
    }

    [Benchmark]
    public void RecentRing_Add() => _ring.Add(_batch);

    [Benchmark]
    public int RedisList_Serialize100()
    {
        var bytes = 0;
        for (var i = 400; i < 500; i++)
        {
            bytes += JsonSerializer.SerializeToUtf8Bytes(RecentClassification.From(_batch.Outputs[i].Classification), s_json).Length;
        }

        return bytes;
    }

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
}
