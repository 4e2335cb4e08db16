using System.IO.Compression;

namespace AlertBroker.Cli.Tests;

/// <summary><c>simulate</c> and <c>bench decode</c> on bad settings and bad inputs: one line and a non-zero exit (2 for a setting, 1 for an input), never an unexpected error; the simulator options reach the output.</summary>
public sealed class SimulateAndBenchCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-simulate-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // The program's own entry (a command line that does not parse exits 2, as in a shell).
    private static int Run(params string[] args) => AlertBrokerCommand.InvokeAsync(args).GetAwaiter().GetResult();

    [Theory]
    [InlineData("lightcurves", "--mix", "bogus")]
    [InlineData("lightcurves", "--classes", "Foo")]
    [InlineData("lightcurves", "--classes", "")]
    [InlineData("lightcurves", "--classes", "SNIa,SNIa")]
    [InlineData("lightcurves", "--survey", "hst")]
    [InlineData("lightcurves", "--detection-efficiency-mag", "-0.1")]
    [InlineData("lightcurves", "--detection-efficiency-mag", "9")]
    [InlineData("lightcurves", "--first-detection-sigma", "-1")]
    [InlineData("alerts", "--format", "zip")]
    [InlineData("alerts", "--framing", "xml")]
    public void BadSetting_ExitsTwoAndWritesNothing(string command, string option, string value)
    {
        var output = Path.Combine(_root, "out");
        Assert.Equal(2, Run("simulate", command, "--out", output, option, value));
        Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any());
    }

    [Fact]
    public void DetectionEfficiency_FewerDetectionsThanWithoutOnTheSameSeed()
    {
        int Detections(string dir)
        {
            using var gz = new GZipStream(File.OpenRead(Path.Combine(dir, "ztf_sim_lightcurves.csv.gz")), CompressionMode.Decompress);
            using var reader = new StreamReader(gz);
            Assert.Equal("object_id,mjd,band,flux,flux_err,detected", reader.ReadLine());
            var count = 0;
            while (reader.ReadLine() is { } line)
            {
                count += line.EndsWith(",1", StringComparison.Ordinal) ? 1 : 0;
            }

            return count;
        }

        var off = Path.Combine(_root, "off");
        var on = Path.Combine(_root, "on");
        Assert.Equal(0, Run("simulate", "lightcurves", "--n", "300", "--seed", "4", "--out", off));
        Assert.Equal(0, Run("simulate", "lightcurves", "--n", "300", "--seed", "4", "--detection-efficiency-mag", "0.5", "--out", on));
        Assert.InRange(Detections(on), 1, Detections(off) - 1);
    }

    [Fact]
    public void Parameters_AFileFromTune_ChangesTheSimulation_AndABrokenOneExitsOne()
    {
        var file = Path.Combine(_root, "tuned.json");
        File.WriteAllText(file, """
            {"survey": {"fieldNightProbability": 0.4, "limitingMagOffset": -0.05},
             "classes": [{"name": "SNIa", "peakAbsMag": -19.2, "peakAbsMagSigma": 0.15, "referenceWavelengthMicron": 0.44, "riseDays": 3,
                          "declineDays": 25, "peakTemperatureK": 16375, "lateTemperatureK": 6000, "coolingDays": 40,
                          "ratePerMpc3Yr": 3e-5, "riseShape": 1.8}]}
            """);
        var plain = Path.Combine(_root, "plain");
        var shaped = Path.Combine(_root, "shaped");
        Assert.Equal(0, Run("simulate", "lightcurves", "--n", "50", "--seed", "4", "--classes", "SNIa", "--out", plain));
        Assert.Equal(0, Run("simulate", "lightcurves", "--n", "50", "--seed", "4", "--classes", "SNIa", "--parameters", file, "--out", shaped));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(plain, "ztf_sim_lightcurves.csv.gz")), File.ReadAllBytes(Path.Combine(shaped, "ztf_sim_lightcurves.csv.gz")));

        File.WriteAllText(file, "{\"classes\": 3}");
        var output = Path.Combine(_root, "broken");
        Assert.Equal(1, Run("simulate", "lightcurves", "--n", "5", "--parameters", file, "--out", output));
        Assert.Equal(2, Run("simulate", "lightcurves", "--n", "5", "--parameters", Path.Combine(_root, "missing.json"), "--out", output)); // a usage error
        Assert.False(Directory.Exists(output));

        // simulate tune --start with a file that is not one: one line, exit 1, before any real data are read.
        var ids = Path.Combine(_root, "ids.txt");
        File.WriteAllText(ids, "ZTF00000000\n");
        Assert.Equal(1, Run("simulate", "tune", "--exclude-ids", ids, "--start", file, "--out", Path.Combine(_root, "tune")));
        Assert.False(Directory.Exists(Path.Combine(_root, "tune")));
    }

    // A class the simulated set lacks printed and wrote rows of NaN ("SNII peak_mag real 18.286 sim NaN KS NaN"), exit 0.
    [SharedDataFact]
    public void Compare_ASimulatedSetWithoutSomeClasses_ComparesTheOthersAndNamesWhatItLeftOut()
    {
        var sim = Path.Combine(_root, "sim-snia");
        Assert.Equal(0, Run("simulate", "lightcurves", "--n", "40", "--seed", "3", "--classes", "SNIa", "--bts", "--out", sim));
        var output = Path.Combine(_root, "cmp-snia");

        Assert.Equal(0, Run("simulate", "compare", "--real", SharedData.Path("labelled", "ztf-bts"), "--sim", sim, "--out", output));

        var report = File.ReadAllText(Path.Combine(output, "report.md"));
        Assert.DoesNotContain("NaN", report, StringComparison.Ordinal);
        Assert.Contains("Left out of the comparison: SNII (no simulated light curve), SNIbc (no simulated light curve), SLSN-I (no simulated light curve), TDE (no simulated light curve).", report, StringComparison.Ordinal);
        Assert.Contains("SNIa", report, StringComparison.Ordinal);

        // One simulated light curve per class: quantities it cannot measure (colour in the first 5 days) are "–", not NaN.
        var tiny = Path.Combine(_root, "cmp-n1");
        Assert.Equal(0, Run("simulate", "compare", "--n", "1", "--real", SharedData.Path("labelled", "ztf-bts"), "--out", tiny));
        var tinyReport = File.ReadAllText(Path.Combine(tiny, "report.md"));
        Assert.DoesNotContain("NaN", tinyReport, StringComparison.Ordinal);
        Assert.Contains("| 0 | ", tinyReport, StringComparison.Ordinal);
    }

    // An --exclude-ids list that names no object of the real set (one made for another set) left nothing out without a
    // word ("without the 0 ids"); for tune, the part the list was to keep out was tuned on. Refused; a partial match is said.
    [Fact]
    public async Task Compare_ExcludeIdsThatMatchNoRealObject_IsRefused_SomeNotFound_AreSaid()
    {
        var set = Path.Combine(_root, "set");
        Assert.Equal(0, Run("simulate", "lightcurves", "--n", "30", "--seed", "4", "--out", set));
        var firstId = File.ReadLines(Directory.GetFiles(set, "*_metadata.csv").Single()).Skip(1).First().Split(',')[0];
        var none = Path.Combine(_root, "none.txt");
        File.WriteAllText(none, "ZTF00other1\nZTF00other2\n");
        var some = Path.Combine(_root, "some.txt");
        File.WriteAllText(some, $"{firstId}\nZTF00other2\n");

        var refused = await AlertBrokerProcess.RunToEndAsync(["simulate", "compare", "--real", set, "--sim", set, "--exclude-ids", none, "--out", Path.Combine(_root, "c1")]);
        var partial = await AlertBrokerProcess.RunToEndAsync(["simulate", "compare", "--real", set, "--sim", set, "--exclude-ids", some, "--out", Path.Combine(_root, "c2")]);

        Assert.True(refused.Code == 2, refused.Output);
        static string Flat(string text) => string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
        Assert.Contains("noneofthe2idsin--exclude-ids", Flat(refused.Stderr), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "c1")) && Directory.EnumerateFileSystemEntries(Path.Combine(_root, "c1")).Any());
        Assert.True(partial.Code == 0, partial.Output);
        Assert.Contains("warning:1ofthe2idsin--exclude-ids", Flat(partial.Stderr), StringComparison.Ordinal);
        Assert.Contains("without the 1 ids", File.ReadAllText(Path.Combine(_root, "c2", "report.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void CompareWithoutASimulatedPair_ExitsOneWithOneLine()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        Assert.Equal(1, Run("simulate", "compare", "--real", empty, "--sim", empty, "--out", Path.Combine(_root, "cmp")));
    }

    // A run shorter than one pass measured nothing: "mean NaN KiB", "Infinity bytes per alert", exit 0.
    [SharedDataFact]
    public async Task BenchDecode_ATinyDuration_MeasuresOnePassAtLeast()
    {
        var run = await AlertBrokerProcess.RunToEndAsync(["bench", "decode", "--seconds", "1e-6", SharedData.Path("alert-samples", "ztf")]);

        Assert.True(run.Code == 0, run.Output);
        Assert.DoesNotContain("NaN", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Infinity", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("decoded:  0 alerts", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BenchDecode_MessagesThatDoNotDecode_AreLeftOutNotThrown()
    {
        var garbage = Path.Combine(_root, "garbage.avro");
        File.WriteAllBytes(garbage, [.. Enumerable.Range(0, 3000).Select(i => (byte)((i * 37) + 11))]);
        Assert.Equal(1, Run("bench", "decode", garbage)); // nothing left to time

        if (SharedData.Root is not null)
        {
            var sample = Directory.GetFiles(SharedData.Path("alert-samples", "ztf"), "*.avro")[0];
            var both = await AlertBrokerProcess.RunToEndAsync(["bench", "decode", garbage, sample, "--seconds", "0.2"]);
            Assert.True(both.Code == 0, both.Output);

            // Why it was left out, as inspect says it (it named the file alone).
            Assert.Contains("  " + garbage + ": ", both.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task BenchPipeline_FilesOfWhichNothingDecodes_ExitsOneInsteadOfMeasuringDeadLetters()
    {
        // Was exit 0 with "0 alerts/s (0 alerts …); 1 dead letter" reported as the measurement.
        var garbage = Path.Combine(_root, "garbage.avro");
        File.WriteAllBytes(garbage, [.. Enumerable.Range(0, 3000).Select(i => (byte)((i * 37) + 11))]);
        string[] quick = ["bench", "pipeline", "--mode", "embedded", "--seconds", "0.2", "--sim-nights", "0", "--objects", "0"];
        var run = await AlertBrokerProcess.RunToEndAsync([.. quick, garbage]);
        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Contains("bench pipeline: no alert decodes in " + garbage + " (1 message read): nothing to measure", run.Stderr, StringComparison.Ordinal);

        if (SharedData.Root is not null)
        {
            var sample = Directory.GetFiles(SharedData.Path("alert-samples", "ztf"), "*.avro")[0];
            var mixed = await AlertBrokerProcess.RunToEndAsync([.. quick, garbage, sample]);
            Assert.True(mixed.Code == 0, $"exit {mixed.Code}: {mixed.Output}");
            Assert.Contains("1 of 2 messages do not decode (measured as the dead letters they are to the worker)", mixed.Stderr, StringComparison.Ordinal);
            Assert.Contains("real samples (2 messages", mixed.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task BenchPipeline_Device_NamesTheExecutionProviderAndRefusesCudaOnTheCpuBuild()
    {
        // --device reaches every model the benchmark loads (it had none: the CUDA build could not be measured).
        var model = TestModelPackages.Export(Path.Combine(_root, "device", "1"), "device-gru", "1", seed: 3);
        string[] quick = ["bench", "pipeline", "--model", model, "--mode", "embedded", "--seconds", "0.2", "--sim-nights", "0", "--objects", "20"];

        var cpu = await AlertBrokerProcess.RunToEndAsync([.. quick, "--device", "cpu"]);
        Assert.True(cpu.Code == 0, $"exit {cpu.Code}: {cpu.Output}");
        Assert.Contains("model: device-gru 1 (", cpu.Output, StringComparison.Ordinal);
        Assert.Contains(", on CPU", cpu.Output, StringComparison.Ordinal);

        var cuda = await AlertBrokerProcess.RunToEndAsync([.. quick, "--device", "cuda"]);
        Assert.True(cuda.Code == 3, $"exit {cuda.Code}: {cuda.Output}");
        Assert.Contains("model unusable (execution provider unavailable)", cuda.Stderr, StringComparison.Ordinal);
        Assert.Contains("OnnxRuntimeFlavour=Gpu", cuda.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("alerts/s", cuda.Output, StringComparison.Ordinal);
    }

    // Found by the CLI hunt (2026-12-07): ZTF alerts benchmarked with an LSST-only model printed tens of thousands of
    // alerts/s, exit 0, with "scoring: none 100%" the only hint that nothing was scored.
    [SharedDataFact]
    public async Task BenchPipeline_NoAlertScored_SaysTheFigureMeasuresNoScoring()
    {
        var lsst = TestModelPackages.Export(Path.Combine(_root, "lsst-only", "1"), "lsst-only", "1", seed: 3, surveys: ["lsst"]);
        var ztf = TestModelPackages.Export(Path.Combine(_root, "ztf-too", "1"), "ztf-too", "1", seed: 3, surveys: ["ztf"]);
        string[] quick = ["bench", "pipeline", SharedData.Path("alert-samples", "ztf-real-50"), "--mode", "embedded", "--seconds", "0.2", "--sim-nights", "0", "--objects", "0"];

        var none = await AlertBrokerProcess.RunToEndAsync([.. quick, "--model", lsst]);
        var scored = await AlertBrokerProcess.RunToEndAsync([.. quick, "--model", ztf]);

        Assert.True(none.Code == 0, $"exit {none.Code}: {none.Output}");
        Assert.Contains("noalertwasscored:thisfiguremeasuresdecodingandstoringonly", Squeezed(none.Stderr), StringComparison.Ordinal);
        Assert.Contains("nomodelservesztf", Squeezed(none.Stderr), StringComparison.Ordinal); // the classifications' own reason
        Assert.True(scored.Code == 0, $"exit {scored.Code}: {scored.Output}");
        Assert.DoesNotContain("no alert was scored", scored.Stderr, StringComparison.Ordinal);

        static string Squeezed(string text) => string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
    }

    [Theory]
    [InlineData("files", "zstandard")]
    [InlineData("tar", "snappy")]
    [InlineData("avro", "bzip2")]
    [InlineData("files", "deflate")]
    public void SimulateAlerts_WithACodec_ReplaysToTheSameAlerts(string format, string codec)
    {
        // The same stream written uncompressed and with the codec: every message's container says the codec, and
        // replay normalises both to the same alerts, byte for byte.
        string Write(string c)
        {
            var output = Path.Combine(_root, $"{format}-{c}") + (format == "avro" ? ".avro" : "");
            Assert.Equal(0, Run("simulate", "alerts", "--nights", "2", "--objects-per-night", "15", "--no-cutouts", "--seed", "11", "--format", format, "--codec", c, "--out", output));
            return output;
        }

        var plain = Write("null");
        var packed = Write(codec);
        var message = format switch
        {
            "avro" => File.ReadAllBytes(packed),
            "files" => File.ReadAllBytes(Directory.EnumerateFiles(packed, "*.avro", SearchOption.AllDirectories).First()),
            _ => FirstTarEntry(Directory.EnumerateFiles(packed, "*.tar.gz", SearchOption.AllDirectories).First()),
        };
        Assert.Equal(codec, AlertBroker.Avro.AvroContainerReader.Open(message).Header.Codec);

        var plainOut = Path.Combine(_root, "plain.jsonl");
        var packedOut = Path.Combine(_root, "packed.jsonl");
        Assert.Equal(0, Run("replay", plain, "--quiet", "--out", plainOut));
        Assert.Equal(0, Run("replay", packed, "--quiet", "--out", packedOut));
        var alerts = File.ReadAllLines(plainOut);
        Assert.True(alerts.Length > 20, $"only {alerts.Length} alerts");
        Assert.Equal(alerts, File.ReadAllLines(packedOut));
    }

    private static byte[] FirstTarEntry(string archive)
    {
        using var gzip = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress);
        using var tar = new System.Formats.Tar.TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.DataStream is { } data)
            {
                using var copy = new MemoryStream();
                data.CopyTo(copy);
                return copy.ToArray();
            }
        }

        throw new InvalidOperationException($"{archive} holds no file");
    }

    [Fact]
    public async Task SimulateAlerts_NoAlertInTheNights_ExitsOneSayingWhy()
    {
        // LSST's default first night (MJD 61000) is clouded out for the default seed: such a night wrote no alert, exit 0.
        var output = Path.Combine(_root, "lsst-night");
        var run = await AlertBrokerProcess.RunToEndAsync(["simulate", "alerts", "--survey", "lsst", "--no-cutouts", "--start-mjd", "61000", "--out", output]);

        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Contains("simulate alerts: no alert in 1 night(s): nothing was observed", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("give more --nights", run.Stderr, StringComparison.Ordinal);

        // The next night has alerts: two nights are a stream.
        var two = await AlertBrokerProcess.RunToEndAsync(["simulate", "alerts", "--survey", "lsst", "--no-cutouts", "--start-mjd", "61000", "--nights", "2", "--out", Path.Combine(_root, "lsst-nights")]);
        Assert.True(two.Code == 0, two.Output);
    }

    // With every default, simulate alerts --survey lsst was that clouded night: exit 1. Without --start-mjd the first night
    // is now the first one from the survey's default that the weather leaves open for the seed.
    [Fact]
    public async Task SimulateAlerts_LsstDefaults_StartOnAnOpenNightAndWriteAlerts()
    {
        var output = Path.Combine(_root, "lsst-default");
        var run = await AlertBrokerProcess.RunToEndAsync(["simulate", "alerts", "--survey", "lsst", "--no-cutouts", "--out", output]);

        Assert.True(run.Code == 0, $"exit {run.Code}: {run.Output}");
        Assert.NotEmpty(Directory.GetFiles(output, "*.avro", SearchOption.AllDirectories));
    }

    // A run without an alert replaced an existing container with an empty one, an existing labels file with its header,
    // and left an empty night folder or archive, while stdout named the output as written.
    [Theory]
    [InlineData("avro")]
    [InlineData("files")]
    [InlineData("tar")]
    public async Task SimulateAlerts_NoAlert_LeavesWhatOutHeldAsItWasAndWritesNothing(string format)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_root, "keep-" + format)).FullName;
        var output = Path.Combine(dir, format == "avro" ? "stream.avro" : "out");
        var labels = Path.Combine(dir, "labels.csv");
        var earlier = await AlertBrokerProcess.RunToEndAsync(["simulate", "alerts", "--survey", "lsst", "--no-cutouts", "--nights", "2", "--format", "avro", "--out", Path.Combine(dir, "stream.avro"), "--labels", labels]);
        Assert.True(earlier.Code == 0, earlier.Output);
        var before = Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(f => (f, File.ReadAllBytes(f))).ToList();

        var run = await AlertBrokerProcess.RunToEndAsync(["simulate", "alerts", "--survey", "lsst", "--no-cutouts", "--start-mjd", "61000", "--format", format, "--out", output, "--labels", labels]);

        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Contains("and nothing was written", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(output, run.Stdout, StringComparison.Ordinal);
        var after = Directory.GetFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(before.Select(b => b.f), after);
        Assert.All(before, b => Assert.Equal(b.Item2, File.ReadAllBytes(b.f)));
    }

    // A container and labels that are not regular files are written straight, not under a hidden name moved over them.
    [Fact]
    public async Task SimulateAlerts_ToADevice_WritesStraightAndLeavesTheDevice()
    {
        var run = await AlertBrokerProcess.RunToEndAsync(["simulate", "alerts", "--survey", "lsst", "--no-cutouts", "--nights", "2", "--format", "avro", "--out", "/dev/null", "--labels", "/dev/stdout"]);

        Assert.True(run.Code == 0, run.Output);
        Assert.Equal(AlertBroker.Alerts.Archives.FileKind.CharacterDevice, AlertBroker.Alerts.Archives.FileType.Of("/dev/null"));
        Assert.Contains("object_id,class,redshift,mwebv", run.Stdout, StringComparison.Ordinal);
    }

    // A CSV file for --real or --sim read as "no real set: pass --real DIR" (although --real was given) or "Could not find a
    // part of the path": the sets are directories, and a file is a usage error naming the option.
    [Theory]
    [InlineData("compare", "--real")]
    [InlineData("compare", "--sim")]
    [InlineData("tune", "--real")]
    public void SimulateCompareOrTune_AFileWhereTheSetsDirectoryGoes_IsAParseErrorNamingTheOption(string sub, string option)
    {
        var file = Path.Combine(_root, "ztf_sim_metadata.csv");
        File.WriteAllText(file, "object_id,class\n");

        var parse = AlertBrokerCommand.Create().Parse(["simulate", sub, option, file, "--exclude-ids", file]);

        Assert.Contains(parse.Errors, e => e.Message.Contains(option, StringComparison.Ordinal) && e.Message.Contains(file, StringComparison.Ordinal));
    }

    // Labels to a device that takes nothing failed only after every alert file was written (40 files left, exit 1).
    [Fact]
    public async Task SimulateAlerts_LabelsToAFullDevice_FailsBeforeWritingTheStream()
    {
        var output = Path.Combine(_root, "full-labels");

        var run = await AlertBrokerProcess.RunToEndAsync(["simulate", "alerts", "--no-cutouts", "--objects-per-night", "3", "--out", output, "--labels", "/dev/full"]);

        Assert.True(run.Code == 1, run.Output);
        Assert.Contains("/dev/full", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("alerts from", run.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any(), "the stream was written");
    }

    [Theory]
    [InlineData("bench", "pipeline", "--objects", "-5")]
    [InlineData("bench", "pipeline", "--batch-size", "0")]
    [InlineData("bench", "pipeline", "--seconds", "-1")]
    [InlineData("bench", "decode", "--seconds", "NaN")]
    [InlineData("replay", null, "--rate", "-1")]
    [InlineData("replay", null, "--repeat", "0")]
    [InlineData("replay", null, "--limit", "-1")]
    [InlineData("inspect", null, "--limit", "0")]
    [InlineData("demo", null, "--nights", "-1")]
    [InlineData("demo", null, "--objects-per-night", "0")]
    [InlineData("simulate", "lightcurves", "--n", "0")]
    [InlineData("simulate", "alerts", "--nights", "-2")]
    [InlineData("simulate", "compare", "--n", "-5")]
    [InlineData("simulate", "tune", "--per-class", "0")]
    [InlineData("simulate", "tune", "--per-class", "2147483647")]
    [InlineData("simulate", "tune", "--rounds", "1001")]
    public void CountOrRateOutOfRange_IsAParseErrorNamingTheOption(string command, string? sub, string option, string value)
    {
        var args = new List<string> { command };
        if (sub is not null)
        {
            args.Add(sub);
        }

        args.AddRange([option, value]);
        var parse = AlertBrokerCommand.Create().Parse(args);
        Assert.Contains(parse.Errors, e => e.Message.StartsWith(option + " must be ", StringComparison.Ordinal));
    }
}
