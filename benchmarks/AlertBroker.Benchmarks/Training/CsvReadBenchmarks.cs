using System.IO.Compression;
using AlertBroker.Alerts.Csv;
using AlertBroker.Training.Data;
using BenchmarkDotNet.Attributes;

namespace AlertBroker.Benchmarks.Training;

/// <summary>
/// The trainer's CSV reader on the shared ZTF BTS pair (56,295 light-curve rows, 1,605 labelled objects): as stored (gzip) and
/// decompressed to a temporary folder first, so the second figure is the CSV reading alone; and the decompressed light
/// curves' records cut into cells alone (<see cref="CsvRecordReader"/>, no number parsing), the part a change to the
/// record reader moves.
/// </summary>
[MemoryDiagnoser]
public class CsvReadBenchmarks
{
    private string _gz = string.Empty;
    private string _plain = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        _gz = Path.Combine(BenchmarkData.SharedDirectory(), "labelled", "ztf-bts");
        _plain = Path.Combine(Path.GetTempPath(), "alertbroker-csv-bench-" + Environment.ProcessId, "ztf-bts");
        Directory.CreateDirectory(_plain);
        File.Copy(Path.Combine(_gz, "ztf_bts_train_metadata.csv"), Path.Combine(_plain, "ztf_bts_train_metadata.csv"), overwrite: true);
        using var source = new GZipStream(File.OpenRead(Path.Combine(_gz, "ztf_bts_train_lightcurves.csv.gz")), CompressionMode.Decompress);
        using var target = File.Create(Path.Combine(_plain, "ztf_bts_train_lightcurves.csv"));
        source.CopyTo(target);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(Path.GetDirectoryName(_plain)!, recursive: true);

    [Benchmark]
    public int ReadGzip() => LightCurveCsvReader.Read(_gz).Objects.Count;

    [Benchmark(Baseline = true)]
    public int ReadPlain() => LightCurveCsvReader.Read(_plain).Objects.Count;

    [Benchmark]
    public long FieldsPlain()
    {
        var path = Path.Combine(_plain, "ztf_bts_train_lightcurves.csv");
        using var text = new StreamReader(path);
        using var reader = new CsvRecordReader(text, path);
        long chars = 0;
        while (reader.ReadFields() is { } cells)
        {
            foreach (var cell in cells)
            {
                chars += cell.Length;
            }
        }

        return chars;
    }
}
