using System.Text.Json.Nodes;
using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Model.Tests;

public sealed class ModelPackageTests : IDisposable
{
    private static readonly EncodingId s_encoding = new("alertbroker-lc", 1);
    private static readonly GruClassifierConfig s_config = TestData.Config(6, 4, 8, 2, 5);
    private readonly string _root = Directory.CreateTempSubdirectory("ab-package-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    internal static ModelManifest Template(GruClassifierConfig c) => new()
    {
        Name = "ztf-gru",
        Version = "1.0.0",
        Classes = Enumerable.Range(0, c.Classes).Select(i => $"class{i}").ToArray(),
        Encoding = LightCurveEncoding.Descriptor(metadata: c.MetaFeatures > 0),
        Training = new TrainingSummary
        {
            Data = new JsonObject { ["source"] = "simulated", ["objects"] = 1234 },
            Metrics = new Dictionary<string, double> { ["macroAuroc"] = 0.91 },
        },
    };

    private string Export(out ModelManifest manifest, GruClassifierConfig? config = null)
    {
        var dir = ModelPackage.GetDirectory(_root, "ztf-gru", "1.0.0");
        config ??= s_config;
        manifest = GruClassifierExporter.ExportPackage(GruClassifierWeights.Random(config, 21), Template(config), dir);
        return dir;
    }

    private static ModelPackageException LoadFails(string dir, params EncodingId[] supported) =>
        Assert.Throws<ModelPackageException>(() => ModelPackage.Load(dir, supported.Length == 0 ? [s_encoding] : supported));

    // A package file that is not a regular one: /dev/zero was read until memory ran out ("unexpected error"), a named pipe
    // waited for a writer forever, a link to nothing was "Could not find file" (exit 1) or unexpected (exit 70).
    [Theory]
    [InlineData("model.onnx", "/dev/zero", "model.onnx is a character device, not a regular file")]
    [InlineData("model.json", "/dev/zero", "model.json is a character device, not a regular file")]
    [InlineData("model.onnx", "/nonexistent-ab-target", "model.onnx is a symbolic link to /nonexistent-ab-target, which does not exist")]
    [InlineData("model.onnx", "fifo", "model.onnx is a named pipe, not a regular file")]
    // A loop of links ended in "unexpected error (IOException): Too many levels of symbolic links" (exit 70), and a directory
    // named model.json was "model.json is missing" here but "is a directory" in models priors, until 2026-12-07.
    [InlineData("model.onnx", "model.onnx", "model.onnx is a symbolic link to model.onnx that never leads to a file (a loop of symbolic links, or too many levels of them)")]
    [InlineData("model.json", "model.json", "model.json is a symbolic link to model.json that never leads to a file (a loop of symbolic links, or too many levels of them)")]
    [InlineData("model.json", "directory", "model.json is a directory, not a regular file")]
    public void Load_PackageFileThatIsNotARegularFile_MissingFileNamingWhatItIs(string file, string target, string said)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var dir = Export(out _);
        var path = Path.Combine(dir, file);
        File.Delete(path);
        if (target == "fifo")
        {
            using var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path]);
            mkfifo.WaitForExit();
        }
        else if (target == "directory")
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            File.CreateSymbolicLink(path, target);
        }

        var e = LoadFails(dir);
        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.MissingFile && p.Message == said);
        Assert.Contains(said, Assert.Throws<ModelPackageException>(() => ModelPackage.ReadFiles(dir)).Message, StringComparison.Ordinal);
    }

    // The serializer keeps the last of a key given twice: `"name": "other"` appended made the package "other" without a word.
    [Theory]
    [InlineData("name")]
    [InlineData("training.data.source")]
    public void Load_AKeyGivenTwice_InvalidJsonNamingTheKey(string key)
    {
        var dir = Export(out _);
        var path = Path.Combine(dir, ModelPackage.ManifestFileName);
        var text = File.ReadAllText(path);
        var (inside, field) = key == "name" ? ("{", "name") : ("\"data\": {", "source");
        var at = text.IndexOf(inside, StringComparison.Ordinal) + inside.Length;
        File.WriteAllText(path, text[..at] + $" \"{field}\": \"other\"," + text[at..]);

        var e = LoadFails(dir);

        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.InvalidJson && p.Message == $"model.json gives the key '{key}' twice in one object: keep one of them");
        Assert.Contains(ModelPackage.Check(File.ReadAllBytes(path), File.ReadAllBytes(Path.Combine(dir, "model.onnx")), [s_encoding]), p => p.Kind == ModelPackageProblemKind.InvalidJson);
    }

    // A class name of a million characters passed models inspect and push (score --jsonl wrote 1 MB an object).
    [Fact]
    public void Load_AClassNameOver64Bytes_InvalidManifestShowingItShortened()
    {
        var dir = Export(out _);
        RewriteManifest(dir, m => m with { Classes = [new string('Q', 65), .. m.Classes.Skip(1)] });
        var atTheLimit = ModelPackage.GetDirectory(_root, "limit", "1");
        GruClassifierExporter.ExportPackage(GruClassifierWeights.Random(s_config, 21), Template(s_config) with { Name = "limit", Version = "1", Classes = [new string('é', 32), "b", "c", "d", "e"] }, atTheLimit);

        var e = LoadFails(dir);

        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.InvalidManifest
            && p.Message == $"classes[0] '{new string('Q', 40)}… (65 characters)' cannot be a class name: at most 64 bytes in UTF-8, not 65");
        using var loaded = ModelPackage.Load(atTheLimit, [s_encoding]);
        Assert.Equal(64, System.Text.Encoding.UTF8.GetByteCount(loaded.Manifest.Classes[0]));
    }

    private static void RewriteManifest(string dir, Func<ModelManifest, ModelManifest> change)
    {
        var path = Path.Combine(dir, ModelPackage.ManifestFileName);
        var manifest = ModelPackage.ParseManifest(File.ReadAllBytes(path));
        File.WriteAllBytes(path, ModelPackage.SerializeManifest(change(manifest)));
    }

    [Fact]
    public void ExportPackage_ThenLoad_ReturnsManifestAndWorkingSession()
    {
        var dir = Export(out var written);

        using var package = ModelPackage.Load(dir, [s_encoding]);

        Assert.Equal("ztf-gru", package.Manifest.Name);
        Assert.Equal(written.Onnx.Sha256, package.Sha256);
        Assert.Equal(ModelPackage.ComputeSha256(File.ReadAllBytes(Path.Combine(dir, "model.onnx"))), package.Sha256);
        Assert.Equal(GruClassifierExporter.Opset, package.Manifest.Onnx.Opset);
        Assert.StartsWith("AlertBroker ", package.Manifest.Onnx.Producer, StringComparison.Ordinal);
        Assert.Equal(["class0", "class1", "class2", "class3", "class4"], package.Manifest.Classes);
        Assert.Equal(0.4746, package.Manifest.Encoding.BandWavelengthsMicron["ztf:g"]);
        Assert.Equal(10f, package.Manifest.Encoding.Scaling["fluxSofteningMicroJy"]);
        Assert.Equal(0.91, package.Manifest.Training.Metrics["macroAuroc"]);
        Assert.Equal(1234, (int)package.Manifest.Training.Data!["objects"]!);
        Assert.Equal(2, package.Manifest.Network.Layers);
        Assert.Equal(8, package.Manifest.Network.Hidden);
        Assert.Equal(["x", "meta", "h0", "lengths"], package.Session.Inputs.Select(i => i.Name));
        Assert.NotEqual(default, package.Manifest.CreatedUtc);
    }

    [Fact]
    public void SerializeManifest_Json_UsesCamelCaseFieldNames()
    {
        Export(out var manifest);

        var json = System.Text.Encoding.UTF8.GetString(ModelPackage.SerializeManifest(manifest));

        foreach (var field in new[] { "\"name\"", "\"createdUtc\"", "\"classes\"", "\"encoding\"", "\"stepFeatures\"", "\"metaFeatures\"",
                     "\"bandWavelengthsMicron\"", "\"scaling\"", "\"network\"", "\"inputFeatures\"", "\"tensors\"", "\"elementType\"",
                     "\"training\"", "\"metrics\"", "\"onnx\"", "\"sha256\"", "\"opset\"", "\"producer\"" })
        {
            Assert.Contains(field, json);
        }

        Assert.DoesNotContain("\"id\"", json);
    }

    // Found by the data-integrity review (2026-12-07): an undefined metric (NaN) was written as the string "NaN", which a
    // strict reader (jq, JSON.parse into a number field, pydantic) takes for a string where a number belongs. It is null
    // now, read back as NaN; a model.json written before, with "NaN", is still read.
    [Fact]
    public void SerializeManifest_UndefinedMetric_IsNull_ReadBackAsNaN_AndTheOldStringIsStillRead()
    {
        Export(out var manifest);
        manifest = manifest with { Training = manifest.Training with { Metrics = new Dictionary<string, double> { ["testMacroAuroc"] = double.NaN, ["testAccuracy"] = 0.75 } } };

        var bytes = ModelPackage.SerializeManifest(manifest);

        using (var strict = System.Text.Json.JsonDocument.Parse(bytes))
        {
            var metrics = strict.RootElement.GetProperty("training").GetProperty("metrics");
            Assert.Equal(System.Text.Json.JsonValueKind.Null, metrics.GetProperty("testMacroAuroc").ValueKind);
            Assert.Equal(0.75, metrics.GetProperty("testAccuracy").GetDouble());
        }

        var back = ModelPackage.ParseManifest(bytes).Training.Metrics;
        Assert.True(double.IsNaN(back["testMacroAuroc"]));
        Assert.Equal(0.75, back["testAccuracy"]);

        var old = System.Text.Encoding.UTF8.GetString(bytes).Replace("\"testMacroAuroc\": null", "\"testMacroAuroc\": \"NaN\"", StringComparison.Ordinal);
        Assert.Contains("\"NaN\"", old, StringComparison.Ordinal);
        Assert.True(double.IsNaN(ModelPackage.ParseManifest(System.Text.Encoding.UTF8.GetBytes(old)).Training.Metrics["testMacroAuroc"]));
    }

    [Theory]
    [InlineData("null", double.NaN)]
    [InlineData("\"NaN\"", double.NaN)]
    [InlineData("\"Infinity\"", double.PositiveInfinity)]
    [InlineData("\"-Infinity\"", double.NegativeInfinity)]
    [InlineData("0.5", 0.5)]
    public void FigureConverter_ReadsNullNumbersAndTheNamedLiteralsOfEarlierReleases(string json, double expected)
    {
        var options = new System.Text.Json.JsonSerializerOptions().WithFigures();

        Assert.Equal(expected, System.Text.Json.JsonSerializer.Deserialize<double>(json, options));
        Assert.Equal((float)expected, System.Text.Json.JsonSerializer.Deserialize<float>(json, options));
        Assert.Equal(double.IsFinite(expected) ? json : "null", System.Text.Json.JsonSerializer.Serialize(expected, options));
    }

    [Theory]
    [InlineData("\"high\"")]
    [InlineData("true")]
    [InlineData("{}")]
    [InlineData("1e400")]
    public void FigureConverter_NotANumber_IsAJsonException(string json)
    {
        var options = new System.Text.Json.JsonSerializerOptions().WithFigures();

        Assert.Throws<System.Text.Json.JsonException>(() => System.Text.Json.JsonSerializer.Deserialize<double>(json, options));
    }

    [Fact]
    public void Load_FromBytes_ValidatesLikeDirectory()
    {
        var dir = Export(out _);

        using var package = ModelPackage.Load(File.ReadAllBytes(Path.Combine(dir, "model.json")), File.ReadAllBytes(Path.Combine(dir, "model.onnx")), [s_encoding]);

        Assert.Equal("1.0.0", package.Manifest.Version);
    }

    [Fact]
    public void Load_MissingDirectory_ReportsMissingFile()
    {
        var e = LoadFails(Path.Combine(_root, "nope"));

        Assert.Equal(ModelPackageProblemKind.MissingFile, Assert.Single(e.Problems).Kind);
    }

    [Fact]
    public void Load_BothFilesMissing_ReportsEach()
    {
        var dir = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;

        var e = LoadFails(dir);

        Assert.Equal(2, e.Problems.Count(p => p.Kind == ModelPackageProblemKind.MissingFile));
        Assert.Contains(e.Problems, p => p.Message.Contains("model.json", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Message.Contains("model.onnx", StringComparison.Ordinal));
    }

    // models/ztf-bts given for models/ztf-bts/2.7.0: the problem names the versions it holds (in version order, 2.10.0
    // after 2.9.0) and the one to give, instead of two missing files. A subdirectory without model.json or a hidden one
    // is not a version.
    [Fact]
    public void Load_ModelNameDirectoryHoldingVersions_NamesThemAndTheNewest()
    {
        var name = Directory.CreateDirectory(Path.Combine(_root, "toy")).FullName;
        foreach (var version in new[] { "2.10.0", "2.9.0", "1.0.0", ".staging", "notes" })
        {
            Directory.CreateDirectory(Path.Combine(name, version));
            if (version != "notes")
            {
                File.WriteAllText(Path.Combine(name, version, "model.json"), "{}");
            }
        }

        var e = LoadFails(name);

        var problem = Assert.Single(e.Problems);
        Assert.Equal(ModelPackageProblemKind.MissingFile, problem.Kind);
        Assert.Equal($"model.json is missing: {name} holds packages in its subdirectories 1.0.0, 2.9.0, 2.10.0 (a package is NAME/VERSION): give {Path.Combine(name, "2.10.0")}", problem.Message);
        Assert.Equal(["1.0.0", "2.9.0", "2.10.0"], ModelPackage.VersionsIn(name));
        Assert.Empty(ModelPackage.VersionsIn(Path.Combine(_root, "nope")));
    }

    [Fact]
    public void Load_OnnxMissing_ReportsMissingFile()
    {
        var dir = Export(out _);
        File.Delete(Path.Combine(dir, "model.onnx"));

        var e = LoadFails(dir);

        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.MissingFile && p.Message.Contains("model.onnx", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_BadJson_ReportsInvalidJson()
    {
        var dir = Export(out _);
        File.WriteAllText(Path.Combine(dir, "model.json"), "{ \"name\": \"x\", ");

        var e = LoadFails(dir);

        Assert.True(e.Has(ModelPackageProblemKind.InvalidJson));
    }

    [Fact]
    public void Load_ManifestWithAByteOrderMark_Loads()
    {
        var dir = Export(out var written);
        var path = Path.Combine(dir, "model.json");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. File.ReadAllBytes(path)]);

        using var package = ModelPackage.Load(dir, [s_encoding]);

        Assert.Equal(written.Onnx.Sha256, package.Sha256);
    }

    [Fact]
    public void Load_TamperedOnnx_ReportsHashMismatchAndDoesNotLoadIt()
    {
        var dir = Export(out _);
        var path = Path.Combine(dir, "model.onnx");
        var bytes = File.ReadAllBytes(path);
        bytes[^10] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        var e = LoadFails(dir);

        var problem = Assert.Single(e.Problems);
        Assert.Equal(ModelPackageProblemKind.HashMismatch, problem.Kind);
        Assert.Contains("not loaded", problem.Message);
    }

    [Fact]
    public void Load_TruncatedOnnx_ReportsHashMismatch()
    {
        var dir = Export(out _);
        var path = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..1000]);

        Assert.True(LoadFails(dir).Has(ModelPackageProblemKind.HashMismatch));
    }

    [Fact]
    public void Load_OnnxRuntimeRejectsGraph_ReportsOnnxLoadFailed()
    {
        var dir = Export(out _);
        // A well-formed ModelProto whose graph ONNX Runtime refuses (an operator that does not exist), with a matching hash.
        var builder = new Onnx.Protobuf.OnnxModelBuilder();
        builder.AddInput("x", Onnx.OnnxElementType.Float, Onnx.Protobuf.OnnxDimension.Fixed(1));
        builder.AddOutput("probs", Onnx.OnnxElementType.Float, Onnx.Protobuf.OnnxDimension.Fixed(1));
        builder.AddNode("NoSuchOperator", ["x"], ["probs"]);
        var onnx = builder.ToBytes();
        File.WriteAllBytes(Path.Combine(dir, "model.onnx"), onnx);
        RewriteManifest(dir, m => m with { Onnx = m.Onnx with { Sha256 = ModelPackage.ComputeSha256(onnx) } });

        var e = LoadFails(dir);

        Assert.True(e.Has(ModelPackageProblemKind.OnnxLoadFailed), e.Message);
    }

    [Fact]
    public void Load_NotProtobufWithMatchingHash_ReportsOnnxLoadFailed()
    {
        var dir = Export(out _);
        var garbage = new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
        File.WriteAllBytes(Path.Combine(dir, "model.onnx"), garbage);
        RewriteManifest(dir, m => m with { Onnx = m.Onnx with { Sha256 = ModelPackage.ComputeSha256(garbage) } });

        Assert.True(LoadFails(dir).Has(ModelPackageProblemKind.OnnxLoadFailed));
    }

    [Fact]
    public void Load_ManifestTensorNameDiffers_ReportsTensorMismatch()
    {
        var dir = Export(out _);
        RewriteManifest(dir, m => m with
        {
            Tensors = m.Tensors with { Inputs = [.. m.Tensors.Inputs.Select(t => t.Name == "h0" ? t with { Name = "state" } : t)] },
        });

        var e = LoadFails(dir);

        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.TensorMismatch && p.Message.Contains("'state'", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.TensorMismatch && p.Message.Contains("'h0'", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_ManifestElementTypeDiffers_ReportsTensorMismatch()
    {
        var dir = Export(out _);
        RewriteManifest(dir, m => m with
        {
            Tensors = m.Tensors with { Inputs = [.. m.Tensors.Inputs.Select(t => t.Name == "lengths" ? t with { ElementType = "int64" } : t)] },
        });

        var e = LoadFails(dir);

        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.TensorMismatch && p.Message.Contains("int64", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_ManifestShapeDiffers_ReportsTensorMismatch()
    {
        var dir = Export(out _);
        RewriteManifest(dir, m => m with
        {
            Tensors = m.Tensors with { Inputs = [.. m.Tensors.Inputs.Select(t => t.Name == "x" ? t with { Shape = [-1, 50, 6] } : t)] },
        });

        Assert.Contains(LoadFails(dir).Problems, p => p.Kind == ModelPackageProblemKind.TensorMismatch && p.Message.Contains("'x'", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_ClassCountDiffersFromOutput_ReportsTensorMismatch()
    {
        var dir = Export(out _);
        RewriteManifest(dir, m => m with
        {
            Classes = [.. m.Classes, "extra"],
            Network = m.Network with { Classes = m.Classes.Count + 1 },
        });

        var e = LoadFails(dir);

        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.TensorMismatch && p.Message.Contains("'probs'", StringComparison.Ordinal));
    }

    // A version holding a line break was pushed and could never be promoted; a name holding '@' passed inspect and was
    // refused by push: name and version make NAME@VERSION.
    [Theory]
    [InlineData("a@b", "1.0.0", "name 'a@b'")]
    [InlineData("ztf-gru", "1.0\n0", "version '1.0?0'")]
    [InlineData("ztf-gru", "1.0.0 ", "version '1.0.0 '")]
    [InlineData("ztf-gru", "../x", "version '../x'")]
    public void Load_NameOrVersionThatCannotBeAReference_ReportsInvalidManifest(string name, string version, string said)
    {
        var dir = Export(out _);
        RewriteManifest(dir, m => m with { Name = name, Version = version });

        Assert.Contains(LoadFails(dir).Problems, p => p.Kind == ModelPackageProblemKind.InvalidManifest && p.Message.StartsWith(said, StringComparison.Ordinal) && p.Message.Contains("without '@', control characters", StringComparison.Ordinal));
        Assert.True(ModelPackage.IsModelName("ztf-bts") && ModelPackage.IsModelName("2.7.0-rc1"));
    }

    // A 300-character name was packaged and inspected as sound, then refused by models push ("The path … is too long"):
    // name and version are bounded in UTF-8 bytes, the unit of a file name (see ModelPackage.MaxModelNameBytes).
    [Fact]
    public void IsModelName_LongerThan50BytesInUtf8_IsRefusedAndLoadSaysSo()
    {
        Assert.True(ModelPackage.IsModelName(new string('a', 50)));
        Assert.False(ModelPackage.IsModelName(new string('a', 51)));
        Assert.True(ModelPackage.IsModelName(new string('é', 25)));
        Assert.False(ModelPackage.IsModelName(new string('€', 17)));

        var dir = Export(out _);
        RewriteManifest(dir, m => m with { Name = new string('a', 300) });

        Assert.Contains(LoadFails(dir).Problems, p => p.Kind == ModelPackageProblemKind.InvalidManifest && p.Message.StartsWith("name 'aaa", StringComparison.Ordinal) && p.Message.Contains("at most 50 bytes in UTF-8", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_ClassNamesDisagreeWithNetworkClasses_ReportsInvalidManifest()
    {
        var dir = Export(out _);
        RewriteManifest(dir, m => m with { Classes = [.. m.Classes, "extra"] });

        Assert.Contains(LoadFails(dir).Problems, p => p.Kind == ModelPackageProblemKind.InvalidManifest && p.Message.Contains("network.classes", StringComparison.Ordinal));
    }

    // Found by mutating every field of a shipped model.json: a negative head width passed models inspect and score.
    [Theory]
    [InlineData("dense")]
    [InlineData("metaDense")]
    [InlineData("merge")]
    [InlineData("latent")]
    public void Load_ANegativeHeadWidth_ReportsInvalidManifest(string field)
    {
        var dir = Export(out _);
        RewriteManifest(dir, m => m with
        {
            Network = field switch
            {
                "dense" => m.Network with { Dense = -1 },
                "metaDense" => m.Network with { MetaDense = -1 },
                "merge" => m.Network with { Merge = -1 },
                _ => m.Network with { Latent = -1 },
            },
        });

        Assert.Contains(LoadFails(dir).Problems, p => p.Kind == ModelPackageProblemKind.InvalidManifest && p.Message.Contains($"network.{field} must be 0 (not described) or positive, not -1", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void Load_AClassWithoutAName_ReportsInvalidManifest(string blank)
    {
        // A class named "" passed models inspect (train refuses one): it cannot be told apart in a classification.
        var dir = Export(out _);
        RewriteManifest(dir, m => m with { Classes = [.. m.Classes.Take(1), blank, .. m.Classes.Skip(2)] });

        Assert.Contains(LoadFails(dir).Problems, p => p.Kind == ModelPackageProblemKind.InvalidManifest && p.Message.Contains("classes[1] is empty: every class needs a name", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("SN Ia, normal", "SN Ia, normal")]
    [InlineData("SNIa=0.5", "SNIa=0.5")]
    [InlineData("SN\nIa", "SN?Ia")]
    [InlineData("SNIa ", "SNIa ")]
    [InlineData("\tSNIa", "?SNIa")]
    public void Load_AClassNameThatCannotBeWrittenInAList_ReportsInvalidManifest(string name, string shown)
    {
        // Such a name passed models inspect and package: models priors --priors NAME=P,… could not name it, and a newline
        // split its line in every report.
        var dir = Export(out _);
        RewriteManifest(dir, m => m with { Classes = [.. m.Classes.Take(1), name, .. m.Classes.Skip(2)] });

        Assert.Contains(LoadFails(dir).Problems, p => p.Kind == ModelPackageProblemKind.InvalidManifest && p.Message.Contains($"classes[1] '{shown}' cannot be a class name: no ',' or '=', control character or space at either end", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_HiddenOrLayersDifferFromH0_ReportsTensorMismatch()
    {
        var dir = Export(out _);
        RewriteManifest(dir, m => m with { Network = m.Network with { Hidden = 9, Layers = 3 } });

        var e = LoadFails(dir);

        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.TensorMismatch && p.Message.Contains("'h0' dimension 0", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.TensorMismatch && p.Message.Contains("'h0' dimension 2", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.TensorMismatch && p.Message.Contains("'hn'", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_EncodingNotSupported_ReportsUnsupportedEncoding()
    {
        var dir = Export(out _);

        var e = LoadFails(dir, new EncodingId("alertbroker-lc", 2), new EncodingId("other", 1));

        var problem = Assert.Single(e.Problems);
        Assert.Equal(ModelPackageProblemKind.UnsupportedEncoding, problem.Kind);
        Assert.Contains("alertbroker-lc v1", problem.Message);
    }

    [Theory]
    [InlineData("classes", "classes")]
    [InlineData("classes[0]", "classes[0]")]
    [InlineData("network", "network")]
    [InlineData("encoding", "encoding")]
    [InlineData("encoding.stepFeatures", "encoding.stepFeatures")]
    [InlineData("encoding.scaling", "encoding.scaling")]
    [InlineData("tensors", "tensors")]
    [InlineData("tensors.inputs", "tensors.inputs")]
    [InlineData("tensors.outputs[0]", "tensors.outputs[0]")]
    [InlineData("training", "training")]
    [InlineData("onnx", "onnx")]
    [InlineData("onnx.file", "onnx.file")]
    [InlineData("name", "name")]
    [InlineData("surveys[0]", "surveys[0]")]
    [InlineData("metadata[0]", "metadata[0]")]
    public void Load_JsonNullWhereAValueIsExpected_IsInvalidManifestNamingTheField(string path, string field)
    {
        var dir = Export(out _);
        RewriteManifest(dir, m => m with { Surveys = ["ztf"], Metadata = [MetadataRequirement.Redshift] });
        SetJson(dir, path, null);

        var e = LoadFails(dir);
        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.InvalidManifest && p.Message.Contains(field + " is null", StringComparison.Ordinal));
        var parsed = Assert.Throws<ModelPackageException>(() => ModelPackage.ParseManifest(File.ReadAllBytes(Path.Combine(dir, ModelPackage.ManifestFileName))));
        Assert.True(parsed.Has(ModelPackageProblemKind.InvalidManifest));
    }

    [Fact]
    public void Load_OptionalFieldsLeftOut_LoadsWithTheirDefaults()
    {
        var dir = Export(out _);
        var file = Path.Combine(dir, ModelPackage.ManifestFileName);
        var root = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        root.Remove("training");
        root["onnx"]!.AsObject().Remove("file");
        root["onnx"]!.AsObject().Remove("producer");
        File.WriteAllText(file, root.ToJsonString());

        using var package = ModelPackage.Load(dir, [s_encoding]);

        Assert.Equal(ModelPackage.OnnxFileName, package.Manifest.Onnx.File);
        Assert.Null(package.Manifest.Training.Data);
        Assert.Empty(package.Manifest.Training.Metrics);
    }

    // docs/model-package.md listed checks for these three fields without saying that a manifest may leave them out: they
    // describe constants the worker takes from its own encoding (and the opset the file itself declares), so absent they
    // default to those, and present they must agree.
    [Fact]
    public void Load_EncodingConstantsAndOpsetLeftOut_LoadsAndScoresAsWithThem()
    {
        var dir = Export(out _);
        using var full = ModelPackage.Load(dir, [s_encoding]);
        var x = new float[3 * s_config.InputFeatures];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = MathF.Sin(i * 0.3f);
        }

        using var fullScorer = new Scoring.BatchScorer(full);
        var expected = fullScorer.Score([new Scoring.ScoringRequest(x, new float[s_config.MetaFeatures], ReadOnlyMemory<float>.Empty)])[0].Probabilities.ToArray();
        var file = Path.Combine(dir, ModelPackage.ManifestFileName);
        var root = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        root["encoding"]!.AsObject().Remove("bandWavelengthsMicron");
        root["encoding"]!.AsObject().Remove("scaling");
        root["onnx"]!.AsObject().Remove("opset");
        File.WriteAllText(file, root.ToJsonString());

        using var package = ModelPackage.Load(dir, [s_encoding]);
        using var scorer = new Scoring.BatchScorer(package);

        Assert.Empty(package.Manifest.Encoding.BandWavelengthsMicron);
        Assert.Empty(package.Manifest.Encoding.Scaling);
        Assert.Equal(0, package.Manifest.Onnx.Opset);
        Assert.Equal(expected, scorer.Score([new Scoring.ScoringRequest(x, new float[s_config.MetaFeatures], ReadOnlyMemory<float>.Empty)])[0].Probabilities.ToArray());
    }

    [Theory]
    [InlineData("bandWavelengthsMicron", "ztf:g", 0.5, ModelPackageProblemKind.EncodingMismatch, "encoding.bandWavelengthsMicron['ztf:g'] is 0.5")]
    [InlineData("bandWavelengthsMicron", "ztf:g", -1, ModelPackageProblemKind.InvalidManifest, "encoding.bandWavelengthsMicron['ztf:g'] must be a positive wavelength")]
    [InlineData("scaling", "timeScaleDays", 7, ModelPackageProblemKind.EncodingMismatch, "encoding.scaling['timeScaleDays'] is 7")]
    [InlineData("scaling", "noSuchConstant", 1, ModelPackageProblemKind.EncodingMismatch, "encoding.scaling['noSuchConstant'] is not a constant")]
    public void Load_EncodingConstantThatDisagrees_IsRefusedNamingIt(string field, string key, double value, ModelPackageProblemKind kind, string message)
    {
        var dir = Export(out _);
        var file = Path.Combine(dir, ModelPackage.ManifestFileName);
        var root = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        root["encoding"]![field]![key] = value;
        File.WriteAllText(file, root.ToJsonString());

        var e = LoadFails(dir);

        Assert.Contains(e.Problems, p => p.Kind == kind && p.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Load_OpsetThatDisagreesWithTheFile_IsInvalidManifest()
    {
        var dir = Export(out _);
        RewriteManifest(dir, m => m with { Onnx = m.Onnx with { Opset = GruClassifierExporter.Opset + 1 } });

        var e = LoadFails(dir);

        Assert.Contains(e.Problems, p => p.Kind == ModelPackageProblemKind.InvalidManifest && p.Message.Contains("onnx.opset is", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("../model.onnx")]
    [InlineData("sub/model.onnx")]
    [InlineData("/tmp/model.onnx")]
    public void Load_OnnxFileOutsideThePackage_IsInvalidManifest(string file)
    {
        var dir = Export(out _);
        File.Copy(Path.Combine(dir, "model.onnx"), Path.Combine(dir, "..", "model.onnx"));
        SetJson(dir, "onnx.file", file);

        Assert.Contains(LoadFails(dir).Problems, p => p.Kind == ModelPackageProblemKind.InvalidManifest && p.Message.Contains("onnx.file", StringComparison.Ordinal));
        Assert.Throws<ModelPackageException>(() => ModelPackage.ParseManifest(File.ReadAllBytes(Path.Combine(dir, ModelPackage.ManifestFileName))));
    }

    // Sets the value at a dotted path with [i] indices ("tensors.outputs[0]") in the package's model.json.
    private static void SetJson(string dir, string path, string? value)
    {
        var file = Path.Combine(dir, ModelPackage.ManifestFileName);
        var root = JsonNode.Parse(File.ReadAllText(file))!;
        var parts = path.Split('.');
        JsonNode parent = root;
        for (var i = 0; i < parts.Length; i++)
        {
            var (name, index) = parts[i].IndexOf('[', StringComparison.Ordinal) is var at and >= 0
                ? (parts[i][..at], int.Parse(parts[i][(at + 1)..^1], System.Globalization.CultureInfo.InvariantCulture))
                : (parts[i], -1);
            var last = i == parts.Length - 1;
            if (index < 0 && last)
            {
                parent[name] = value is null ? null : JsonValue.Create(value);
            }
            else if (index < 0)
            {
                parent = parent[name]!;
            }
            else if (last)
            {
                parent[name]![index] = value is null ? null : JsonValue.Create(value);
            }
            else
            {
                parent = parent[name]![index]!;
            }
        }

        File.WriteAllText(file, root.ToJsonString());
    }

    [Fact]
    public void Load_SeveralProblems_ReportsAllOfThem()
    {
        var dir = Export(out _);
        RewriteManifest(dir, m => m with
        {
            Name = "",
            Encoding = m.Encoding with { StepFeatures = ["only-one"] },
        });
        var path = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..500]);

        var e = LoadFails(dir, new EncodingId("something-else", 1));

        Assert.True(e.Has(ModelPackageProblemKind.InvalidManifest));
        Assert.True(e.Has(ModelPackageProblemKind.UnsupportedEncoding));
        Assert.True(e.Has(ModelPackageProblemKind.HashMismatch));
        Assert.True(e.Problems.Count >= 4, e.Message);
        Assert.All(e.Problems, p => Assert.Contains(p.Message, e.Message));
    }

    [Fact]
    public void Save_NameWithPathSeparator_IsRefused()
    {
        var manifest = Template(s_config) with { Name = "../escape" };

        var e = Assert.Throws<ModelPackageException>(() => GruClassifierExporter.ExportPackage(GruClassifierWeights.Random(s_config, 1), manifest, Path.Combine(_root, "x")));

        Assert.True(e.Has(ModelPackageProblemKind.InvalidManifest));
        Assert.False(Directory.Exists(Path.Combine(_root, "x")));
    }

    [Fact]
    public void Save_ClassCountDiffersFromNetwork_IsRefused()
    {
        var manifest = Template(s_config) with { Classes = ["a", "b"] };

        Assert.Throws<ModelPackageException>(() => GruClassifierExporter.ExportPackage(GruClassifierWeights.Random(s_config, 1), manifest, Path.Combine(_root, "y")));
    }

    [Fact]
    public void Save_AnyOnnxBytes_WritesTheirSha256()
    {
        var onnx = GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(s_config, 1));
        var manifest = Template(s_config) with
        {
            Network = GruClassifierExporter.Describe(s_config),
            Tensors = TensorContract.Standard(2, 8, 6, 4, 5),
        };

        var written = ModelPackage.Save(Path.Combine(_root, "z"), manifest, onnx);

        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(onnx)), written.Onnx.Sha256);
        Assert.Equal(17, written.Onnx.Opset);
        Assert.Equal(onnx, File.ReadAllBytes(Path.Combine(_root, "z", "model.onnx")));
    }

    [Fact]
    public void FromOnnx_PackageModel_RestoresTheExportedWeights()
    {
        var dir = ModelPackage.GetDirectory(_root, "ztf-gru", "2");
        var weights = GruClassifierWeights.Random(s_config, 5);
        GruClassifierExporter.ExportPackage(weights, Template(s_config) with { Version = "2" }, dir);
        using var package = ModelPackage.Load(dir, [s_encoding]);

        var restored = GruClassifierExporter.FromOnnx(File.ReadAllBytes(Path.Combine(dir, package.Manifest.Onnx.File)));

        Assert.Equal(weights.Merge.Weight, restored.Merge.Weight);
        Assert.Equal(weights.GruLayers[1].BiasHh, restored.GruLayers[1].BiasHh);
    }

    [Fact]
    public void Load_CudaRequestedOnCpuBuild_ThrowsExecutionProviderFailureNotAPackageProblem()
    {
        var dir = Export(out _);

        var e = Assert.Throws<OnnxRuntimeException>(() => ModelPackage.Load(dir, [s_encoding], new OnnxSessionOptions { UseCuda = true }));

        Assert.Equal(OnnxErrorCode.ExecutionProviderFailure, e.ErrorCode);
    }
}
