using System.Text.Json.Nodes;
using AlertBroker.Alerts;
using AlertBroker.Cli.Commands;
using AlertBroker.Cli.Replay;
using AlertBroker.Model.Network;
using AlertBroker.Training.Training;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// Odd values a tester gave the published build: each is refused as a usage error naming the option (exit 2) before any
/// work — not "unexpected error" (exit 70), not exit 1, not silently accepted (a file named <c>g{k}.txt</c>, a prefix that
/// writes outside --out, a stream of 0 alerts at MJD NaN; train's --surveys ZTF or --name bad/x, refused by the export
/// after the whole training) — and a replay whose limit ends a long --repeat returns.
/// Run as the built program, as a shell sees it.
/// </summary>
public sealed class OddValuesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-odd-values-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("models average {pkg} {pkg} --out {out} --name ", "--name needs a value, not an empty string")]
    [InlineData("models ensemble {pkg} {pkg} --out {out} --version ", "--version needs a value, not an empty string")]
    [InlineData("models average {pkg} {pkg} --out {out} --name bad/x", "--name must be one path segment")]
    [InlineData("models priors {pkg} --priors A=1 --out {out} --name a@b", "--name must be one path segment (no '/', '\\', '.' or '..') without '@'")]
    [InlineData("models priors {pkg} --priors A=1 --out {out} --version ..", "--version must be one path segment")]
    [InlineData("models package --onnx {file} --classes A,B --encoding alertbroker-lc --out {out}/m@x/1", "models package: --out {out}/m@x/1: the model name is taken from its parent folder, 'm@x'")]
    [InlineData("models package --onnx {file} --classes A,B --encoding alertbroker-lc --out {out} --name aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "--name must be one path segment (no '/', '\\', '.' or '..') without '@', control characters or white space at either end, at most 50 bytes in UTF-8")]
    [InlineData("models priors {pkg} --priors A=1 --out {out} --version ééééééééééééééééééééééééé1", "--version must be one path segment")]
    [InlineData("train --data {pkg} --out {out}/m@x/1", "--out {out}/m@x/1: the model name is taken from its parent folder, 'm@x'")]
    [InlineData("models average {pkg} {pkg} --out ", "--out needs a path, not an empty string")]
    [InlineData("models ensemble {pkg} {pkg} --out ", "--out needs a path, not an empty string")]
    [InlineData("models priors {pkg} --priors A=1 --out ", "--out needs a path, not an empty string")]
    [InlineData("models package --onnx {file} --classes A,B --encoding alertbroker-lc --out ", "--out needs a path, not an empty string")]
    [InlineData("models package --onnx {file} --classes A,A,B --encoding alertbroker-lc --out {out}", "--classes names 'A' twice")]
    [InlineData("models package --onnx {file} --classes A,B --surveys ZTF --encoding alertbroker-lc --out {out}", "--surveys: 'ZTF' is written 'ztf'")]
    [InlineData("models package --onnx {file} --classes A,B --surveys foo --encoding alertbroker-lc --out {out}", "--surveys: 'foo' is not a survey the broker scores")]
    [InlineData("models package --onnx {file} --classes A,B --name  --encoding alertbroker-lc --out {out}", "--name needs a value, not an empty string")]
    [InlineData("split --data {pkg} --classes A,B --out ", "--out needs a path, not an empty string")]
    [InlineData("split --data {pkg} --classes  --out {out}", "--classes needs class names")]
    [InlineData("split --data {pkg} --survey bogus --out {out}", "bogus")]
    [InlineData("split --data {pkg} --test 0 --out {out}", "--test must be a fraction strictly between 0 and 1, not 0")]
    [InlineData("split --data {pkg} --test 1 --out {out}", "--test must be a fraction strictly between 0 and 1, not 1")]
    [InlineData("split --data {pkg} --test NaN --out {out}", "--test must be a fraction strictly between 0 and 1, not NaN")]
    [InlineData("split --data {pkg} --folds 1 --out {out}{k}", "--folds must be in [2, 100], not 1")]
    [InlineData("split --data {pkg} --folds -2 --out {out}{k}", "--folds must be in [2, 100], not -2")]
    [InlineData("split --data {pkg} --folds 100000 --out {out}{k}", "--folds must be in [2, 100], not 100000")]
    [InlineData("split --data {pkg} --folds 3 --out {out}", "--folds needs an --out pattern containing {k}")]
    [InlineData("split --data {pkg} --seed -1 --out {out}", "--seed takes a whole number from 0 to 18446744073709551615, not '-1'")]
    [InlineData("simulate lightcurves --n 5 --missing 1 --out {out}", "--missing must be a fraction from 0 up to (not including) 1, not 1")]
    [InlineData("simulate lightcurves --n 5 --missing NaN --out {out}", "--missing must be a fraction from 0 up to (not including) 1, not NaN")]
    [InlineData("simulate lightcurves --n 5 --extra-scatter NaN --out {out}", "--extra-scatter must be in [0, 5], not NaN")]
    [InlineData("simulate lightcurves --n 5 --extra-scatter -1 --out {out}", "--extra-scatter must be in [0, 5], not -1")]
    [InlineData("simulate lightcurves --n 5 --outliers 2 --out {out}", "--outliers must be in [0, 1], not 2")]
    [InlineData("simulate lightcurves --n 5 --prefix ../../escape --out {out}", "--prefix is part of a file name in --out")]
    [InlineData("simulate lightcurves --n 5 --mix SNIa=Infinity --out {out}", "class fractions must be finite and non-negative, not Infinity")]
    [InlineData("simulate alerts --start-mjd NaN --out {out}", "the first night must be MJD 58030 to 62999 for 1 night(s) of ztf alerts")]
    [InlineData("simulate alerts --start-mjd -100000 --out {out}", "not -100000")]
    [InlineData("simulate alerts --start-mjd 1e12 --out {out}", "not 1000000000000")]
    [InlineData("simulate alerts --survey lsst --start-mjd 60100 --out {out}", "MJD 60365 to 65999 for 1 night(s) of lsst alerts")]
    [InlineData("simulate alerts --schema-id -1 --framing confluent --out {out}", "--schema-id must be in [1, 2147483647], not -1")]
    [InlineData("simulate alerts --out ", "--out needs a path, not an empty string")]
    [InlineData("simulate alerts --schema-id 5 --out {out}", "--schema-id is the schema id of --framing confluent; container framing (the default) carries none")]
    [InlineData("simulate alerts --codec xz --out {out}", "Argument 'xz' not recognized. Must be one of:")]
    [InlineData("simulate alerts --codec snappy --framing confluent --out {out}", "--codec is the codec of Avro container files; --framing confluent writes bare datums, which have none")]
    [InlineData("simulate alerts --objects-per-night NaN --out {out}", "--objects-per-night must be in [0.001, 1000000], not NaN.")]
    [InlineData("simulate alerts --objects-per-night 1e400 --out {out}", "--objects-per-night must be in [0.001, 1000000], not Infinity.")]
    [InlineData("simulate alerts --objects-per-night 1e7 --out {out}", "--objects-per-night must be in [0.001, 1000000], not 10000000.")]
    [InlineData("simulate alerts --format avro --out {pkg}", "{pkg} is a directory; --out with --format avro takes a file to write")]
    [InlineData("simulate alerts --format tar --out {file}", "{file} is a file; --out takes a directory to write (or a .avro file with --format avro)")]
    [InlineData("replay {pkg} --rate 1e-9 --limit 1", "--rate must be in [0.001, 1000000000], not 1E-09")]
    [InlineData("replay {pkg} --schema-dir {missing}", "no such directory: {missing} (--schema-dir)")]
    [InlineData("replay {pkg} --topic t", "--topic is for --to-kafka (publishing the alerts); without it replay only reads them")]
    [InlineData("replay {pkg} --bootstrap-servers localhost:1", "--bootstrap-servers is for --to-kafka (publishing the alerts); without it replay only reads them")]
    [InlineData("replay {pkg} --kafka-property acks=all", "--kafka-property is for --to-kafka (publishing the alerts); without it replay only reads them")]
    [InlineData("replay {pkg} --write-schemas {out}", "--write-schemas is for --to-kafka (publishing the alerts); without it replay only reads them")]
    [InlineData("replay {pkg} --to-kafka --topic t --bootstrap-servers localhost:1 --out {out}", "--out writes the normalised alerts to a file and --to-kafka publishes them: give one")]
    [InlineData("bench decode --seconds 1e300 {pkg}", "--seconds must be above 0 and at most 86400, not 1E+300")]
    [InlineData("bench pipeline --seconds 1e300 {pkg}", "--seconds must be above 0 and at most 86400, not 1E+300")]
    [InlineData("score {pkg} --model {pkg} --redis 127.0.0.1:1", "--redis picks the models from a registry; --model names them: give one or the other")] // ignored: exit 0
    [InlineData("score {pkg} --model {pkg} --registry {pkg}", "--registry picks the models from a registry; --model names them: give one or the other")]
    [InlineData("score {pkg} --model {pkg} --prefix x", "--prefix picks the models from a registry; --model names them: give one or the other")]
    [InlineData("bench decode --seconds -1 {pkg}", "--seconds must be above 0 and at most 86400, not -1")] // and "must be in [0, 86400]", as if 0 were allowed
    [InlineData("bench pipeline --sim-objects-per-night 0", "--sim-objects-per-night must be in [0.001, 1000], not 0")]
    [InlineData("bench pipeline --sim-objects-per-night 10000", "--sim-objects-per-night must be in [0.001, 1000], not 10000")] // was accepted and never finished
    [InlineData("bench pipeline --model  {pkg}", "--model needs a model package directory, not an empty string")]
    [InlineData("bench pipeline --objects 2000000 --alerts-per-object 1000 {pkg}", "--objects × --alerts-per-object must be at most 500000 synthetic alerts, not 2000000000.")]
    [InlineData("bench pipeline --objects 200000 --alerts-per-object 1 {pkg}", "--objects must be in [0, 100000], not 200000")]
    [InlineData("bench pipeline --alerts-per-object 100000000 {pkg}", "--alerts-per-object must be in [1, 1000], not 100000000")]
    [InlineData("bench pipeline --objects 100000 --alerts-per-object 1000 {pkg}", "--objects × --alerts-per-object must be at most 500000 synthetic alerts, not 100000000.")]
    [InlineData("bench pipeline --objects NaN {pkg}", "Cannot parse argument 'NaN' for option '--objects' as an integer")]
    [InlineData("bench pipeline --kafka-messages 2147483647 {pkg}", "--kafka-messages must be in [1, 500000], not 2147483647")]
    [InlineData("bench pipeline --batch-size 100001 {pkg}", "--batch-size must be in [1, 100000], not 100001")]
    [InlineData("demo --objects-per-night abc", "Cannot parse argument 'abc' for option '--objects-per-night'")] // was "unexpected error", exit 70
    [InlineData("demo --objects-per-night NaN", "--objects-per-night must be in [0.001, 1000000], not NaN.")]
    [InlineData("demo --objects NaN", "Cannot parse argument 'NaN' for option '--objects' as an integer")]
    [InlineData("demo --http-port 1234 --nights 0 --objects 5", "--http-port is for --serve (the web view); without it the demo serves nothing")]
    [InlineData("demo --http-address 0.0.0.0 --nights 0 --objects 5", "--http-address is for --serve (the web view); without it the demo serves nothing")]
    [InlineData("demo --objects 10 --alerts-per-object many", "Cannot parse argument 'many' for option '--alerts-per-object' as an integer")]
    [InlineData("inspect --json --normalized {pkg}", "--json (the raw Avro records) and --normalized (the normalised alerts) are two outputs")]
    [InlineData("inspect --schema-dir {file} {pkg}", "{file} is a file; --schema-dir takes a directory")]
    [InlineData("consume --topic  --bootstrap-servers localhost:1", "--topic needs a topic name, not an empty string")]
    [InlineData("consume --topic x --kind decode --redrive  --bootstrap-servers localhost:1", "--redrive needs a value, not an empty string")]
    [InlineData("consume --topic x --kind NotAvro --save-payloads  --bootstrap-servers localhost:1", "--save-payloads needs a path, not an empty string")]
    [InlineData("consume --topic x --schema-dir {missing} --bootstrap-servers localhost:1", "no such directory: {missing} (--schema-dir)")]
    [InlineData("consume --topic x --timeout NaN --bootstrap-servers localhost:1", "--timeout must be in [0, 86400], not NaN")]
    [InlineData("train --data {pkg} --survey bogus --out {out}", "--survey must be ztf, lsst or des, not 'bogus'")]
    [InlineData("train --data {pkg} --surveys ZTF --out {out}", "--surveys: 'ZTF' is written 'ztf'")]
    [InlineData("train --data {pkg} --name bad/x --out {out}", "--name must be one path segment")]
    [InlineData("finetune --from {pkg} --data {pkg} --version  --out {out}", "--version needs a value, not an empty string")]
    [InlineData("train --data {pkg} --l2-sp NaN --out {out}", "--l2-sp must be in [0, 1000000], not NaN")]
    [InlineData("train --data {pkg} --benchmark --sequences 0 --out {out}", "--sequences must be in [1, 10000000], not 0")]
    [InlineData("train --data {pkg} --benchmark --sequences 2147483647 --out {out}", "--sequences must be in [1, 10000000], not 2147483647")]
    [InlineData("train --data {pkg} --benchmark --sequences abc --out {out}", "Cannot parse argument 'abc' for option '--sequences'")] // was "unexpected error", exit 70
    [InlineData("train --data {pkg} --benchmark --steps x --out {out}", "Cannot parse argument 'x' for option '--steps'")]
    [InlineData("train --data {pkg} --benchmark --steps 0 --out {out}", "--steps must be in [1, 10000], not 0")]
    [InlineData("train --data {pkg} --benchmark --steps 2147483647 --out {out}", "--steps must be in [1, 10000], not 2147483647")]
    [InlineData("train --data {pkg} --benchmark --sequences 100000 --steps 10000 --out {out}", "--sequences × --steps must be at most 20,000,000 steps in all, not 1,000,000,000")]
    [InlineData("finetune --from {pkg} --data {pkg} --gru-lr-scale -1 --out {out}", "--gru-lr-scale must be in [0, 100], not -1")]
    [InlineData("train --data {pkg} --class-weights bogus --out {out}", "Argument 'bogus' not recognized")]
    [InlineData("finetune --from {pkg} --data {pkg} --train  --out {out}", "--train: No layer group named: use gru, gruN, dense, meta, merge, latent, output or all")]
    [InlineData("finetune --from {pkg} --data {pkg} --train foo --out {out}", "--train: Unknown layer group 'foo': use gru, gruN, dense, meta, merge, latent, output or all")]
    [InlineData("train --data {pkg} --augment-drop NaN --out {out}", "--augment-drop must be in [0, 1), not NaN")]
    [InlineData("train --data {pkg} --augment-noise -1 --out {out}", "--augment-noise must be in [0, 10], not -1")]
    [InlineData("train --data {pkg} --augment-late-days 0 --out {out}", "--augment-late-days must be in (0, 1000], not 0")]
    [InlineData("train --data {pkg} --augment-shift-mag 1e300 --out {out}", "--augment-shift-mag must be in [0, 5], not 1E+300")]
    [InlineData("train --data {pkg} --mix-data {pkg} --mix-ratio 0 --out {out}", "--mix-ratio must be in (0, 100], not 0")]
    [InlineData("train --data {pkg} --mix-data {pkg} --mix-max -1 --out {out}", "--mix-max must be at least 0, not -1")]
    [InlineData("train --data {pkg} --mix-data {pkg} --mix-classes SNIa,SNIa --out {out}", "--mix-classes names 'SNIa' twice")]
    [InlineData("train --data {pkg} --mix-ratio 2 --out {out}", "--mix-ratio sets up replay: it needs --mix-data")]
    [InlineData("finetune --from {pkg} --data {pkg} --distill-temperature 2 --out {out}", "--distill-temperature sets up distillation: it needs --distill-from")]
    [InlineData("train --data {pkg} --classes SNIa,SNIa --out {out}", "--classes names 'SNIa' twice")]
    [InlineData("train --data {pkg} --encoding foo@9 --out {out}", "unknown feature encoding 'foo@9' (implemented: alertbroker-lc@")]
    [InlineData("evaluate --model {pkg} --data {pkg} --encoding foo@9", "unknown feature encoding 'foo@9' (implemented: alertbroker-lc@")]
    [InlineData("evaluate --model {pkg} --data {pkg} --split tset", "Argument 'tset' not recognized")]
    [InlineData("evaluate --model {pkg} --data {pkg} --bootstrap -5", "--bootstrap must be 0 (none) or 200–100000 resamples")]
    [InlineData("evaluate --model {pkg} --data {pkg} --bootstrap 5", "--bootstrap must be 0 (none) or 200–100000 resamples (a 95% interval from fewer rests on a handful of draws in each tail), not 5.")]
    [InlineData("evaluate --model {pkg} --data {pkg} --bootstrap 100000000", "--bootstrap must be 0 (none) or 200–100000 resamples")]
    [InlineData("simulate compare --n 100000000 --out {out}", "--n must be in [1, 1000000], not 100000000")]
    [InlineData("experiment transfer --ztf-sim {pkg} --sizes 0 --out {out}", "--sizes: '0' is neither a count")]
    [InlineData("experiment transfer --ztf-sim {pkg} --threads 100000 --out {out}", "--threads must be in [1, 256], not 100000")]
    [InlineData("experiment transfer --ztf-sim {pkg} --conditions foo --out {out}", "--conditions must list stream and/or redshift, not 'foo'")]
    [InlineData("experiment transfer --ztf-sim {pkg} --modes foo --out {out}", "Unknown mode 'foo': use scratch, scratch-long, head, all or all-fast")]
    [InlineData("experiment transfer --ztf-sim {pkg} --targets foo --out {out}", "--targets must list ztf-bts, des-sims and/or lsst-sims, not 'foo'")]
    [InlineData("experiment transfer --ztf-sim {pkg} --base {pkg} --out {out}", "is not a model package: it needs a NAME/VERSION directory holding model.json")]
    [InlineData("experiment transfer --ztf-sim {pkg} --bts {file} --out {out}", "--bts takes the directory holding the BTS CSV pair")]
    [InlineData("models promote @2.7.0", "'@2.7.0' is not NAME@VERSION (e.g. ztf-bts@2.7.0)")] // was "Response file not found '2.7.0'"
    [InlineData("bench pipeline --mode embedded --redis 127.0.0.1:1", "--redis is for --mode redis or all (Redis state); --mode embedded uses none")] // were ignored
    [InlineData("bench pipeline --mode kafka --observe web", "--observe is for --mode embedded, redis or all; --mode kafka attaches nothing")]
    [InlineData("replay {file} --to-kafka --topic t --bootstrap-servers 127.0.0.1:1 --write-schemas {file}", "--write-schemas")]
    [InlineData("inspect {file} --schema-dir {pkg} --schema-registry http://127.0.0.1:1", "--schema-registry and --schema-dir are two sources of schemas: give one")] // the directory was ignored
    [InlineData("replay {file} --schema-dir {pkg} --schema-registry http://127.0.0.1:1", "--schema-registry and --schema-dir are two sources of schemas: give one")]
    [InlineData("models promote m@1 --holdout-labels {file} --registry {pkg}", "--holdout-labels is for --holdout (the metric check on labelled data); without it no holdout is read")] // was ignored: promoted, exit 0
    [InlineData("models promote m@1 --detections-only --registry {pkg}", "--detections-only is for --holdout")]
    public async Task OddValue_UsageErrorNamingIt(string commandLine, string message)
    {
        var pkg = Directory.CreateDirectory(Path.Combine(_root, "a-dir")).FullName;
        var file = Path.Combine(_root, "a-file.onnx");
        await File.WriteAllTextAsync(file, "x\n");
        string Fill(string text) => text
            .Replace("{pkg}", pkg, StringComparison.Ordinal)
            .Replace("{file}", file, StringComparison.Ordinal)
            .Replace("{missing}", Path.Combine(_root, "typo"), StringComparison.Ordinal)
            .Replace("{out}", Path.Combine(_root, "out"), StringComparison.Ordinal);

        // A trailing space stands for an empty value: "--name " is ["--name", ""].
        string[] args = [.. Fill(commandLine).Split(' ')];
        var (code, output, _) = await AlertBrokerProcess.RunAsync(args);

        Assert.Equal(2, code);
        Assert.Contains(Fill(message), output, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "out")));
        Assert.False(File.Exists(Path.Combine(_root, "escape_metadata.csv")));
    }

    // Found fold by fold: fold 1 written, then "Access to the path … is denied", exit 1.
    [SharedDataFact]
    public async Task Split_AFoldPathIsADirectory_UsageErrorBeforeAnyFoldIsWritten()
    {
        Directory.CreateDirectory(Path.Combine(_root, "w2"));
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["split", "--data", SharedData.Path("labelled", "ztf-bts"), "--classes", "SNIa,SNII", "--folds", "3", "--out", Path.Combine(_root, "w{k}")]);

        Assert.Equal(2, code);
        Assert.Contains($"{Path.Combine(_root, "w2")} (fold 2) is a directory; --out takes a pattern of files to write", output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_root));
    }

    // A fold that cannot be written (its directory is a file) left the folds before it in place, exit 1: a set a user could
    // take for a whole split.
    [SharedDataFact]
    public async Task Split_AFoldCannotBeWritten_NoFoldIsLeftAndNoPartialFile()
    {
        await File.WriteAllTextAsync(Path.Combine(_root, "x2"), "not a directory\n");
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["split", "--data", SharedData.Path("labelled", "ztf-bts"), "--classes", "SNIa,SNII", "--folds", "3", "--out", Path.Combine(_root, "x{k}", "f.txt")]);

        Assert.Equal(1, code);
        Assert.Contains($"cannot write {Path.Combine(_root, "x2", "f.txt")}", output, StringComparison.Ordinal);
        Assert.DoesNotContain(".partial", output, StringComparison.Ordinal);
        Assert.Equal([Path.Combine(_root, "x2")], Directory.GetFiles(_root, "*", SearchOption.AllDirectories));
    }

    [SharedDataFact]
    public async Task Split_MoreFoldsThanObjects_UsageErrorNoFiles()
    {
        var pattern = Path.Combine(_root, "fold{k}.txt");
        var (code, output, _) = await AlertBrokerProcess.RunAsync(["split", "--data", SharedData.Path("labelled", "ztf-bts"), "--classes", "TDE", "--folds", "100", "--out", pattern]);

        Assert.Equal(2, code);
        Assert.Contains("--folds 100 is more folds than the", output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_root));
    }

    // Checked when the command runs, these were said "simulate lightcurves: why" without the "alertbroker" prefix and the
    // pointer to --help that every other usage error has; a class given twice in --mix took the later weight silently.
    [Theory]
    [InlineData("alertbroker simulate lightcurves: --first-detection-sigma must be in [0, 100], not -3.", "lightcurves", "--n", "5", "--first-detection-sigma", "-3")]
    [InlineData("alertbroker simulate lightcurves: --detection-efficiency-mag must be in [0, 5] mag, not -1.", "lightcurves", "--n", "5", "--detection-efficiency-mag", "-1")]
    [InlineData("alertbroker simulate lightcurves: class 'SNIa' is given twice in --mix", "lightcurves", "--n", "5", "--mix", "SNIa=1,SNIa=2")]
    [InlineData("alertbroker simulate alerts: unknown --format 'bogus' (expected files, tar or avro)", "alerts", "--format", "bogus")]
    [InlineData("alertbroker simulate alerts: the first night must be MJD 58030", "alerts", "--start-mjd", "58029")]
    public async Task Simulate_ASettingCheckedWhenItRuns_IsSaidAsEveryUsageError(string message, params string[] args)
    {
        var output = Path.Combine(_root, "sim-out");
        var (code, text, _) = await AlertBrokerProcess.RunAsync(["simulate", .. args, "--out", output]);

        Assert.Equal(2, code);
        Assert.Contains(message, text, StringComparison.Ordinal);
        Assert.Contains($"(the options: alertbroker simulate {args[0]} --help)", text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task TwoModelsForOneSurvey_UsageErrorNotUnexpected()
    {
        var a = Path.Combine(_root, "m", "1");
        var b = Path.Combine(_root, "m", "2");
        foreach (var dir in new[] { a, b })
        {
            var weights = GruClassifierWeights.Random(ModelIo.DefaultConfig(2, metadata: false) with { HiddenSize = 4 }, 3);
            ModelIo.Export(weights, ["A", "B"], "m", Path.GetFileName(dir), dir, new JsonObject(), new Dictionary<string, double>(), surveys: ["ztf"]);
        }

        var (code, output, _) = await AlertBrokerProcess.RunAsync(["bench", "pipeline", "--model", a, "--model", b, "--mode", "embedded", "--seconds", "1", "--sim-nights", "0", "--objects", "1", _root]);

        Assert.Equal(2, code);
        Assert.Contains("declare the survey ztf; give one model per survey", output, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", output, StringComparison.Ordinal);
    }

    // A CSV given as alerts was measured as "0 alerts/s (0 alerts, …); 113,708 dead letters", exit 0, and a directory
    // without alerts printed the header and exited 0: nothing was measured.
    [Theory]
    [InlineData("alerts.avro", "a,b\n1,2\n", "1 message read")]
    [InlineData(null, null, "0 messages read")]
    public async Task BenchPipeline_NoAlertInThePaths_ExitsOneSayingSo(string? name, string? content, string counts)
    {
        var input = Directory.CreateDirectory(Path.Combine(_root, "in")).FullName;
        if (name is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(input, name), content);
        }

        var model = Path.Combine(_root, "m", "1");
        var weights = GruClassifierWeights.Random(ModelIo.DefaultConfig(2, metadata: false) with { HiddenSize = 4 }, 3);
        ModelIo.Export(weights, ["A", "B"], "m", "1", model, new JsonObject(), new Dictionary<string, double>(), surveys: ["ztf"]);

        var run = await AlertBrokerProcess.RunToEndAsync(["bench", "pipeline", input, "--model", model, "--mode", "embedded", "--seconds", "1", "--sim-nights", "0", "--objects", "0"]);

        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Contains($"bench pipeline: no alert decodes in {input} ({counts}): nothing to measure", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("alerts/s", run.Stdout, StringComparison.Ordinal);
    }

    // A schema registry that did not answer ended these commands as "unexpected error (SchemaLookupUnavailableException)",
    // exit 70; it is a service unreachable, exit 4, as Kafka and Redis are.
    [Theory]
    [InlineData("inspect")]
    [InlineData("replay")]
    [InlineData("score")]
    public async Task ConfluentWireFile_SchemaRegistryUnreachable_ExitsFourSayingSo(string command)
    {
        var file = Path.Combine(_root, "wire.avro");
        await File.WriteAllBytesAsync(file, [0, 0, 0, 0, 5, 1, 2, 3]);

        var run = await AlertBrokerProcess.RunToEndAsync([command, file, "--schema-registry", "http://127.0.0.1:1"]);

        Assert.True(run.Code == 4, $"exit {run.Code}: {run.Output}");
        Assert.Contains("alertbroker: the schema registry did not answer the lookup of schema id 5", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", run.Output, StringComparison.Ordinal);
    }

    // score had no --schema-dir or --schema-registry: a Rubin alert saved from Kafka (Confluent wire) could not be scored.
    [SharedDataFact]
    public async Task Score_ConfluentWireRubinAlert_ScoredWithItsSchemaDirectory()
    {
        var wire = new AlertBroker.Worker.Kafka.SurveyWireFormat();
        // An object with detections of positive flux (a detections-only model is fed no negative ones).
        var archived = await File.ReadAllBytesAsync(SharedData.AvroFiles("lsst-real-v7_4").Single(f => f.Contains("58804302898003989", StringComparison.Ordinal)));
        // Not beside the file (nor beside its folder), where score would find them without --schema-dir (since 2026-12-08).
        var file = Path.Combine(Directory.CreateDirectory(Path.Combine(_root, "wire")).FullName, "rubin-wire.avro");
        await File.WriteAllBytesAsync(file, wire.ToWire(archived).First());
        var schemas = Path.Combine(_root, "elsewhere", "schemas");
        wire.WriteSchemaDirectory(schemas);
        var package = SharedData.RepositoryRoot() is { } root ? Path.Combine(root, "models", "lsst-sim", "1.1.0") : null;
        if (package is null)
        {
            return;
        }

        var without = await AlertBrokerProcess.RunToEndAsync(["score", file, "--model", package]);
        Assert.NotEqual(0, without.Code);
        Assert.Contains("Confluent wire message with schema id ", without.Output, StringComparison.Ordinal);
        Assert.Contains("no schema registry or schema directory is configured", without.Output, StringComparison.Ordinal);

        var with = await AlertBrokerProcess.RunToEndAsync(["score", file, "--model", package, "--schema-dir", schemas, "--jsonl"]);
        Assert.True(with.Code == 0, $"exit {with.Code}: {with.Output}");
        Assert.Contains("\"model\":\"lsst-sim@1.1.0\"", with.Stdout, StringComparison.Ordinal);
    }

    // The limit set pass = Repeat to end the loop, and pass++ then overflowed: with --repeat 2147483647 it never returned.
    [SharedDataFact]
    public void Replay_LimitWithLargestRepeat_Returns()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var replayer = new AlertReplayer(new AlertDecoder(), new Replay.ReplayOptions { Repeat = int.MaxValue, Limit = 100 });

        var stats = replayer.Run([SharedData.Path("alert-samples", "ztf-real-50")], timeout.Token);

        Assert.Equal(100, stats.Alerts);
    }

    // Priors of 1e308 each summed to infinity: every prior became 0, every bias −∞, and the package scored NaN (exit 0).
    [Fact]
    public void Priors_HugeValues_NormalisedSafelyAndFinite()
    {
        var dir = Path.Combine(_root, "base");
        var weights = GruClassifierWeights.Random(ModelIo.DefaultConfig(3, metadata: false) with { HiddenSize = 4 }, 5);
        var data = new JsonObject { ["classWeights"] = "none", ["classCounts"] = new JsonObject { ["A"] = 10, ["B"] = 10, ["C"] = 10 } };
        ModelIo.Export(weights, ["A", "B", "C"], "m", "1", dir, data, new Dictionary<string, double>(), surveys: ["ztf"]);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = PriorsCommand.Run(dir, "A=1e308,B=1e308,C=1e308", null, null, Path.Combine(_root, "m", "2"), null, null, stdout, stderr);

        Assert.Equal(0, exit);
        Assert.Contains("deployed to  A=0.333, B=0.333, C=0.333", stdout.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Infinity", stdout.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("A=Infinity,B=1,C=1", "no positive prior for class 'A': it must be a finite number above 0, not Infinity")]
    [InlineData("A=0,B=1,C=1", "no positive prior for class 'A': it must be a finite number above 0, not 0")]
    [InlineData("A=-1,B=1,C=1", "no positive prior for class 'A': it must be a finite number above 0, not -1")]
    [InlineData("A=1e308,B=1e-320,C=1", "the prior for class 'B' is too small beside the others")]
    public void Priors_UnusableValue_ExitTwoNamingTheClass(string priors, string message)
    {
        var dir = Path.Combine(_root, "base");
        var weights = GruClassifierWeights.Random(ModelIo.DefaultConfig(3, metadata: false) with { HiddenSize = 4 }, 5);
        ModelIo.Export(weights, ["A", "B", "C"], "m", "1", dir, new JsonObject(), new Dictionary<string, double>(), surveys: ["ztf"]);
        var stderr = new StringWriter();

        var exit = PriorsCommand.Run(dir, priors, "A=1,B=1,C=1", null, Path.Combine(_root, "m", "2"), null, null, TextWriter.Null, stderr);

        Assert.Equal(2, exit);
        Assert.Contains(message, stderr.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "m", "2")));
    }
}
