namespace AlertBroker.Cli.Tests;

/// <summary>
/// <c>simulate alerts</c> and the commands that read its output (<c>demo</c>, <c>replay --to-kafka</c>) at their edges,
/// run as the real program: values that hung, crashed or were taken without a word, streams that were mixed or cut
/// silently, and Confluent-framed streams that demo could not read.
/// </summary>
public sealed class SimulatedStreamEdgesTests : IDisposable
{
    private static readonly TimeSpan s_hangLimit = TimeSpan.FromSeconds(60);

    private readonly string _root = Directory.CreateTempSubdirectory("ab-sim-edges-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // 1e-14 objects a night placed the objects' peaks beyond MJD 2^53, where the schedule's night++ did not advance: the
    // run spun for ever (SIGINT ignored); demo with 1e-20 the same.
    [Theory]
    [InlineData("simulate", "alerts", "--nights", "1", "--no-cutouts", "--objects-per-night", "1e-14", "--out", "{out}")]
    [InlineData("demo", "{root}", "--nights", "1", "--objects-per-night", "1e-20")]
    public async Task TinyObjectsPerNight_ExitsTwoNamingTheOption(params string[] args)
    {
        var output = Path.Combine(_root, "tiny");
        var run = await AlertBrokerProcess.RunToEndAsync(args.Select(a => a.Replace("{out}", output, StringComparison.Ordinal).Replace("{root}", _root, StringComparison.Ordinal)), timeout: s_hangLimit);

        Assert.True(run.Code == 2, $"exit {run.Code}: {run.Output}");
        Assert.Contains("--objects-per-night must be in [0.001, 1000000], not 1E-", run.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    // Nights beyond the decoder's window were "would write about 1300 TB", exit 1: the disk was checked first.
    [Fact]
    public async Task NightsOutsideTheWindow_ExitTwoBeforeTheDiskIsAsked()
    {
        var run = await AlertBrokerProcess.RunToEndAsync(["simulate", "alerts", "--nights", "100000000", "--out", Path.Combine(_root, "far")]);

        Assert.True(run.Code == 2, $"exit {run.Code}: {run.Output}");
        Assert.Contains("100000000 nights of ztf alerts do not fit in the window the decoder accepts", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("would write", run.Output, StringComparison.Ordinal);
    }

    // It made newdir/, then failed "Access to the path … is denied" (exit 1) and left the folder.
    [Fact]
    public async Task AvroOutEndingInASlash_ExitsTwoAndCreatesNothing()
    {
        var place = Path.Combine(_root, "newdir") + "/";
        var run = await AlertBrokerProcess.RunToEndAsync(["simulate", "alerts", "--format", "avro", "--no-cutouts", "--objects-per-night", "3", "--out", place]);

        Assert.True(run.Code == 2, $"exit {run.Code}: {run.Output}");
        Assert.Contains("ends in '/', a directory; --out with --format avro takes a file to write", run.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(place));
    }

    // 58650.7 was taken as 58650 without a word (while 62999.5 was refused by the window).
    [Fact]
    public async Task FractionalStartMjd_ExitsTwo()
    {
        var output = Path.Combine(_root, "frac");
        var run = await AlertBrokerProcess.RunToEndAsync(["simulate", "alerts", "--start-mjd", "58650.7", "--no-cutouts", "--out", output]);

        Assert.True(run.Code == 2, $"exit {run.Code}: {run.Output}");
        Assert.Contains("--start-mjd is a night: a whole MJD such as 58650, not 58650.7.", run.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    // At a low rate on a night the weather leaves open (ZTF's default first night, seed 1), it blamed the weather.
    [Fact]
    public async Task LowRateOnAnOpenNight_SaysNoObjectWasDetected_NotTheWeather()
    {
        var run = await AlertBrokerProcess.RunToEndAsync(["simulate", "alerts", "--objects-per-night", "0.01", "--no-cutouts", "--out", Path.Combine(_root, "low")]);

        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Contains("the weather left 1 of them open, but at 0.01 transient(s) peaking per night no object was detected in them", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("nothing was observed", run.Stderr, StringComparison.Ordinal);
    }

    // Seed 1, then seed 2 into the same folder made one folder of two streams (replay read both; --labels covered the second).
    [Theory]
    [InlineData("files")]
    [InlineData("tar")]
    public async Task IntoAFolderHoldingAnotherStream_RefusedUnlessReplace_ThenOnlyTheNewStream(string format)
    {
        string[] Args(string output, string seed) => ["simulate", "alerts", "--nights", "2", "--objects-per-night", "5", "--no-cutouts", "--format", format, "--seed", seed, "--out", output];
        List<(string Name, byte[] Bytes)> Files(string dir) =>
            [.. Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(f => (Path.GetRelativePath(dir, f), File.ReadAllBytes(f)))];

        var output = Path.Combine(_root, "stream");
        Assert.Equal(0, (await AlertBrokerProcess.RunToEndAsync(Args(output, "1"))).Code);
        File.WriteAllText(Path.Combine(output, "notes.txt"), "mine");
        var first = Files(output);

        var again = await AlertBrokerProcess.RunToEndAsync(Args(output, "2"));
        Assert.True(again.Code == 2, $"exit {again.Code}: {again.Output}");
        Assert.Contains("already holds an alert stream", again.Stderr, StringComparison.Ordinal);
        Assert.Contains("--replace", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(first.Select(f => f.Name), Files(output).Select(f => f.Name));

        var replaced = await AlertBrokerProcess.RunToEndAsync([.. Args(output, "2"), "--replace"]);
        Assert.True(replaced.Code == 0, replaced.Output);
        var fresh = Path.Combine(_root, "fresh");
        Assert.Equal(0, (await AlertBrokerProcess.RunToEndAsync(Args(fresh, "2"))).Code);
        var expected = Files(fresh);
        var after = Files(output).Where(f => f.Name != "notes.txt").ToList();
        Assert.Equal(expected.Select(f => f.Name), after.Select(f => f.Name));
        Assert.All(expected.Zip(after), p => Assert.Equal(p.First.Bytes, p.Second.Bytes));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(output, "notes.txt")));
    }

    // The stream's classes (SNIIn among them) can be chosen, as for simulate lightcurves.
    [Fact]
    public async Task Classes_OnlyThoseAreInTheStream_AndAnUnknownOneExitsTwo()
    {
        var labels = Path.Combine(_root, "labels.csv");
        var run = await AlertBrokerProcess.RunToEndAsync(["simulate", "alerts", "--nights", "2", "--objects-per-night", "10", "--no-cutouts", "--classes", "SNIIn,TDE", "--out", Path.Combine(_root, "two"), "--labels", labels]);

        Assert.True(run.Code == 0, run.Output);
        var classes = File.ReadLines(labels).Skip(1).Select(l => l.Split(',')[1]).ToHashSet();
        Assert.Contains("SNIIn", classes);
        Assert.Subset(new HashSet<string> { "SNIIn", "TDE" }, classes);

        var bad = await AlertBrokerProcess.RunToEndAsync(["simulate", "alerts", "--classes", "Foo", "--no-cutouts", "--out", Path.Combine(_root, "foo")]);
        Assert.True(bad.Code == 2, bad.Output);
        Assert.Contains("unknown class 'Foo'", bad.Stderr, StringComparison.Ordinal);
    }

    // replay --to-kafka could not write the Rubin schema folder: "unexpected error (UnauthorizedAccessException)", exit 70.
    [Fact]
    public async Task ReplayToKafka_SchemaFolderCannotBeWritten_ExitsOneAndPublishesNothing()
    {
        var rubin = Path.Combine(_root, "rubin.avro");
        var made = await AlertBrokerProcess.RunToEndAsync(["simulate", "alerts", "--survey", "lsst", "--nights", "2", "--objects-per-night", "5", "--no-cutouts", "--format", "avro", "--out", rubin]);
        Assert.True(made.Code == 0, made.Output);

        // A --write-schemas folder that cannot be made: said before anything is read or connected.
        var given = await AlertBrokerProcess.RunToEndAsync(["replay", rubin, "--to-kafka", "--topic", "t", "--bootstrap-servers", "127.0.0.1:9", "--write-schemas", "/proc/alertbroker-nope"]);
        Assert.True(given.Code == 1, $"exit {given.Code}: {given.Output}");
        Assert.Contains("cannot write /proc/alertbroker-nope", given.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", given.Output, StringComparison.Ordinal);

        // The default ./replay-schemas, here a file in the working directory: said when the first Rubin alert needs it,
        // before Kafka is asked (nothing answers on port 9) and before anything is sent.
        var cwd = Directory.CreateDirectory(Path.Combine(_root, "cwd")).FullName;
        File.WriteAllText(Path.Combine(cwd, "replay-schemas"), "a file");
        var byDefault = await AlertBrokerProcess.RunToEndAsync(["replay", rubin, "--to-kafka", "--topic", "t", "--bootstrap-servers", "127.0.0.1:9"], workingDirectory: cwd);
        Assert.True(byDefault.Code == 1, $"exit {byDefault.Code}: {byDefault.Output}");
        Assert.Contains("cannot write " + Path.Combine(cwd, "replay-schemas"), byDefault.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing was published", byDefault.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("did not answer", byDefault.Output, StringComparison.Ordinal);
    }

    // demo had no --schema-dir/--schema-registry, and a Confluent-framed simulated stream was all SchemaNotFound dead letters.
    [Fact]
    public async Task Demo_ConfluentFramedSimulatedStream_ReadThroughItsSchemasFolder_OrSchemaDir()
    {
        var stream = Path.Combine(_root, "lsst-alerts");
        var made = await AlertBrokerProcess.RunToEndAsync(["simulate", "alerts", "--survey", "lsst", "--nights", "1", "--objects-per-night", "5", "--no-cutouts", "--framing", "confluent", "--out", stream]);
        Assert.True(made.Code == 0, made.Output);
        Assert.True(File.Exists(Path.Combine(stream, "schemas", "9002.avsc")));

        // The schemas/ folder simulate wrote beside the stream.
        var beside = await AlertBrokerProcess.RunToEndAsync(["demo", stream, "--nights", "0"], timeout: TimeSpan.FromMinutes(3));
        Assert.True(beside.Code == 0, $"exit {beside.Code}: {beside.Output}");
        Assert.Contains("0 dead letters", beside.Stdout, StringComparison.Ordinal);
        Assert.Contains("schemas: Confluent-wire inputs' schema ids from", beside.Stdout, StringComparison.Ordinal);

        // The alerts elsewhere, their schemas given with --schema-dir.
        var moved = Directory.CreateDirectory(Path.Combine(_root, "moved")).FullName;
        foreach (var file in Directory.GetFiles(stream, "*.avro", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(moved, Path.GetFileName(file)));
        }

        var given = await AlertBrokerProcess.RunToEndAsync(["demo", moved, "--nights", "0", "--schema-dir", Path.Combine(stream, "schemas")], timeout: TimeSpan.FromMinutes(3));
        Assert.True(given.Code == 0, $"exit {given.Code}: {given.Output}");
        Assert.Contains("0 dead letters", given.Stdout, StringComparison.Ordinal);

        var both = await AlertBrokerProcess.RunToEndAsync(["demo", moved, "--schema-dir", stream, "--schema-registry", "http://127.0.0.1:9"]);
        Assert.True(both.Code == 2, both.Output);
        Assert.Contains("--schema-registry and --schema-dir are two sources of schemas: give one", both.Stderr, StringComparison.Ordinal);
    }

    // inspect, replay and score read a Confluent-framed simulated stream through the schemas/ folder beside it, as demo
    // does: until 2026-12-08 every alert was a SchemaNotFound failure without --schema-dir (exit 1).
    [Fact]
    public async Task InspectReplayScore_ConfluentFramedSimulatedStream_ReadThroughItsSchemasFolder()
    {
        var stream = Path.Combine(_root, "lsst-wire");
        var made = await AlertBrokerProcess.RunToEndAsync(["simulate", "alerts", "--survey", "lsst", "--nights", "1", "--objects-per-night", "5", "--no-cutouts", "--framing", "confluent", "--out", stream]);
        Assert.True(made.Code == 0, made.Output);
        var files = Directory.GetFiles(stream, "*.avro", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        Assert.Contains("over 1 night,", made.Stderr, StringComparison.Ordinal);

        // A night folder (its parent holds schemas/) and one file of it.
        var night = Path.GetDirectoryName(files[0])!;
        foreach (var input in new[] { stream, night, files[0] })
        {
            var inspect = await AlertBrokerProcess.RunToEndAsync(["inspect", input, "--limit", "1"]);
            Assert.True(inspect.Code == 0, $"inspect {input}: exit {inspect.Code}: {inspect.Output}");
            Assert.DoesNotContain("SchemaNotFound", inspect.Output, StringComparison.Ordinal);
        }

        var replay = await AlertBrokerProcess.RunToEndAsync(["replay", stream, "--quiet"]);
        Assert.True(replay.Code == 0, $"exit {replay.Code}: {replay.Output}");
        Assert.Matches(string.Create(System.Globalization.CultureInfo.InvariantCulture, $@"│ alerts\s+│\s+{files.Length} │"), replay.Stdout);

        var score = await AlertBrokerProcess.RunToEndAsync(["score", stream, "--jsonl"], timeout: TimeSpan.FromMinutes(2));
        Assert.True(score.Code == 0, $"exit {score.Code}: {score.Output}");
        var scored = score.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(scored);
        Assert.All(scored, line => Assert.Contains("\"survey\":\"lsst\"", line, StringComparison.Ordinal));

        // Elsewhere without their schemas they still fail, and say why.
        var moved = Directory.CreateDirectory(Path.Combine(_root, "wire-moved")).FullName;
        File.Copy(files[0], Path.Combine(moved, Path.GetFileName(files[0])));
        var lost = await AlertBrokerProcess.RunToEndAsync(["inspect", moved]);
        Assert.True(lost.Code == 1, $"exit {lost.Code}: {lost.Output}");
    }

    // demo --nights 30 replayed the first 5,000 simulated alerts (13 nights) and said "5,000 ZTF alerts … (30 nights, …)".
    [Fact]
    public async Task Demo_SimulatedNightsCutByTheCap_SaysHowFarTheyGo()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        var run = await AlertBrokerProcess.RunToEndAsync(["demo", empty, "--nights", "30"], timeout: TimeSpan.FromMinutes(4));

        Assert.True(run.Code == 0, $"exit {run.Code}: {run.Output}");
        Assert.Contains("5,000 ZTF alerts from the survey simulator (30 nights, 40 transients peaking per night, no cutouts; cut at the demo's 5,000 simulated alerts: the first 13 night(s) whole and part of night 14", run.Stdout, StringComparison.Ordinal);
    }
}
