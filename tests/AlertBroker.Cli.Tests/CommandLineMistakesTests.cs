namespace AlertBroker.Cli.Tests;

/// <summary>
/// What a newcomer's typo does: an input path that does not exist is a usage error naming it (exit 2) for every command
/// that reads alert files — never a run over nothing, or over the defaults, that ends in exit 0; a directory without
/// alerts says so (exit 1); a registry directory that does not exist is not read as an empty registry; a bad --survey is
/// one line without .NET's parameter suffix; evaluate takes no training settings and does not evaluate every object when
/// it was given the ids of a part; split says when it cannot write its output; train refuses a single class. Run as the built program (stderr and exit code as a shell sees them).
/// </summary>
public sealed class CommandLineMistakesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-input-paths-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // Redirected to a file or a pipe, stderr and stdout carried colour escape codes ("\u001b[38;5;9m…") into every log.
    // alertbroker alone exited 1 while every command group alone (alertbroker models) exits 2: both are usage errors.
    [Theory]
    [InlineData]
    [InlineData("models")]
    [InlineData("simulate")]
    public async Task NoCommand_SaysSo_ExitTwo(params string[] args)
    {
        var (code, output, _) = await AlertBrokerProcess.RunAsync(args);

        Assert.True(code == 2, $"exit {code}: {output}");
        Assert.Contains("Required command was not provided", output, StringComparison.Ordinal);
        if (args.Length == 0)
        {
            Assert.Contains("Usage:", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Redirected_NoColourEscapeCodes()
    {
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["split", "--data", Path.Combine(_root, "typo"), "--classes", "A,B", "--out", Path.Combine(_root, "ids.txt")]);
        Assert.Equal(2, code);
        Assert.DoesNotContain('\u001b', output);

        var model = Path.Combine(SharedData.RepositoryRoot()!, "models", "ztf-bts", "2.7.0");
        var (inspected, inspectOutput, stdout) = await AlertBrokerProcess.RunAsync(["models", "inspect", model]);
        Assert.True(inspected == 0, inspectOutput);
        Assert.Contains("ztf-bts", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', inspectOutput);
    }

    [Theory]
    [InlineData("inspect")]
    [InlineData("replay")]
    [InlineData("score")]
    [InlineData("demo")]
    [InlineData("bench decode")]
    [InlineData("bench pipeline")]
    public async Task MissingInputPath_UsageErrorNamingIt(string command)
    {
        var missing = Path.Combine(_root, "no-such-night");
        var (code, output, _) = await AlertBrokerProcess.RunAsync([.. command.Split(' '), missing]);

        Assert.Equal(2, code);
        Assert.Contains("no such file or directory: " + missing, output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingInputPath_BesideAnExistingOne_StillRefused()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        var missing = Path.Combine(_root, "typo");
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["replay", empty, missing]);

        Assert.Equal(2, code);
        Assert.Contains("no such file or directory: " + missing, output, StringComparison.Ordinal);
        Assert.DoesNotContain("no such file or directory: " + empty, output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("inspect", "no alerts found in")]
    [InlineData("score", "no alert could be read from")]
    [InlineData("replay", "no alert could be read")]
    public async Task DirectoryWithoutAlerts_SaysSoAndExitsOne(string command, string message)
    {
        var empty = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        var (code, output, _) = await AlertBrokerProcess.RunAsync([command, empty]);

        Assert.Equal(1, code);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("status")]
    [InlineData("rollback")]
    public async Task RegistryDirectoryMissing_NotReadAsEmpty_UsageError(string command)
    {
        // Exit 2 as run --model-registry-dir and score --registry give for the same mistake (it was 1).
        var missing = Path.Combine(_root, "registry-typo");
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["models", command, "--registry", missing]);

        Assert.Equal(2, code);
        Assert.Contains("no registry directory " + missing, output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }

    // An empty value (what `--redis "$REDIS"` gives when the variable is unset) was read as "not given": models list fell
    // back to the local directory registry ("no registry directory models", exit 1), run to "AlertBroker:State:Redis is
    // required" or, for --model-registry-redis, to no registry at all; an empty --prefix reached Redis.
    [Theory]
    [InlineData("models list --redis", "--redis")]
    [InlineData("models status --registry", "--registry")]
    [InlineData("models promote m@1 --redis 127.0.0.1:1 --prefix", "--prefix")]
    [InlineData("models migrate --redis 127.0.0.1:1 --prefix", "--prefix")]
    [InlineData("score x.avro --redis", "--redis")]
    [InlineData("score x.avro --redis 127.0.0.1:1 --prefix", "--prefix")]
    [InlineData("run --random-model --redis", "--redis")]
    [InlineData("run --random-model --model-registry-redis", "--model-registry-redis")]
    [InlineData("serve --redis", "--redis")]
    [InlineData("finetune --registry", "--registry")]
    public async Task EmptyEndpointRegistryOrPrefix_UsageErrorNamingTheOption(string command, string option)
    {
        var (code, output, _) = await AlertBrokerProcess.RunAsync([.. command.Split(' '), string.Empty]);

        Assert.True(code == 2, $"exit {code}: {output}");
        Assert.Contains($"{option} needs a value, not an empty string", output, StringComparison.Ordinal);
        Assert.DoesNotContain("no registry directory", output, StringComparison.Ordinal);
        Assert.DoesNotContain("unreachable", output, StringComparison.Ordinal);
    }

    // Bootstrap servers that cannot be right were handed to librdkafka, which made something of them ("host:" host:0,
    // ":9092" localhost:9092, port 70000 the port 4464) and failed to connect: exit 4 "did not answer" after the wait.
    // consume --redrive to a name Kafka refuses said "2 re-driven" (exit 0); to the topic being read wrote the payloads back
    // into it; --timeout 1e-8 rounded to "wait until Ctrl-C" and never stopped.
    [Theory]
    [InlineData("consume --topic t --bootstrap-servers 127.0.0.1:70000", "'127.0.0.1:70000' has the port '70000'")]
    [InlineData("consume --topic t --bootstrap-servers host:", "'host:' has the port ''")]
    [InlineData("consume --topic t --bootstrap-servers :9092", "':9092' has no host")]
    [InlineData("consume --topic t --bootstrap-servers a,,b", "has an empty entry")]
    [InlineData("replay {file} --to-kafka --topic t --bootstrap-servers 127.0.0.1:0", "'127.0.0.1:0' has the port '0'")]
    [InlineData("run --in-memory --random-model --topic t --http-port 0 --bootstrap-servers h:-1", "AlertBroker:Kafka:BootstrapServers is not a list of host:port: 'h:-1' has the port '-1'")]
    [InlineData("consume --topic dlq --bootstrap-servers h:1 --kind CorruptAvro --redrive bad/topic", "--redrive 'bad/topic' is not a Kafka topic name")]
    [InlineData("consume --topic dlq --bootstrap-servers h:1 --kind CorruptAvro --redrive dlq", "--redrive dlq is also a --topic read here")]
    [InlineData("consume --topic dlq --bootstrap-servers h:1 --timeout 0.00000001", "--timeout must be 0 (wait until Ctrl-C) or at least 0.001 seconds")]
    public async Task KafkaSettingThatCannotBeRight_UsageErrorAtOnce(string command, string expected)
    {
        var file = Path.Combine(_root, "x.avro");
        File.WriteAllBytes(file, [1, 2, 3]);
        var (code, output, _) = await AlertBrokerProcess.RunAsync(command.Replace("{file}", file, StringComparison.Ordinal).Split(' '));

        Assert.True(code == 2, $"exit {code}: {output}");
        Assert.Contains(expected.Replace(" ", string.Empty, StringComparison.Ordinal), output.Replace(" ", string.Empty, StringComparison.Ordinal).ReplaceLineEndings(string.Empty), StringComparison.Ordinal);
        Assert.DoesNotContain("did not answer", output, StringComparison.Ordinal);
    }

    // "… must be less than or equal to '65535'. (Parameter 'port')\nActual value was 99999. (Parameter 'endpoints')": the
    // names of .NET parameters and a second line, shown to the operator as they were.
    [Theory]
    [InlineData("models list --redis host:99999", "--redis: Redis endpoints 'host:99999' cannot be parsed")]
    [InlineData("models list --redis x=y", "--redis: Redis endpoints 'x=y' cannot be parsed")]
    [InlineData("run --in-memory --random-model --bootstrap-servers b:9092 --topic t --http-port 0 --model-registry-redis host:99999", "AlertBroker:Model:RegistryRedis: Redis endpoints 'host:99999' cannot be parsed")]
    public async Task UnparsableRedisEndpoints_OneLineWithoutDotNetParameterNames(string command, string expected)
    {
        var (code, output, _) = await AlertBrokerProcess.RunAsync(command.Split(' '));

        Assert.True(code == 2, $"exit {code}: {output}");
        var line = Assert.Single(output.Split('\n'), l => l.Contains(expected, StringComparison.Ordinal));
        Assert.DoesNotContain("(Parameter", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Actual value was", output, StringComparison.Ordinal);
        Assert.EndsWith(".", line.TrimEnd(), StringComparison.Ordinal);
    }

    // "a,,b" was read as the two hosts a and b, each "a:0": "Redis at a:0,b:0 is unreachable", exit 4 (score read its
    // input first and then exited 1). An empty entry is a bad setting; a host without a port means 6379.
    [Theory]
    [InlineData("models list --redis a,,b", "--redis: Redis endpoints 'a,,b' have an empty entry")]
    [InlineData("models list --redis 127.0.0.1:1,", "--redis: Redis endpoints '127.0.0.1:1,' have an empty entry")]
    [InlineData("score no-such-input --redis a,,b", "--redis: Redis endpoints 'a,,b' have an empty entry")]
    [InlineData("run --random-model --redis ,a", "--redis: Redis endpoints ',a' have an empty entry")]
    [InlineData("serve --redis a,,b", "--redis: Redis endpoints 'a,,b' have an empty entry")]
    public async Task RedisEndpointsWithAnEmptyEntry_UsageErrorNamingTheOption(string command, string expected)
    {
        var (code, output, _) = await AlertBrokerProcess.RunAsync(command.Split(' '));

        Assert.True(code == 2, $"exit {code}: {output}");
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.DoesNotContain(":0", output, StringComparison.Ordinal);
        Assert.DoesNotContain("unreachable", output, StringComparison.Ordinal);
    }

    // score with $ALERTBROKER_REDIS="a,,b" read its input and then exited 1 ("refused or failed"); models list exits 2.
    [Theory]
    [InlineData("models list")]
    [InlineData("score INPUT")]
    public async Task RedisVariableWithAnEmptyEntry_UsageError(string command)
    {
        var input = Path.Combine(_root, "a.avro");
        Assert.Equal(0, (await AlertBrokerProcess.RunAsync(["simulate", "alerts", "--out", input, "--format", "avro", "--no-cutouts", "--objects-per-night", "2"])).Code);

        var (code, output, _) = await AlertBrokerProcess.RunAsync(
            command.Replace("INPUT", input, StringComparison.Ordinal).Split(' '),
            new Dictionary<string, string?> { ["ALERTBROKER_REDIS"] = "a,,b" });

        Assert.True(code == 2, $"exit {code}: {output}");
        Assert.Contains("--redis ($ALERTBROKER_REDIS): Redis endpoints 'a,,b' have an empty entry", output, StringComparison.Ordinal);
    }

    // An explicit --registry wins over the variable (it was used even so: here, its bad value was the error).
    [Theory]
    [InlineData("models list --registry REG")]
    [InlineData("score INPUT --registry REG")]
    public async Task RedisVariableSet_ExplicitRegistryDirectoryIsUsed(string command)
    {
        var input = Path.Combine(_root, "b.avro");
        Assert.Equal(0, (await AlertBrokerProcess.RunAsync(["simulate", "alerts", "--out", input, "--format", "avro", "--no-cutouts", "--objects-per-night", "2"])).Code);
        var registry = Directory.CreateDirectory(Path.Combine(_root, "reg-" + Guid.NewGuid().ToString("N")[..6])).FullName;
        var package = TestModelPackages.Export(Path.Combine(_root, "pkg-" + Guid.NewGuid().ToString("N")[..6]), "dir-gru", "1", 3, classes: ["a", "b"]);
        Assert.Equal(0, (await AlertBrokerProcess.RunAsync(["models", "push", package, "--registry", registry])).Code);

        var (code, output, stdout) = await AlertBrokerProcess.RunAsync(
            command.Replace("INPUT", input, StringComparison.Ordinal).Replace("REG", registry, StringComparison.Ordinal).Split(' '),
            new Dictionary<string, string?> { ["ALERTBROKER_REDIS"] = "a,,b" });

        Assert.True(code == 0, $"exit {code}: {output}");
        Assert.Contains("dir-gru", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RedisStateVariableWithAnEmptyEntry_UsageErrorNamingTheKey()
    {
        var (code, output, _) = await AlertBrokerProcess.RunAsync(
            ["run", "--random-model", "--bootstrap-servers", "b:9092", "--topic", "t", "--http-port", "0"],
            new Dictionary<string, string?> { ["AlertBroker__State__Redis"] = "a,,b" });

        Assert.True(code == 2, $"exit {code}: {output}");
        Assert.Contains("AlertBroker:State:Redis: Redis endpoints 'a,,b' have an empty entry", output, StringComparison.Ordinal);
    }

    // An empty AlertBroker__State__Redis said "AlertBroker:State:Redis is required when Store is Redis", naming neither the
    // environment variable's spelling nor the --redis option of run.
    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public async Task RedisStateVariableEmpty_NamesTheKeyAndTheOption(string value)
    {
        var (code, output, _) = await AlertBrokerProcess.RunAsync(
            ["run", "--random-model", "--bootstrap-servers", "b:9092", "--topic", "t", "--http-port", "0"],
            new Dictionary<string, string?> { ["AlertBroker__State__Redis"] = value });

        Assert.True(code == 2, $"exit {code}: {output}");
        var line = Assert.Single(output.Split('\n'), l => l.Contains("AlertBroker:State:Redis is empty", StringComparison.Ordinal));
        Assert.Contains("--redis", line, StringComparison.Ordinal);
        Assert.Contains("AlertBroker__State__Redis", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RedisHostWithoutPort_UnreachableMessageShowsTheDefaultPort()
    {
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["models", "list", "--redis", "nohost.invalid"]);

        Assert.True(code == 4, $"exit {code}: {output}");
        Assert.Contains("Redis at nohost.invalid:6379 is unreachable", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--epochs", "3")]
    [InlineData("--distill-from", "x")]
    [InlineData("--augment-shift-mag", "0.5")]
    public async Task Evaluate_TrainingSetting_IsNotAnOption(string option, string value)
    {
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["evaluate", option, value, "--model", "m", "--data", "d"]);

        Assert.Equal(2, code);
        Assert.Contains($"Unrecognized command or argument '{option}'", output, StringComparison.Ordinal);

        // After --data (which takes several paths) the parser hands it over as a path: still named, still refused.
        (code, output, _) = await AlertBrokerProcess.RunAsync(["evaluate", "--model", "models/ztf-bts/2.7.0", "--data", "d", option, value]);
        Assert.NotEqual(0, code);
        Assert.Contains($"{option}: not an option of this command", output, StringComparison.Ordinal);
    }

    [SharedDataTheory]
    [InlineData("--test-ids", "data/splits/ztf-bts-test-ids.txt")]
    [InlineData("--test", "0.3")]
    public async Task Evaluate_SplitOptionWithSplitAll_RefusedNotIgnored(string option, string value)
    {
        // Started in the checkout: the relative model and ids paths are the repository's.
        var (code, output, stdout) = await AlertBrokerProcess.RunAsync(["evaluate", "--model", "models/ztf-bts/2.7.0", "--data", SharedData.Path("labelled", "ztf-bts"), option, value]);

        Assert.Equal(2, code);
        Assert.Contains($"{option} picks a part of --data: give --split test", output, StringComparison.Ordinal);
        Assert.Empty(stdout);
    }

    [SharedDataTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Split_OutputNotWritable_ExitOneNamingIt(bool folds)
    {
        var target = folds ? "/proc/alertbroker-no/fold{k}.txt" : "/proc/alertbroker-no/test-ids.txt";
        string[] args = ["split", "--data", SharedData.Path("labelled", "ztf-bts"), "--classes", "SNIa,SNII,SNIbc,SLSN-I,TDE", "--out", target];
        var (code, output, _) = await AlertBrokerProcess.RunAsync(folds ? [.. args, "--folds", "4"] : [.. args, "--test", "0.3"]);

        Assert.Equal(1, code);
        Assert.Contains("cannot write /proc/alertbroker-no/", output, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", output, StringComparison.Ordinal);
    }

    [SharedDataFact]
    public async Task Train_OneClass_RefusedBeforeTraining()
    {
        var outDir = Path.Combine(_root, "one-class");
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["train", "--data", SharedData.Path("labelled", "ztf-bts"), "--classes", "SNIa", "--epochs", "1", "--out", outDir]);

        Assert.Equal(2, code);
        Assert.Contains("a classifier needs at least two classes, not 1", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task Train_DataOfOneClass_DataErrorExitOne()
    {
        var data = Path.Combine(_root, "one-class-data");
        Directory.CreateDirectory(data);
        var lines = new List<string> { "object_id,mjd,band,flux,flux_err,detected" };
        for (var o = 0; o < 4; o++)
        {
            for (var i = 0; i < 5; i++)
            {
                lines.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"obj{o},{59000 + i},{(i % 2 == 0 ? "g" : "r")},{100 + 10 * i},5,1"));
            }
        }

        await File.WriteAllLinesAsync(Path.Combine(data, "set_lightcurves.csv"), lines);
        await File.WriteAllLinesAsync(Path.Combine(data, "set_metadata.csv"), ["object_id,class", "obj0,SNIa", "obj1,SNIa", "obj2,SNIa", "obj3,SNIa"]);
        var outDir = Path.Combine(_root, "one-class-out");

        var (code, output, _) = await AlertBrokerProcess.RunAsync(["train", "--data", data, "--survey", "ztf", "--epochs", "1", "--out", outDir]);

        Assert.True(code == 1, $"exit code {code}; output:\n{output}");
        Assert.Contains("a classifier needs at least two classes; the data hold 1", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outDir));
    }

    // An extra digit in --n wrote 785 MB in four minutes on its way to filling the disk.
    [Theory]
    [InlineData("simulate lightcurves: --n 99999999999 would write about 130 TB", "lightcurves", "--n", "99999999999")]
    [InlineData("simulate lightcurves: --n 99999999999 would write about 260 TB", "lightcurves", "--n", "99999999999", "--bts")]
    // Nights inside the decoder's window (a million nights are beyond it: exit 2, said before the disk is asked).
    [InlineData("simulate alerts: 1000 night(s) of 1000000 object(s) would write about 650 TB", "alerts", "--nights", "1000", "--objects-per-night", "1000000")]
    public async Task Simulate_MoreThanTheDiskHolds_RefusedBeforeWritingAnything(string expected, string command, params string[] options)
    {
        var outDir = Path.Combine(_root, "too-much-" + command);

        var (code, output, _) = await AlertBrokerProcess.RunAsync(["simulate", command, .. options, "--out", outDir]);

        Assert.True(code == 1, $"exit code {code}; output:\n{output}");
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.Contains("free; nothing written", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any(), "something was written");
    }

    [Fact]
    public void OutputSpace_PathNotYetMade_IsMeasuredOnItsNearestExistingDirectory()
    {
        var free = OutputSpace.Free(Path.Combine(_root, "not", "yet", "made"));

        Assert.NotNull(free);
        Assert.Equal(_root, free.Value.Directory);
        Assert.True(free.Value.Bytes > 0);
        Assert.Null(OutputSpace.Shortfall(Path.Combine(_root, "x"), 1));
        Assert.Equal("250 TB", OutputSpace.Size(2.5e14));

        // /proc has no size: the check stands aside and the write says what is wrong.
        Assert.Null(OutputSpace.Free("/proc/alertbroker-cannot-write-here"));
    }

    [Theory]
    [InlineData("lightcurves", "--survey", "foo", "foo")]
    [InlineData("alerts", "--objects-per-night", "-1", "--objects-per-night must be in [0.001, 1000000], not -1.")]
    public async Task Simulate_BadSetting_UsageErrorWithoutDotNetsParameterSuffix(string command, string option, string value, string message)
    {
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["simulate", command, option, value, "--out", Path.Combine(_root, "sims")]);

        Assert.Equal(2, code);
        Assert.Contains(message, output, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Every input path an option or argument names is checked before the command runs: a path that does not exist, or a
    /// directory where a file is wanted (and the reverse), is a usage error (exit 2) naming the path and the option —
    /// before, `train --test-ids typo` ended in "unexpected error" (exit 70), `finetune --distill-from typo` said the base
    /// had no metadata branch, `--test-ids DIR` said "Access to the path … is denied", `score --registry typo` silently
    /// used the shipped models, and others passed .NET's "Could not find a part of the path …" on.
    /// </summary>
    [Theory]
    [InlineData("train --data {data} --test-ids {missing} --out {out}", "no such file: {missing} (--test-ids)")]
    [InlineData("train --data {data} --test-ids {dir} --out {out}", "{dir} is a directory; --test-ids takes a file")]
    [InlineData("train --data {data} --exclude-ids {missing} --out {out}", "no such file: {missing} (--exclude-ids)")]
    [InlineData("train --data {data} --class-map {missing} --out {out}", "no such file: {missing} (--class-map)")]
    [InlineData("train --data {data} --labels {missing} --out {out}", "no such file: {missing} (--labels)")]
    [InlineData("train --data {data} {missing} --out {out}", "no such file or directory: {missing} (--data)")]
    [InlineData("train --data {data} --mix-data {missing} --out {out}", "no such file or directory: {missing} (--mix-data)")]
    [InlineData("finetune --from {missing} --data {data} --out {out}", "no such directory: {missing} (--from)")]
    [InlineData("finetune --from {file} --data {data} --out {out}", "{file} is a file; --from takes a directory")]
    [InlineData("finetune --from {dir} --data {data} --out {out} --distill-from {missing}", "no such directory: {missing} (--distill-from)")]
    [InlineData("evaluate --model {missing} --data {data}", "no such directory: {missing} (--model)")]
    [InlineData("score --model {missing} {dir}", "no such directory: {missing} (--model)")]
    [InlineData("bench pipeline --model {missing}", "no such directory: {missing} (--model)")]
    [InlineData("bench pipeline --shadow {missing}", "no such directory: {missing} (--shadow)")]
    [InlineData("demo --model {missing}", "no such directory: {missing} (--model)")]
    [InlineData("models inspect {missing}", "no such directory: {missing} (<dir>)")]
    [InlineData("evaluate --model {dir} --data {data} --predictions {dir}", "{dir} is a directory; --predictions takes a file to write")]
    [InlineData("evaluate --model {dir} --data {data} --report {file}", "{file} is a file; --report takes a directory to write")]
    [InlineData("train --data {data} --out {file}", "{file} is a file; --out takes a directory to write")]
    [InlineData("train --data {data} --out {broken}", "{broken} is a symbolic link to {missing}, which does not exist; --out takes a directory to write")]
    [InlineData("replay {dir} --out {dir}", "{dir} is a directory; --out takes a file to write")]
    [InlineData("split --data {data} --classes A,B --out {dir}", "{dir} is a directory; --out takes a file to write")]
    [InlineData("simulate lightcurves --n 5 --out {file}", "{file} is a file; --out takes a directory to write")]
    [InlineData("models priors {dir} --priors A=1 --out {file}", "{file} is a file; --out takes a directory to write")]
    [InlineData("models priors {dir} --priors A=1 --out /", "/ is the file system's root; --out takes a directory to write below it")]
    [InlineData("models ensemble {dir} {dir} --out //", "// is the file system's root; --out takes a directory to write below it")]
    [InlineData("finetune --from {dir} --data {data} --out /", "/ is the file system's root; --out takes a directory to write below it")]
    [InlineData("split --data {data} --classes A,B --exclude-ids {missing} --out {out}", "no such file: {missing} (--exclude-ids)")]
    [InlineData("models push {missing}", "no such directory: {missing}")]
    [InlineData("models ensemble {dir} {missing} --out {out}", "no such directory: {missing}")]
    [InlineData("models average {dir} {file} --out {out}", "{file} is a file; <packages> takes a directory")]
    [InlineData("models priors {missing} --priors A=1 --out {out}", "no such directory: {missing}")]
    [InlineData("models package --onnx {missing} --classes A,B --encoding alertbroker-lc --out {out}", "no such file: {missing} (--onnx)")]
    [InlineData("models verify {dir} --reference {dir}", "{dir} is a directory; --reference takes a file")]
    [InlineData("models verify {missing} --reference {file}", "no such directory: {missing} (<dir>)")]
    [InlineData("models verify {file} --reference {file}", "{file} is a file (<dir>): a model package is a directory")]
    [InlineData("models promote a@1 --registry {dir} --holdout {missing}", "no such file or directory: {missing} (--holdout)")]
    [InlineData("score {dir} --registry {missing}", "no such directory: {missing} (--registry)")]
    [InlineData("experiment transfer --ztf-sim {missing} --quick", "no such file or directory: {missing} (--ztf-sim)")]
    [InlineData("experiment transfer --ztf-sim {dir} --base {file} --quick", "{file} is a file; --base takes a directory")]
    [InlineData("simulate lightcurves --parameters {missing} --out {out}", "no such file or directory: {missing} (--parameters)")]
    [InlineData("simulate compare --real {missing} --out {out}", "no such directory: {missing} (--real)")]
    [InlineData("simulate tune --exclude-ids {missing} --out {out}", "no such file: {missing} (--exclude-ids)")]
    [InlineData("score {broken}", "{broken} is a symbolic link to {missing}, which does not exist")]
    [InlineData("train --data {broken} --out {out}", "{broken} is a symbolic link to {missing}, which does not exist (--data)")]
    public async Task InputPathOfTheWrongKindOrMissing_UsageErrorNamingPathAndOption(string commandLine, string message)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_root, "a-dir")).FullName;
        var file = Path.Combine(_root, "a-file.txt");
        await File.WriteAllTextAsync(file, "x\n");
        var broken = Path.Combine(_root, "broken.avro");
        if (!File.Exists(broken))
        {
            File.CreateSymbolicLink(broken, Path.Combine(_root, "typo"));
        }

        string Fill(string text) => text
            .Replace("{broken}", broken, StringComparison.Ordinal)
            .Replace("{data}", dir, StringComparison.Ordinal)
            .Replace("{missing}", Path.Combine(_root, "typo"), StringComparison.Ordinal)
            .Replace("{dir}", dir, StringComparison.Ordinal)
            .Replace("{file}", file, StringComparison.Ordinal)
            .Replace("{out}", Path.Combine(_root, "out"), StringComparison.Ordinal);

        var (code, output, _) = await AlertBrokerProcess.RunAsync(Fill(commandLine).Split(' '));

        Assert.Equal(2, code);
        Assert.Contains(Fill(message), output, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Could not find", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "out")));
    }

    [Fact]
    public async Task StrayOptionAfterSeveralPaths_NamedOnceNotReadAsPaths()
    {
        var dir = Directory.CreateDirectory(Path.Combine(_root, "data")).FullName;
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["train", "--data", dir, "--epoch", "3", "--out", Path.Combine(_root, "out")]);

        Assert.Equal(2, code);
        Assert.Contains("--epoch: not an option of this command (read as a --data value; see --help)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("no such file or directory: 3", output, StringComparison.Ordinal);
    }

    // An option a command does not have, after a multi-value option (AllowMultipleArgumentsPerToken) or among positional
    // paths, was taken as more values: consume --topic x --idle 3 subscribed to the topics x, --idle and 3.
    [Theory]
    [InlineData("consume --bootstrap-servers 127.0.0.1:1 --topic x --idle 3", "--idle", "--topic")]
    [InlineData("consume --bootstrap-servers 127.0.0.1:1 --topic x -v", "-v", "--topic")]
    [InlineData("consume --bootstrap-servers 127.0.0.1:1 --topic x --kind InvalidValue --save", "--save", "--kind")]
    [InlineData("consume --bootstrap-servers 127.0.0.1:1 --topic x --kafka-property a=b --bogus", "--bogus", "--kafka-property")]
    [InlineData("replay {root} --to-kafka --topic t --bootstrap-servers 127.0.0.1:1 --kafka-property a=b --rate-limit 5", "--rate-limit", "--kafka-property")]
    [InlineData("replay --bogus {root}", "--bogus", "<paths>")]
    [InlineData("run --bootstrap-servers 127.0.0.1:1 --topic t --topics u --in-memory --random-model --http-port 0", "--topics", "--topic")]
    [InlineData("mock-kafka --topic t --port 0", "--port", "--topic")]
    [InlineData("models promote m@1 --survey ztf --all", "--all", "--survey")]
    public async Task UnknownOptionAfterSeveralValues_ExitsTwoNamingIt(string commandLine, string option, string takenBy)
    {
        var (code, output, _) = await AlertBrokerProcess.RunAsync(commandLine.Replace("{root}", _root, StringComparison.Ordinal).Split(' '), timeout: TimeSpan.FromSeconds(60));

        Assert.True(code == 2, $"exit {code}: {output}");
        Assert.Contains($"{option}: not an option of this command (read as a {takenBy} value; see --help)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", output, StringComparison.Ordinal);

        // One line about the word: a path argument's "no such file or directory: --bogus" was printed after it.
        Assert.DoesNotContain("no such file or directory: " + option, output, StringComparison.Ordinal);
    }

    // A value that starts with '-' right after its option, or a negative number, is still a value.
    [Fact]
    public void OptionsTakenAsValues_ValueRightAfterItsOption_NotCounted()
    {
        Assert.Empty(AlertBrokerCommand.OptionsTakenAsValues(AlertBrokerCommand.Create().Parse(["consume", "--topic", "-x", "--limit", "-1", "--topic", "y"])));
        Assert.Single(AlertBrokerCommand.OptionsTakenAsValues(AlertBrokerCommand.Create().Parse(["consume", "--topic", "x", "--topic", "y", "--idle"])));
    }

    // An output place that cannot be made is said before the work, not after it: train trained, evaluate evaluated, and
    // then ended in "unexpected error" (exit 70); replay --out into a missing place did the same.
    [Theory]
    [InlineData("train --data {data} --out /proc/alertbroker-no/m/1.0.0")]
    [InlineData("finetune --from {dir} --data {data} --out /proc/alertbroker-no/m/1.0.0")]
    [InlineData("evaluate --model {dir} --data {data} --report /proc/alertbroker-no/report")]
    [InlineData("replay {dir} --out /proc/alertbroker-no/alerts.jsonl")]
    public async Task OutputPlaceThatCannotBeMade_SaidFirstExitOne(string commandLine)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        var (code, output, _) = await AlertBrokerProcess.RunAsync(commandLine.Replace("{data}", dir, StringComparison.Ordinal).Replace("{dir}", dir, StringComparison.Ordinal).Split(' '));

        Assert.Equal(1, code);
        Assert.Contains("cannot write /proc/alertbroker-no/", output, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot read", output, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", output, StringComparison.Ordinal);
    }

    // A replay that read no alert (every file corrupt) emptied an existing --out file, exit 1.
    [SharedDataFact]
    public async Task Replay_NoAlertRead_LeavesAnExistingOutFileAsItWas_AndOneRead_ReplacesIt()
    {
        var output = Path.Combine(_root, "alerts.jsonl");
        await File.WriteAllTextAsync(output, "{\"earlier\":1}\n");
        var garbage = Path.Combine(_root, "garbage.avro");
        await File.WriteAllBytesAsync(garbage, [1, 2, 3, 4, 5, 6, 7, 8]);

        var (code, text, _) = await AlertBrokerProcess.RunAsync(["replay", garbage, "--quiet", "--out", output]);

        Assert.Equal(1, code);
        Assert.Contains($"no alert could be read; {output} was not written", text, StringComparison.Ordinal);
        Assert.Equal("{\"earlier\":1}\n", await File.ReadAllTextAsync(output));
        Assert.Equal([output, garbage], Directory.GetFiles(_root).Order(StringComparer.Ordinal));

        var sample = Directory.GetFiles(SharedData.Path("alert-samples", "ztf"), "*.avro")[0];
        var (ok, _, _) = await AlertBrokerProcess.RunAsync(["replay", sample, "--quiet", "--out", output]);
        Assert.Equal(0, ok);
        Assert.StartsWith("{", (await File.ReadAllLinesAsync(output)).Single(), StringComparison.Ordinal);
        Assert.DoesNotContain("earlier", await File.ReadAllTextAsync(output), StringComparison.Ordinal);
        Assert.Equal([output, garbage], Directory.GetFiles(_root).Order(StringComparer.Ordinal));

        // Only a regular file is written under a hidden name and moved: a link stays a link (the file it leads to is
        // written), and a device is written straight — the move replaced /dev/full with a regular file.
        var link = Path.Combine(_root, "link.jsonl");
        File.CreateSymbolicLink(link, output);
        await File.WriteAllTextAsync(output, "{\"earlier\":2}\n");
        Assert.Equal(0, (await AlertBrokerProcess.RunAsync(["replay", sample, "--quiet", "--out", link])).Code);
        Assert.Equal(output, new FileInfo(link).LinkTarget);
        Assert.DoesNotContain("earlier", await File.ReadAllTextAsync(output), StringComparison.Ordinal);
        Assert.Equal(0, (await AlertBrokerProcess.RunAsync(["replay", sample, "--quiet", "--out", "/dev/null"])).Code);
        Assert.Equal(AlertBroker.Alerts.Archives.FileKind.CharacterDevice, AlertBroker.Alerts.Archives.FileType.Of("/dev/null"));
    }

    // Found by the routing bug hunt: demo --model of a package that needs metadata scored it with the values unknown and
    // said nothing (the default pick says so, and score --model warns). Said now, and the alerts are still classified:
    // the demo has no metadata source (a worker withholds such a model instead).
    [SharedDataFact]
    public async Task Demo_GivenAModelThatNeedsMetadata_SaysItScoresThemAsUnknown()
    {
        var run = await AlertBrokerProcess.RunToEndAsync(["demo", SharedData.Path("alert-samples", "ztf"), "--nights", "0", "--model", "models/ztf-bts/1.0.0"]);

        Assert.True(run.Code == 0, run.Output);
        Assert.Contains("ztf: ztf-bts 1.0.0 (needs host-redshift, mw-ebv: no source here, scored as unknown)", string.Join(' ', run.Output.Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim())), StringComparison.Ordinal);

        // Rubin alerts no model serves were filed under "(no usable point yet)" in the top-class table.
        var unserved = await AlertBrokerProcess.RunToEndAsync(["demo", SharedData.Path("alert-samples", "lsst-real-v7_4"), "--nights", "0", "--model", "models/ztf-bts/2.7.0"]);
        Assert.True(unserved.Code == 0, unserved.Output);
        Assert.Contains("(no model serves lsst)", unserved.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("(no usable point yet)", unserved.Stdout, StringComparison.Ordinal);
    }

    // A model that needs metadata (1.0.0: host redshift, E(B-V)) was scored by score --model with them unknown without a
    // word; found in a registry directory, it was skipped with "no model serves this survey", as if there were none.
    [SharedDataFact]
    public async Task Score_AModelThatNeedsMetadata_IsSaidToScoreWithItUnknown_OrSkippedSayingWhy()
    {
        var sample = Directory.GetFiles(SharedData.Path("alert-samples", "ztf"), "*.avro")[0];
        var given = await AlertBrokerProcess.RunToEndAsync(["score", sample, "--model", "models/ztf-bts/1.0.0"]);
        Assert.True(given.Code == 0, given.Output);
        Assert.Contains("warning: ztf-bts 1.0.0 needs host-redshift, mw-ebv, which alerts do not carry and score has no source of: it scores with them unknown", given.Stderr, StringComparison.Ordinal);

        var registry = Path.Combine(_root, "needs-metadata");
        CopyDirectory(Path.Combine(SharedData.RepositoryRoot()!, "models", "ztf-bts", "1.0.0"), Path.Combine(registry, "ztf-bts", "1.0.0"));
        var found = await AlertBrokerProcess.RunToEndAsync(["score", sample, "--registry", registry]);
        Assert.Equal(1, found.Code);
        Assert.Contains($"ztf: no model serves this survey; its objects are not scored ({Path.Combine(registry, "ztf-bts", "1.0.0")} declares it but needs host-redshift, mw-ebv", found.Stderr, StringComparison.Ordinal);

        var plain = await AlertBrokerProcess.RunToEndAsync(["score", sample, "--model", "models/ztf-bts/2.7.0"]);
        Assert.DoesNotContain("needs", plain.Stderr, StringComparison.Ordinal);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    // A holdout labels file without the needed columns ended in "unexpected error" (exit 70).
    [Fact]
    public async Task Promote_HoldoutThatCannotBeRead_ExitOneSayingSo()
    {
        var registry = Directory.CreateDirectory(Path.Combine(_root, "registry")).FullName;
        var labels = Path.Combine(_root, "labels.csv");
        await File.WriteAllTextAsync(labels, "id,type\nZTF1,SNIa\n");
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["models", "promote", "a@1", "--registry", registry, "--holdout", registry, "--holdout-labels", labels]);

        Assert.Equal(1, code);
        Assert.Contains("cannot read the holdout:", output, StringComparison.Ordinal);
        Assert.Contains("needs object_id and class columns", output, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", output, StringComparison.Ordinal);
    }
}
