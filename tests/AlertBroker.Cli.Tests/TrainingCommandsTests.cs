using System.Globalization;
using System.Text;
using System.Text.Json;
using AlertBroker.Alerts;
using AlertBroker.Cli.Commands;
using AlertBroker.Cli.Training;
using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;
using AlertBroker.Training.Data;
using AlertBroker.Training.Training;

namespace AlertBroker.Cli.Tests;

/// <summary>train / finetune / evaluate / split / score through the command line, for models without metadata, on either encoding.</summary>
public sealed class TrainingCommandsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-traincli-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // 60 small ZTF light curves in three classes (rising, flat, falling magnitudes), with redshift and A_V columns.
    private string WriteData()
    {
        var dir = Path.Combine(_root, "ztf-toy");
        Directory.CreateDirectory(dir);
        var random = new Random(5);
        var lc = new StringBuilder("object_id,mjd,band,mag,mag_err\n");
        var meta = new StringBuilder("object_id,class,redshift,a_v\n");
        string[] classes = ["SNIa", "SNII", "TDE"];
        for (var i = 0; i < 60; i++)
        {
            var cls = i % 3;
            meta.Append(CultureInfo.InvariantCulture, $"ZTFtoy{i:D3},{classes[cls]},{0.05 + (0.001 * i)},0.1\n");
            var n = random.Next(4, 15);
            for (var t = 0; t < n; t++)
            {
                var mag = 18.5 + ((cls - 1) * 0.08 * t) + (0.05 * random.NextDouble());
                lc.Append(CultureInfo.InvariantCulture, $"ZTFtoy{i:D3},{59000 + (2.5 * t) + random.NextDouble()},{(t % 2 == 0 ? "g" : "r")},{mag:0.000},0.05\n");
            }
        }

        File.WriteAllText(Path.Combine(dir, "ztf_toy_lightcurves.csv"), lc.ToString());
        File.WriteAllText(Path.Combine(dir, "ztf_toy_metadata.csv"), meta.ToString());
        return dir;
    }

    private static int Run(params string[] args) => AlertBrokerCommand.Create().Parse(args).Invoke();

    // A catalogue's "missing" in the metadata (-99, a negative A_V) is read as unknown, as the worker reads it from its
    // sources: said on stderr with the first line, and recorded in the package's provenance.
    [Fact]
    public async Task Train_MetadataValuesTheNetworkCannotTake_AreSaidAndRecorded()
    {
        var data = WriteData();
        var metadata = Path.Combine(data, "ztf_toy_metadata.csv");
        var lines = File.ReadAllLines(metadata);
        lines[3] = "ZTFtoy002,TDE,-99,0.1";
        lines[5] = "ZTFtoy004,SNII,0.054,-1";
        lines[6] = "ZTFtoy005,TDE,-99,0.1";
        File.WriteAllLines(metadata, lines);
        var dir = Path.Combine(_root, "models", "toy-meta", "1.0.0");

        var run = await AlertBrokerProcess.RunToEndAsync(["train", "--data", data, "--classes", "SNIa,SNII,TDE", "--test", "0.25", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--out", dir]);

        Assert.True(run.Code == 0, run.Output);
        Assert.Contains($"3 metadata value(s) read as unknown (2 redshift not a number from 0 to 15, 1 a_v not a number from 0 to 31); the first: {metadata} line 4", run.Stderr, StringComparison.Ordinal);
        var recorded = ModelIo.LoadPackage(dir).Manifest!.Training.Data!["metadataReadAsUnknown"]!;
        Assert.Equal(2, (int)recorded["redshift not a number from 0 to 15"]!);
        Assert.Equal(1, (int)recorded["a_v not a number from 0 to 31"]!);
    }

    // --mix-data was read without a word about its rows, metadata values and objects left out (train said them of --data),
    // and a pool of which nothing could be read ended in "--mix-data has no objects of the classes …".
    [Fact]
    public async Task Train_MixDataLeftOut_SaidAndRecorded_NothingReadableSaysWhy()
    {
        var data = WriteData();
        var pool = Path.Combine(_root, "pool");
        Directory.CreateDirectory(pool);
        var rows = File.ReadAllLines(Path.Combine(data, "ztf_toy_lightcurves.csv"));
        rows[1] = rows[1].Replace(",g,", ",x,", StringComparison.Ordinal).Replace(",r,", ",x,", StringComparison.Ordinal);
        File.WriteAllLines(Path.Combine(pool, "ztf_pool_lightcurves.csv"), rows);
        File.WriteAllLines(Path.Combine(pool, "ztf_pool_metadata.csv"), File.ReadAllLines(Path.Combine(data, "ztf_toy_metadata.csv"))
            .Select(l => l.StartsWith("ZTFtoy001,", StringComparison.Ordinal) ? "ZTFtoy001,SNII,-99,0.1" : l).Append("ZTFtoy999,SNIa,0.1,0.1"));
        var dir = Path.Combine(_root, "models", "mix", "1.0.0");

        var run = await AlertBrokerProcess.RunToEndAsync(["train", "--data", data, "--mix-data", pool, "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--out", dir]);

        Assert.True(run.Code == 0, run.Output);
        Assert.Contains($"--mix-data: 1 row(s) left out (1 unknown band); the first: {Path.Combine(pool, "ztf_pool_lightcurves.csv")} line 2", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("--mix-data: 1 metadata value(s) read as unknown (1 redshift not a number from 0 to 15)", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("--mix-data: 1 object(s) of the data left out: 1 labelled without a usable observation", run.Stderr, StringComparison.Ordinal);
        var replay = ModelIo.LoadPackage(dir).Manifest!.Training.Data!["replay"]!;
        Assert.Equal(1, (int)replay["rejectedRows"]!["unknown band"]!);
        Assert.Equal(1, (int)replay["metadataReadAsUnknown"]!["redshift not a number from 0 to 15"]!);
        Assert.Equal(1, (int)replay["objectsLeftOut"]!);

        // Every pool MJD written as a JD: the reason and the first line, not "no objects of the classes".
        File.WriteAllLines(Path.Combine(pool, "ztf_pool_lightcurves.csv"), rows.Select((r, i) => i == 0 ? r : r.Replace(",59", ",2459", StringComparison.Ordinal)));
        run = await AlertBrokerProcess.RunToEndAsync(["train", "--data", data, "--mix-data", pool, "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--threads", "1", "--quiet", "--out", Path.Combine(_root, "models", "mix", "2.0.0")]);
        Assert.Equal(1, run.Code);
        Assert.Contains("--mix-data " + Path.Combine(pool, "ztf_pool_lightcurves.csv") + ": no labelled light curve to read", run.Stderr, StringComparison.Ordinal);
        static string Compact(string text) => string.Concat(text.Where(c => !char.IsWhiteSpace(c))); // the console wraps long lines
        Assert.True(Compact(run.Stderr).Contains(Compact("time out of range, 1 unknown band); the first: " + Path.Combine(pool, "ztf_pool_lightcurves.csv") + " line 2"), StringComparison.Ordinal), run.Stderr);
    }

    // Ids an id file cannot hold: 'OBJ#1' and 'OBJ#2' were written, read back as 'OBJ' twice: "unexpected error", exit 70,
    // the broken file left on disk.
    [Fact]
    public async Task Split_IdsAnIdFileCannotHold_RefusedNothingWritten()
    {
        var data = WriteData();
        var meta = Path.Combine(data, "ztf_toy_metadata.csv");
        var lc = Path.Combine(data, "ztf_toy_lightcurves.csv");
        File.WriteAllText(meta, File.ReadAllText(meta).Replace("ZTFtoy000,", "OBJ#1,", StringComparison.Ordinal).Replace("ZTFtoy003,", "OBJ#2,", StringComparison.Ordinal));
        File.WriteAllText(lc, File.ReadAllText(lc).Replace("ZTFtoy000,", "OBJ#1,", StringComparison.Ordinal).Replace("ZTFtoy003,", "OBJ#2,", StringComparison.Ordinal));
        var ids = Path.Combine(_root, "ids.txt");

        var run = await AlertBrokerProcess.RunToEndAsync(["split", "--data", data, "--test", "0.5", "--out", ids]);

        Assert.True(run.Code == 1, run.Output);
        Assert.DoesNotContain("left out", run.Stderr, StringComparison.Ordinal);
        Assert.Matches(@"object id 'OBJ#[12]' cannot be written to an id file: it holds '#', which starts a comment there", run.Stderr);
        Assert.DoesNotContain("unexpected", run.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(ids));
    }

    // split left objects out (classes not asked for, no usable observation) without a word; train and evaluate said it.
    [Fact]
    public async Task Split_ObjectsLeftOut_Said()
    {
        var data = WriteData();

        var run = await AlertBrokerProcess.RunToEndAsync(["split", "--data", data, "--classes", "SNIa,SNII", "--test", "0.25", "--out", Path.Combine(_root, "ids.txt")]);

        Assert.True(run.Code == 0, run.Output);
        Assert.Contains("20 object(s) of the data left out: 20 of classes the split does not have (TDE 20; its classes: SNIa, SNII)", run.Stderr.ReplaceLineEndings(" "), StringComparison.Ordinal);
    }

    // The same set given twice: 120 objects from 60, the same objects in training and test parts (a test AUROC of 1.000).
    [Fact]
    public async Task TrainSplitEvaluate_AnObjectIdInTwoDataSets_Refused()
    {
        var data = WriteData();
        var copy = LabelledPairs.CopyAs(data, "ztf_toy", Path.Combine(_root, "copy"), "ztf_copy");

        foreach (var args in new[]
        {
            new[] { "split", "--data", data, copy, "--out", Path.Combine(_root, "ids.txt") },
            ["train", "--data", data, data, "--epochs", "1", "--quiet", "--out", Path.Combine(_root, "models", "twice", "1.0.0")],
        })
        {
            var run = await AlertBrokerProcess.RunToEndAsync(args);
            Assert.True(run.Code == 1, run.Output);
            Assert.Contains("object id 'ZTFtoy000' is in ", run.Stderr, StringComparison.Ordinal);
            Assert.Contains("objectidsmustbeuniqueacrossthedatasetsgiven", string.Concat(run.Stderr.Where(c => !char.IsWhiteSpace(c))), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TrainFinetuneEvaluate_NoMetadata_PackagesWithoutMetaInputAndEarlyCurves()
    {
        var data = WriteData();
        var ids = Path.Combine(_root, "test-ids.txt");
        Assert.Equal(0, Run("split", "--data", data, "--classes", "SNIa,SNII,TDE", "--test", "0.25", "--seed", "3", "--out", ids));
        var idLines = File.ReadAllLines(ids).Where(l => !l.StartsWith('#')).ToList();
        Assert.Equal(15, idLines.Count);

        var baseDir = Path.Combine(_root, "models", "toy-base", "1.0.0");
        Assert.Equal(0, Run("train", "--data", data, "--no-meta", "--classes", "SNIa,SNII,TDE", "--test-ids", ids, "--val", "0.2", "--epochs", "3", "--batch", "8",
            "--step-loss", "object", "--select", "early-auroc", "--threads", "1", "--quiet", "--out", baseDir));
        using (var package = ModelPackage.Load(baseDir, LightCurveEncoding.Supported))
        {
            Assert.DoesNotContain("meta", package.Session.Inputs.Select(i => i.Name));
            Assert.False(package.Manifest.RequiresMetadata);
            Assert.Equal(["ztf"], package.Manifest.Surveys);
            var split = package.Manifest.Training.Data!["split"]!;
            Assert.Equal(ids, (string)split["testIds"]!);
            Assert.Equal(15, (int)split["test"]!);
            Assert.Equal("object", (string)package.Manifest.Training.Data!["stepLoss"]!);
            Assert.True(package.Manifest.Training.Metrics.ContainsKey("testMacroAurocDay10"));
        }

        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(baseDir, "evaluation.json"))).RootElement;
        Assert.Equal(15, report.GetProperty("objects").GetInt32());
        Assert.Equal(8, report.GetProperty("early").GetArrayLength());
        Assert.Contains("no metadata", File.ReadAllText(Path.Combine(baseDir, "MODEL_CARD.md")), StringComparison.Ordinal);

        var tunedDir = Path.Combine(_root, "models", "toy", "2.0.0");
        Assert.Equal(0, Run("finetune", "--from", baseDir, "--data", data, "--no-meta", "--train", "gru1,latent,output", "--test-ids", ids, "--val", "0.2",
            "--epochs", "2", "--batch", "8", "--threads", "1", "--quiet", "--out", tunedDir));
        using (var package = ModelPackage.Load(tunedDir, LightCurveEncoding.Supported))
        {
            Assert.DoesNotContain("meta", package.Session.Inputs.Select(i => i.Name));
        }

        // Without --no-meta the base cannot be fine-tuned: it has no metadata branch to feed.
        Assert.Equal(2, Run("finetune", "--from", baseDir, "--data", data, "--out", Path.Combine(_root, "models", "toy", "bad")));

        var evalDir = Path.Combine(_root, "eval");
        var predictions = Path.Combine(_root, "predictions", "test.csv");
        Assert.Equal(0, Run("evaluate", "--model", tunedDir, "--data", data, "--split", "test", "--report", evalDir, "--predictions", predictions));
        var evaluation = JsonDocument.Parse(File.ReadAllText(Path.Combine(evalDir, "evaluation.json"))).RootElement;
        Assert.Equal(15, evaluation.GetProperty("objects").GetInt32());

        // --predictions: a row per test object and view, the objects those of the test ids, probabilities summing to 1.
        var rows = File.ReadAllLines(predictions);
        Assert.Equal("object_id,class,view,steps,p_SNIa,p_SNII,p_TDE", rows[0]);
        var whole = rows.Skip(1).Select(r => r.Split(',')).Where(r => r[2] == "whole").ToList();
        Assert.Equal(idLines.Order(StringComparer.Ordinal), whole.Select(r => r[0]).Order(StringComparer.Ordinal));
        Assert.All(rows.Skip(1).Select(r => r.Split(',')), r => Assert.Equal(1.0, r[4..].Sum(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)), 4));
        Assert.Equal(1, Run("evaluate", "--model", tunedDir, "--data", data, "--split", "test", "--predictions", "/proc/alertbroker-cannot-write/p.csv"));
        Assert.Equal([0.0, 2, 5, 10, 15, 20, 30, 50], evaluation.GetProperty("early").EnumerateArray().Select(p => p.GetProperty("days").GetDouble()));
        Assert.Contains("no metadata", evaluation.GetProperty("conditions").GetString(), StringComparison.Ordinal);

        // A changed id file is refused rather than silently evaluating another test set.
        File.AppendAllText(ids, "ZTFtoy999\n");
        Assert.Equal(1, Run("evaluate", "--model", tunedDir, "--data", data, "--split", "test"));

        // A model fitted on every object (--test 0) has no test part to evaluate: refused, not an empty report.
        var allDir = Path.Combine(_root, "models", "toy", "3.0.0");
        Assert.Equal(0, Run("finetune", "--from", baseDir, "--data", data, "--no-meta", "--train", "all", "--test", "0", "--val", "0.2",
            "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--out", allDir));
        Assert.Equal(0, (int)ModelPackage.ParseManifest(File.ReadAllBytes(Path.Combine(allDir, "model.json"))).Training.Data!["split"]!["test"]!);
        Assert.Equal(1, Run("evaluate", "--model", allDir, "--data", data, "--split", "test"));
        Assert.Equal(0, Run("evaluate", "--model", allDir, "--data", data, "--split", "validation"));
    }

    [Fact]
    public void Finetune_MetadataBaseWithNoMeta_DropsTheBranch()
    {
        var data = WriteData();
        var baseDir = Path.Combine(_root, "models", "meta-base", "1.0.0");
        Assert.Equal(0, Run("train", "--data", data, "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--out", baseDir));
        using (var package = ModelPackage.Load(baseDir, LightCurveEncoding.Supported))
        {
            Assert.True(package.Manifest.RequiresMetadata);
            Assert.Contains("meta", package.Session.Inputs.Select(i => i.Name));
        }

        var dir = Path.Combine(_root, "models", "no-meta", "1.0.0");
        Assert.Equal(0, Run("finetune", "--from", baseDir, "--data", data, "--no-meta", "--train", "all", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--out", dir));
        using var tuned = ModelPackage.Load(dir, LightCurveEncoding.Supported);
        Assert.DoesNotContain("meta", tuned.Session.Inputs.Select(i => i.Name));
        Assert.False(tuned.Manifest.EffectiveRequiresMetadata);
        Assert.True((bool)tuned.Manifest.Training.Data!["baseMetadataDropped"]!);

        // The metadata model evaluated in stream conditions (--no-meta: metadata withheld).
        var evalDir = Path.Combine(_root, "eval-meta");
        Assert.Equal(0, Run("evaluate", "--model", baseDir, "--data", data, "--no-meta", "--report", evalDir));
        var evaluation = JsonDocument.Parse(File.ReadAllText(Path.Combine(evalDir, "evaluation.json"))).RootElement;
        Assert.Contains("withheld", evaluation.GetProperty("conditions").GetString(), StringComparison.Ordinal);
    }

    // --mix-data was read with --survey: ZTF light curves replayed while training on LSST (--survey lsst) became LSST g
    // and r, at LSST's wavelengths, without a word. Now the mix data's own names say its survey, and the record says it.
    [Fact]
    public void Train_MixDataOfAnotherSurvey_KeepsItsOwnSurveyAndIsRecorded()
    {
        var ztf = WriteData();
        var plain = LabelledPairs.CopyAs(ztf, "ztf_toy", Path.Combine(_root, "plain"), "toy");
        var dir = Path.Combine(_root, "models", "lsst-mixed", "1.0.0");

        Assert.Equal(0, Run("train", "--data", plain, "--survey", "lsst", "--no-meta", "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet",
            "--mix-data", ztf, "--mix-ratio", "0.5", "--out", dir));

        var manifest = ModelPackage.ParseManifest(File.ReadAllBytes(Path.Combine(dir, ModelPackage.ManifestFileName)));
        Assert.Equal(["ztf"], manifest.Training.Data!["replay"]!["surveys"]!.AsArray().Select(n => (string)n!));
    }

    [Fact]
    public void MixSurveyNote_OtherSurveyIsOneLine_SameIsNothing_BandsTheEncodingLacksAreRefused()
    {
        Observation Point(Passband band) => new(1, 59000, band, ObservationKind.Detection, 100, 10, float.NaN);
        LabelledDataset Set(params Passband[] bands) => new("pool", [new LabelledObject("o1", "SNIa", [.. bands.Select(Point)], double.NaN, double.NaN)]);

        var note = TrainingCli.MixSurveyNote(["lsst"], Set(Passband.ZtfG, Passband.ZtfR), LightCurveEncoding.Instance);
        Assert.NotNull(note);
        Assert.Contains("--mix-data holds ztf bands and --data lsst bands", note, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', note);
        Assert.Null(TrainingCli.MixSurveyNote(["ztf"], Set(Passband.ZtfG, Passband.ZtfR), LightCurveEncoding.Instance));
        var refused = Assert.Throws<ArgumentException>(() => TrainingCli.MixSurveyNote(["lsst"], Set(Passband.DesG), Muthukrishna2025Encoding.Instance));
        Assert.Contains("des:g", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Finetune_ReplayAugmentationAndRegularisers_AreRecordedAndBadValuesRefused()
    {
        var data = WriteData();
        var pool = WriteData(); // the same toy set, standing in for simulations
        var baseDir = Path.Combine(_root, "models", "aid-base", "1.0.0");
        Assert.Equal(0, Run("train", "--data", data, "--no-meta", "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--out", baseDir));

        var dir = Path.Combine(_root, "models", "aid", "1.0.0");
        Assert.Equal(0, Run("finetune", "--from", baseDir, "--data", data, "--no-meta", "--train", "all", "--epochs", "2", "--batch", "8", "--threads", "1", "--quiet",
            "--mix-data", pool, "--mix-ratio", "0.5", "--mix-classes", "TDE", "--mix-weight", "2", "--mix-max", "5",
            "--augment-drop", "0.1", "--augment-noise", "0.5", "--augment-late-start", "0.5", "--augment-late-days", "5",
            "--augment-shift-mag", "0.75", "--class-weights", "sqrt", "--l2-sp", "0.1", "--gru-lr-scale", "0.3", "--out", dir));
        using (var package = ModelPackage.Load(dir, LightCurveEncoding.Supported))
        {
            var training = package.Manifest.Training.Data!;
            Assert.Equal("sqrt(N/N_c)", (string)training["classWeights"]!);
            Assert.Equal(0.1, (double)training["l2sp"]!, 5);
            Assert.Equal(0.3, (double)training["gruLearningRateScale"]!, 5);
            var replay = training["replay"]!;
            Assert.Equal(0.5, (double)replay["ratio"]!);
            Assert.Equal(2.0, (double)replay["weight"]!);
            Assert.Equal(5, (int)replay["classes"]!["TDE"]!); // --mix-max 5 of the 20 toy TDEs, no other class
            Assert.Equal(0, (int)replay["classes"]!["SNIa"]!);
            Assert.Equal(0.5, (double)training["augmentation"]!["lateStartProbability"]!);
            Assert.Equal(0.75, (double)training["augmentation"]!["magnitudeShift"]!);
        }

        var card = File.ReadAllText(Path.Combine(dir, "MODEL_CARD.md"));
        Assert.Contains("replay", card, StringComparison.Ordinal);
        Assert.Contains("L2-SP", card, StringComparison.Ordinal);
        Assert.Contains("brightness shift up to ±0.75 mag", card, StringComparison.Ordinal);

        string[] common = ["finetune", "--from", baseDir, "--data", data, "--no-meta", "--epochs", "1", "--threads", "1", "--quiet", "--out", Path.Combine(_root, "models", "aid", "bad")];
        // Bad values are refused while parsing (in process a parse error is exit 1; the program makes it 2, as
        // OddValuesTests checks); --mix-* without --mix-data and an unknown replay class are usage errors (exit 2).
        Assert.Equal(1, Run([.. common, "--class-weights", "cubic"]));
        Assert.Equal(2, Run([.. common, "--mix-data", pool, "--mix-classes", "AGN"]));
        Assert.Equal(1, Run([.. common, "--mix-data", pool, "--mix-ratio", "0"]));
        Assert.Equal(2, Run([.. common, "--mix-ratio", "0.5"]));
        Assert.Equal(1, Run([.. common, "--mix-data", Path.Combine(_root, "no-such-dir")]));
        Assert.Equal(1, Run([.. common, "--augment-drop", "1.5"]));
        Assert.Equal(1, Run([.. common, "--augment-shift-mag", "-1"]));
        Assert.Equal(1, Run([.. common, "--l2-sp", "-1"]));
        Assert.False(Directory.Exists(Path.Combine(_root, "models", "aid", "bad")));
    }

    [Fact]
    public void Finetune_DistillFrom_ATeacherWithRedshift_IsRecordedAndWhatItCannotUseIsRefused()
    {
        var data = WriteData();
        var teacherDir = Path.Combine(_root, "models", "teacher", "1.0.0");
        Assert.Equal(0, Run("train", "--data", data, "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--out", teacherDir));
        var baseDir = Path.Combine(_root, "models", "student-base", "1.0.0");
        Assert.Equal(0, Run("train", "--data", data, "--no-meta", "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--out", baseDir));

        var dir = Path.Combine(_root, "models", "student", "1.0.0");
        Assert.Equal(0, Run("finetune", "--from", baseDir, "--data", data, "--no-meta", "--train", "all", "--epochs", "2", "--batch", "8", "--threads", "1", "--quiet",
            "--distill-from", teacherDir, "--distill-weight", "0.7", "--distill-temperature", "2", "--out", dir));
        using (var package = ModelPackage.Load(dir, LightCurveEncoding.Supported))
        {
            // The student needs no metadata even though its teacher did.
            Assert.False(package.Manifest.RequiresMetadata);
            Assert.DoesNotContain("meta", package.Session.Inputs.Select(i => i.Name));
            var distillation = package.Manifest.Training.Data!["distillation"]!;
            Assert.Equal("teacher", (string)distillation["teacher"]!["name"]!);
            Assert.Equal("1.0.0", (string)distillation["teacher"]!["version"]!);
            Assert.Equal(0.7, (double)distillation["weight"]!, 5);
            Assert.Equal(2.0, (double)distillation["temperature"]!);
        }

        Assert.Contains("distillation: each step's target (1 − 0.7)·label + 0.7·the probabilities of teacher `teacher` 1.0.0", File.ReadAllText(Path.Combine(dir, "MODEL_CARD.md")), StringComparison.Ordinal);

        string[] common = ["finetune", "--from", baseDir, "--data", data, "--no-meta", "--epochs", "1", "--threads", "1", "--quiet", "--out", Path.Combine(_root, "models", "student", "bad")];
        Assert.Equal(2, Run([.. common, "--distill-from", teacherDir, "--augment-drop", "0.1"]));
        Assert.Equal(1, Run([.. common, "--distill-from", Path.Combine(_root, "no-such-teacher")])); // a parse error, in process
        Assert.Equal(2, Run([.. common, "--distill-weight", "0.5"]));
        Assert.Equal(1, Run([.. common, "--distill-from", teacherDir, "--distill-weight", "0"])); // parse errors, in process
        Assert.Equal(1, Run([.. common, "--distill-from", teacherDir, "--distill-temperature", "-1"]));

        // A teacher over the same classes in another order would give each class another's probability: refused.
        var reordered = Path.Combine(_root, "models", "teacher", "2.0.0");
        Assert.Equal(0, Run("train", "--data", data, "--classes", "TDE,SNII,SNIa", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--out", reordered));
        Assert.Equal(2, Run([.. common, "--distill-from", reordered]));
        Assert.False(Directory.Exists(Path.Combine(_root, "models", "student", "bad")));
    }

    [Theory]
    [InlineData("train", "--lr", "-1")]
    [InlineData("train", "--lr", "NaN")]
    [InlineData("train", "--epochs", "0")]
    [InlineData("train", "--batch", "0")]
    [InlineData("train", "--threads", "0")]
    [InlineData("train", "--patience", "-1")]
    [InlineData("train", "--val", "-0.1")]
    [InlineData("train", "--test", "1")]
    [InlineData("train", "--step-loss", "bogus")]
    [InlineData("train", "--select", "bogus")]
    [InlineData("finetune", "--lr", "0")]
    [InlineData("finetune", "--max-steps", "0")]
    [InlineData("evaluate", "--max-steps", "-1")]
    public void BadSetting_RefusedBeforeAnyDataIsRead_ExitTwoNothingWritten(string command, string option, string value)
    {
        var data = WriteData();
        var baseDir = Directory.CreateDirectory(Path.Combine(_root, "models", "bad-setting-base", "1.0.0")).FullName;
        var output = Path.Combine(_root, "models", "bad-setting", "1.0.0");
        string[] args = command switch
        {
            "train" => ["train", "--data", data, "--no-meta", "--quiet", "--out", output],
            "finetune" => ["finetune", "--from", baseDir, "--data", data, "--no-meta", "--quiet", "--out", output],
            _ => ["evaluate", "--model", baseDir, "--data", data, "--report", output],
        };

        // The base is an empty directory (a path that does not exist is refused while parsing): the setting is refused
        // before the package is read (every other setting at its default).
        Assert.Equal(2, Run([.. args, option, value]));
        Assert.False(Directory.Exists(output));
        Assert.Equal(2, Run(["train", "--data", data, "--no-meta", "--quiet", "--val", "0.6", "--test", "0.5", "--out", output]));
        Assert.Equal(2, Run(["train", "--benchmark", "--batch", "0"]));
    }

    [Fact]
    public void Train_AClassNoObjectHasOrNamedTwice_RefusedNothingWritten_FinetuneKeepsTheBasesClass()
    {
        var data = WriteData();
        var output = Path.Combine(_root, "models", "classes", "1.0.0");
        string[] train = ["train", "--data", data, "--no-meta", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--out", output];

        // A typo in --classes would otherwise train a network with a class it never saw, and name it.
        Assert.Equal(1, Run([.. train, "--classes", "SNIa,SNII,TDEE"]));
        Assert.Equal(1, Run([.. train, "--classes", "SNIa,SNII,SNIa"])); // refused while parsing: exit 1 in process, 2 from the program
        Assert.False(Directory.Exists(output));

        // The same for split: a held-out list without the class one meant to hold out.
        var ids = Path.Combine(_root, "typo-ids.txt");
        Assert.Equal(1, Run("split", "--data", data, "--classes", "SNIa,SNII,TDEE", "--test", "0.3", "--out", ids));
        Assert.Equal(1, Run("split", "--data", data, "--classes", "SNIa,SNII,TDEE", "--folds", "3", "--out", Path.Combine(_root, "typo-fold{k}.txt")));
        Assert.False(File.Exists(ids));

        // Fine-tuning on data without one of the base's classes keeps that class (the base knew it) and says so.
        Assert.Equal(0, Run([.. train, "--classes", "SNIa,SNII,TDE"]));
        var meta = Path.Combine(data, "ztf_toy_metadata.csv");
        File.WriteAllLines(meta, File.ReadAllLines(meta).Where(l => !l.Contains(",TDE,", StringComparison.Ordinal)));
        var tuned = Path.Combine(_root, "models", "classes-tuned", "1.0.0");
        Assert.Equal(0, Run("finetune", "--from", output, "--data", data, "--no-meta", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--out", tuned));
        Assert.Equal(["SNIa", "SNII", "TDE"], ModelPackage.ParseManifest(File.ReadAllBytes(Path.Combine(tuned, ModelPackage.ManifestFileName))).Classes);
    }

    [SharedDataFact]
    public void Score_NoMetadataModel_ScoresRealAlerts()
    {
        var data = WriteData();
        var dir = Path.Combine(_root, "models", "score", "1.0.0");
        Assert.Equal(0, Run("train", "--data", data, "--no-meta", "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--out", dir));
        var output = new StringWriter();

        var exit = ScoreCommand.Run(dir, [SharedData.Path("alert-samples", "ztf")], jsonl: true, output, CancellationToken.None);

        Assert.Equal(0, exit);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Equal(1.0, JsonDocument.Parse(l).RootElement.GetProperty("probabilities").EnumerateObject().Sum(p => p.Value.GetDouble()), 1e-4));
    }

    [SharedDataFact]
    public void TrainEvaluateScore_Muthukrishna2025_TheModelsOwnEncodingEverywhere()
    {
        var data = WriteData();
        var dir = Path.Combine(_root, "models", "paper", "1.0.0");
        Assert.Equal(0, Run("train", "--data", data, "--encoding", "muthukrishna2025", "--classes", "SNIa,SNII,TDE", "--epochs", "1", "--batch", "8", "--threads", "1", "--quiet", "--out", dir));
        using (var package = ModelPackage.Load(dir, StepEncodings.Ids))
        {
            Assert.Equal(Muthukrishna2025Encoding.EncodingId, package.Manifest.Encoding.Id);
            Assert.Equal(["wavelength_um", "time_trigger", "flux", "flux_err"], package.Manifest.Encoding.StepFeatures);
            Assert.Equal(4, package.Session.Inputs.Single(i => i.Name == "x").Shape[2]);
            Assert.DoesNotContain("meta", package.Session.Inputs.Select(i => i.Name));
        }

        // evaluate encodes with the model's own encoding, and refuses to be told another (a usage error, exit 2, as for finetune).
        var evalDir = Path.Combine(_root, "eval-paper");
        Assert.Equal(0, Run("evaluate", "--model", dir, "--data", data, "--report", evalDir));
        Assert.Equal(60, JsonDocument.Parse(File.ReadAllText(Path.Combine(evalDir, "evaluation.json"))).RootElement.GetProperty("objects").GetInt32());
        Assert.Equal(2, Run("evaluate", "--model", dir, "--data", data, "--encoding", "alertbroker-lc"));

        // score: real ZTF alerts encoded with it give valid probabilities.
        var output = new StringWriter();
        Assert.Equal(0, ScoreCommand.Run(dir, [SharedData.Path("alert-samples", "ztf")], jsonl: true, output, CancellationToken.None));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Equal(1.0, JsonDocument.Parse(l).RootElement.GetProperty("probabilities").EnumerateObject().Sum(p => p.Value.GetDouble()), 1e-4));
    }

    [Fact]
    public void Evaluate_PackagedExternalGraph_ScoredThroughOnnxRuntime()
    {
        var data = WriteData();
        var onnx = Path.Combine(_root, "external.onnx");
        var config = new GruClassifierConfig { InputFeatures = 4, MetaFeatures = 0, HiddenSize = 16, Classes = 3 };
        File.WriteAllBytes(onnx, GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(config, 2), GruClassifierExportOptions.PyTorchStyle));
        var dir = Path.Combine(_root, "models", "external", "1.0.0");
        Assert.Equal(0, Run("models", "package", "--onnx", onnx, "--classes", "SNIa,SNII,TDE", "--encoding", "muthukrishna2025", "--out", dir));

        var evalDir = Path.Combine(_root, "eval-external");
        Assert.Equal(0, Run("evaluate", "--model", dir, "--data", data, "--report", evalDir));

        var evaluation = JsonDocument.Parse(File.ReadAllText(Path.Combine(evalDir, "evaluation.json"))).RootElement;
        Assert.Equal(60, evaluation.GetProperty("objects").GetInt32());
        Assert.InRange(evaluation.GetProperty("macroAuroc").GetDouble(), 0, 1);
        Assert.Equal(0, evaluation.GetProperty("leftOut").GetProperty("total").GetInt32());

        // Someone else's held-out set with labels the model does not have (or spells otherwise): the objects it could
        // score are evaluated, and the rest are counted by reason on stderr, in evaluation.json and in the HTML report.
        var meta = Path.Combine(data, "ztf_toy_metadata.csv");
        File.WriteAllText(meta, File.ReadAllText(meta).Replace("ZTFtoy000,SNIa", "ZTFtoy000,snia", StringComparison.Ordinal)
            .Replace("ZTFtoy001,SNII", "ZTFtoy001,SNIIn", StringComparison.Ordinal) + "ZTFtoyNone,SNIa,0.1,0.1\n");
        File.AppendAllText(Path.Combine(data, "ztf_toy_lightcurves.csv"), "ZTFtoy010,59001,x,18.5,0.05\n");
        var (exit, _, _, stderr) = AlertBrokerProcess.RunToEnd(_root, "evaluate", "--model", dir, "--data", data, "--report", evalDir);
        Assert.Equal(0, exit);

        evaluation = JsonDocument.Parse(File.ReadAllText(Path.Combine(evalDir, "evaluation.json"))).RootElement;
        Assert.Equal(58, evaluation.GetProperty("objects").GetInt32());
        var leftOut = evaluation.GetProperty("leftOut");
        Assert.Equal(3, leftOut.GetProperty("total").GetInt32());
        Assert.Equal(1, leftOut.GetProperty("withoutObservations").GetInt32());
        Assert.Equal(1, leftOut.GetProperty("otherClasses").GetProperty("snia").GetInt32());
        Assert.Equal(1, leftOut.GetProperty("otherClasses").GetProperty("SNIIn").GetInt32());
        var said = stderr.ReplaceLineEndings(" ");
        Assert.Contains("3 object(s) of the data left out: 2 of classes the model does not have", said, StringComparison.Ordinal);
        Assert.Contains("'snia' is not 'SNIa'", said, StringComparison.Ordinal);
        Assert.Contains("Not evaluated: 3 object(s)", File.ReadAllText(Path.Combine(evalDir, "evaluation.html")), StringComparison.Ordinal);

        // Rows of the files left out are in the report too (they were said on stderr only).
        Assert.Equal(1, evaluation.GetProperty("rejectedRows").GetProperty("byReason").GetProperty("unknown band").GetInt64());
        Assert.Equal(1, evaluation.GetProperty("rejectedRows").GetProperty("total").GetInt64());
        Assert.Equal(0, evaluation.GetProperty("metadataReadAsUnknown").GetProperty("total").GetInt64());
        Assert.Contains("Reading the data: 1 row(s) left out (1 unknown band)", File.ReadAllText(Path.Combine(evalDir, "evaluation.html")), StringComparison.Ordinal);

        // A class of the model with no object in the data has no AUROC: the macro figures average the others, as said.
        File.WriteAllLines(meta, File.ReadAllLines(meta).Where(l => !l.Contains(",TDE,", StringComparison.Ordinal)));
        (exit, var stdout, _, stderr) = AlertBrokerProcess.RunToEnd(_root, "evaluate", "--model", dir, "--data", data, "--report", evalDir);
        Assert.Equal(0, exit);
        Assert.Contains("no object of class TDE in the data: the macro figures average the other 2 classes", stderr.ReplaceLineEndings(" "), StringComparison.Ordinal);

        // Its row in the table shows "–" for the figures it has none of (as the HTML report does), not NaN.
        var row = Assert.Single(stdout.Split('\n'), l => l.Contains("│ TDE ", StringComparison.Ordinal));
        Assert.DoesNotContain("NaN", stdout, StringComparison.Ordinal);
        Assert.Equal(3, row.Split('–').Length - 1);
        Assert.Contains("No object of class TDE: the macro figures average the other classes.", File.ReadAllText(Path.Combine(evalDir, "evaluation.html")), StringComparison.Ordinal);
    }
}
