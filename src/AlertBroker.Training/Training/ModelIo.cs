using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AlertBroker.Alerts;
using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;
using AlertBroker.Training.Data;
using AlertBroker.Training.Evaluation;

namespace AlertBroker.Training.Training;

/// <summary>A trained network and its class list, as read from a model package.</summary>
public sealed record TrainedModel(GruClassifierWeights Weights, IReadOnlyList<string> Classes, ModelManifest? Manifest);

/// <summary>Model packages in and out of the trainer, and transfer-learning surgery on the head.</summary>
public static class ModelIo
{
    /// <summary>The default network for a feature encoding (default: the project's, <c>alertbroker-lc</c> v1).</summary>
    public static GruClassifierConfig DefaultConfig(int classes, bool metadata = true, IStepEncoding? encoding = null)
    {
        encoding ??= StepEncodings.Default;
        return new GruClassifierConfig
        {
            InputFeatures = encoding.StepFeatureCount,
            MetaFeatures = metadata ? encoding.MetaFeatureCount : 0,
            Classes = classes,
        };
    }

    /// <summary>The encoding a package was trained with (from its manifest), or the default for a package that names none implemented here.</summary>
    public static IStepEncoding EncodingOf(ModelManifest? manifest) =>
        manifest?.Encoding is { } e ? StepEncodings.Get(e.Id) : StepEncodings.Default;

    /// <summary>
    /// Reads the weights of a package written by the trainer (its <c>model.onnx</c>) and its classes. A package a worker
    /// would refuse (a file missing, the manifest, hash or graph wrong, a network that gives no probabilities) is a
    /// <see cref="ModelPackageException"/>: "model unusable", exit 3, for every command that loads one.
    /// </summary>
    public static TrainedModel LoadPackage(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        byte[] manifestBytes, onnx;
        try
        {
            (manifestBytes, onnx) = ModelPackage.ReadFiles(directory);
        }
        catch (ModelPackageException e) when (e.Problems.Count > 0)
        {
            // A package file that is not a regular file (ModelPackage.ReadPackageFile), in the same words as below.
            throw new ModelPackageException($"{directory} is not a sound model package: {e.Problems[0]}", e);
        }
        catch (FileNotFoundException e)
        {
            // In the words models inspect uses, not .NET's "Could not find file '…/model.json'" (models average, ensemble,
            // priors, finetune --from, --distill-from on a directory that is not a package).
            var missing = Path.GetFileName(e.FileName ?? ModelPackage.ManifestFileName);
            var problem = missing == ModelPackage.ManifestFileName ? ModelPackage.ManifestMissing(directory, out _) : new(ModelPackageProblemKind.MissingFile, $"{missing} is missing");
            throw new ModelPackageException($"{directory} is not a sound model package: {problem}", e);
        }

        // What a worker would refuse is not a base to fine-tune or a teacher to distil from (finetune --from trained from a
        // package models inspect refuses): the manifest, the hash, the encoding, the graph's tensors. Checked before the
        // manifest is parsed on its own, so that one that does not parse is named with its directory too (models average
        // said "model.json: InvalidJson: …" without saying which of its packages).
        var problems = ModelPackage.Check(manifestBytes, onnx, StepEncodings.Ids);
        if (problems.Count > 0)
        {
            throw new ModelPackageException($"{directory} is not a sound model package: {problems[0].Kind}: {problems[0].Message}{(problems.Count > 1 ? $" (and {problems.Count - 1} more)" : string.Empty)}");
        }

        return FromPackage(directory, ModelPackage.ParseManifest(manifestBytes), onnx);
    }

    /// <summary>A package's network from its parsed manifest and ONNX bytes already read (<paramref name="directory"/> names it in errors).</summary>
    public static TrainedModel FromPackage(string directory, ModelManifest manifest, byte[] onnx)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var weights = GruClassifierExporter.FromOnnx(onnx);
        if (weights.Config.Classes != manifest.Classes.Count)
        {
            throw new ModelPackageException($"{directory}: model.json lists {manifest.Classes.Count} classes, the network has {weights.Config.Classes}.");
        }

        // The weights come from the ONNX graph; a model.json describing another network (a 200-unit network over a
        // 100-unit graph) is a package a worker refuses (TensorMismatch), not one to train from.
        if (manifest.Network is { } declared && GruClassifierExporter.Describe(weights.Config) is var actual
            && Differences(declared, actual) is { Length: > 0 } differences)
        {
            throw new ModelPackageException($"{directory}: model.json's network is not the ONNX graph's: {differences}.");
        }

        // A network with a NaN or infinite weight gives no probabilities at all (every output NaN): not a base, a teacher, a
        // member or a model to evaluate (its "macro AUROC" would be the ranking of NaNs).
        foreach (var tensor in weights.Parameters)
        {
            var bad = Array.FindIndex(tensor.Values, v => !float.IsFinite(v));
            if (bad >= 0)
            {
                throw new ModelPackageException(string.Create(CultureInfo.InvariantCulture, $"{directory}: the network's weights are not finite ({tensor.Name}[{bad}] is {tensor.Values[bad]}); the package cannot give probabilities"));
            }
        }

        return new TrainedModel(weights, manifest.Classes, manifest);
    }

    private static string Differences(NetworkDescriptor declared, NetworkDescriptor actual)
    {
        var differences = new List<string>();
        void Compare(string name, int said, int graph)
        {
            if (said != graph)
            {
                differences.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {said} in model.json, {graph} in the graph"));
            }
        }

        Compare("layers", declared.Layers, actual.Layers);
        Compare("hidden", declared.Hidden, actual.Hidden);
        // The head's widths are informational, 0 where model.json does not describe them (`models package` writes 0: a graph
        // trained elsewhere, or one of ours packaged again, was refused here by evaluate, priors, average, ensemble and
        // finetune --from while inspect, score and promote took it).
        void CompareDescribed(string name, int said, int graph)
        {
            if (said != 0)
            {
                Compare(name, said, graph);
            }
        }

        CompareDescribed("dense", declared.Dense, actual.Dense);
        CompareDescribed("metaDense", declared.MetaDense, actual.MetaDense);
        CompareDescribed("merge", declared.Merge, actual.Merge);
        CompareDescribed("latent", declared.Latent, actual.Latent);
        Compare("inputFeatures", declared.InputFeatures, actual.InputFeatures);
        Compare("metaFeatures", declared.MetaFeatures, actual.MetaFeatures);
        return string.Join(", ", differences);
    }

    /// <summary>
    /// Exports a package into <paramref name="directory"/> through the model core, with the training summary
    /// (data description, metrics, learning curves) in <c>model.json</c>. <paramref name="detectionsOnly"/>, when given,
    /// is the point selection written (a package made from another keeps that one's, whichever field recorded it);
    /// otherwise the encoding's, else what <paramref name="data"/> records.
    /// </summary>
    public static ModelManifest Export(
        GruClassifierWeights weights,
        IReadOnlyList<string> classes,
        string name,
        string version,
        string directory,
        JsonObject data,
        IReadOnlyDictionary<string, double> metrics,
        IReadOnlyList<EpochRecord>? history = null,
        IReadOnlyList<string>? surveys = null,
        IStepEncoding? encoding = null,
        bool? detectionsOnly = null)
    {
        encoding ??= StepEncodings.Default;
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(data);
        if (history is { Count: > 0 })
        {
            var array = new JsonArray();
            foreach (var e in history)
            {
                array.Add(new JsonObject
                {
                    ["epoch"] = e.Epoch,
                    ["trainLoss"] = Finite(e.TrainLoss),
                    ["validationLoss"] = Finite(e.ValidationLoss),
                    ["validationAccuracy"] = Finite(e.ValidationAccuracy),
                    ["validationMacroAuroc"] = Finite(e.ValidationMacroAuroc),
                    ["validationMeanEarlyMacroAuroc"] = Finite(e.ValidationEarlyAuroc),
                    ["seconds"] = Math.Round(e.Seconds, 2),
                });
            }

            data["history"] = array;
        }

        var finite = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (k, v) in metrics)
        {
            if (double.IsFinite(v))
            {
                finite[k] = Math.Round(v, 5);
            }
        }

        var metadata = weights.Config.MetaFeatures > 0;
        var manifest = new ModelManifest
        {
            Name = name,
            Version = version,
            Classes = classes,
            Surveys = surveys is { Count: > 0 } ? surveys : ModelManifest.DefaultSurveys,
            RequiresMetadata = metadata,
            Metadata = encoding.MetadataRequirements(metadata),
            Encoding = DescriptorOf(encoding, metadata, data, detectionsOnly),
            Training = new TrainingSummary { Data = data, Metrics = finite },
        };
        return GruClassifierExporter.ExportPackage(weights, manifest, directory);
    }

    /// <summary>
    /// The element-wise mean of the weights of several networks of one architecture (a "model soup": fine-tunes of one
    /// base with different seeds, whose weights stay close enough that their mean is itself a good network). Every model
    /// must have the same network shape, classes, encoding, surveys and point selection; throws
    /// <see cref="ArgumentException"/> naming the first difference otherwise.
    /// </summary>
    public static GruClassifierWeights Average(IReadOnlyList<TrainedModel> models)
    {
        var first = CheckSameKind(models, "averaging");
        var mean = new GruClassifierWeights(first.Weights.Config);
        for (var p = 0; p < mean.Parameters.Count; p++)
        {
            var target = mean.Parameters[p].Values;
            foreach (var model in models)
            {
                var source = model.Weights.Parameters[p].Values;
                for (var i = 0; i < target.Length; i++)
                {
                    target[i] += source[i];
                }
            }

            for (var i = 0; i < target.Length; i++)
            {
                target[i] /= models.Count;
            }
        }

        return mean;
    }

    /// <summary>
    /// An ensemble of several networks of one architecture as one network: the members side by side, every layer's
    /// weights block-diagonal (member k's GRU units, dense units and latent units see only member k's), and an output
    /// layer that takes the mean of the members' class logits — so the ensemble's probabilities are
    /// softmax(mean over k of log p_k) at every step, exactly, and it scores, exports, hot-swaps and keeps its per-object
    /// state like any other package (<see cref="GruClassifierWeights.SideBySide"/>, <see cref="GruClassifierConfig.Members"/>:
    /// the export runs each member's own GRU stack and head, K times the arithmetic of one). Unlike <see cref="Average"/>
    /// the members need not be fine-tunes of one base (networks trained from different starts are not close enough to
    /// average their weights). Same checks as <see cref="Average"/>; a member that is itself an ensemble brings its members.
    /// </summary>
    public static GruClassifierWeights Ensemble(IReadOnlyList<TrainedModel> models)
    {
        CheckSameKind(models, "an ensemble");
        var k = models.Count;

        // Each member's own blocks (one, unless it is an ensemble itself) with its logits scaled by 1/K: side by side, the
        // logits add up to the mean of the members'.
        var blocks = new List<GruClassifierWeights>();
        foreach (var model in models)
        {
            for (var b = 0; b < model.Weights.Config.Members; b++)
            {
                var block = model.Weights.Config.Members == 1 ? model.Weights.Clone() : model.Weights.Block(b);
                for (var i = 0; i < block.Output.Weight.Length; i++)
                {
                    block.Output.Weight[i] /= k;
                }

                for (var i = 0; i < block.Output.Bias.Length; i++)
                {
                    block.Output.Bias[i] /= k;
                }

                blocks.Add(block);
            }
        }

        return GruClassifierWeights.SideBySide(blocks);
    }

    private static string Describe(GruClassifierConfig c) => string.Create(
        CultureInfo.InvariantCulture,
        $"{c.Layers} × {c.HiddenSize} GRU on {c.InputFeatures} step features, dense {c.DenseSize}, {(c.MetaFeatures > 0 ? $"metadata {c.MetaFeatures} → {c.MetaDenseSize}, " : string.Empty)}merge {c.MergeSize}, latent {c.LatentSize}, {c.Classes} classes{(c.Members > 1 ? $", {c.Members} members" : string.Empty)}");

    // The first model, after checking that every model has its network shape, classes, encoding, point selection and
    // surveys; ArgumentException naming the first difference otherwise.
    private static TrainedModel CheckSameKind(IReadOnlyList<TrainedModel> models, string what)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (models.Count < 2)
        {
            throw new ArgumentException($"{what} needs at least two models ({models.Count} given)");
        }

        var first = models[0];
        for (var m = 1; m < models.Count; m++)
        {
            var other = models[m];
            string? difference =
                other.Weights.Config != first.Weights.Config ? $"network {Describe(other.Weights.Config)} vs {Describe(first.Weights.Config)}"
                : !other.Classes.SequenceEqual(first.Classes) ? $"classes {string.Join(',', other.Classes)} vs {string.Join(',', first.Classes)}"
                : other.Manifest?.Encoding.Id != first.Manifest?.Encoding.Id ? $"encoding {other.Manifest?.Encoding.Id} vs {first.Manifest?.Encoding.Id}"
                : other.Manifest?.EffectiveDetectionsOnly != first.Manifest?.EffectiveDetectionsOnly ? "one was trained on detections only, the other on every point"
                : !(other.Manifest?.EffectiveSurveys ?? []).SequenceEqual(first.Manifest?.EffectiveSurveys ?? []) ? $"surveys {string.Join(',', other.Manifest?.EffectiveSurveys ?? [])} vs {string.Join(',', first.Manifest?.EffectiveSurveys ?? [])}"
                : !SameMix(other, first) ? $"its outputs are set to the class mix {MixOf(other)}, model 1's to {MixOf(first)} (combine members of one mix: models priors moves a package to another)"
                : null;
            if (difference is not null)
            {
                throw new ArgumentException($"model {m + 1} differs from model 1: {difference}");
            }
        }

        return first;
    }

    // The class mix `models priors` moved a package's outputs to (training.data.priors.deployment), or "the one it was
    // trained on". Members of two mixes averaged into one package whose record (the first member's) described neither:
    // a later models priors started from the wrong mix.
    private static string MixOf(TrainedModel model) =>
        Mix(model) is { } mix ? string.Join(", ", model.Classes.Select((c, i) => double.IsNaN(mix[i]) ? $"{c}=?" : string.Create(CultureInfo.InvariantCulture, $"{c}={mix[i]:G6}"))) : "it was trained on";

    // One mix when every share agrees to the six decimals older packages recorded (0.055209 and 0.0552093 are one mix:
    // the same `models priors` arguments, written before and after the record kept every digit).
    private static bool SameMix(TrainedModel a, TrainedModel b)
    {
        var (x, y) = (Mix(a), Mix(b));
        if (x is null || y is null)
        {
            return x is null && y is null;
        }

        for (var i = 0; i < x.Length; i++)
        {
            if (double.IsNaN(x[i]) || double.IsNaN(y[i]) || Math.Abs(x[i] - y[i]) > 1e-6 + (1e-5 * Math.Max(x[i], y[i])))
            {
                return false;
            }
        }

        return true;
    }

    private static double[]? Mix(TrainedModel model) =>
        model.Manifest?.Training.Data?["priors"] is JsonObject { } priors && priors["deployment"] is JsonObject deployment
            ? [.. model.Classes.Select(c => deployment[c] is JsonValue v && v.TryGetValue(out double p) ? p : double.NaN)]
            : null;

    /// <summary>The <c>encoding</c> section, saying whether the model was trained on detections only (as the data description records it).</summary>
    private static FeatureEncodingDescriptor DescriptorOf(IStepEncoding encoding, bool metadata, JsonObject data, bool? detectionsOnly)
    {
        var descriptor = encoding.Descriptor(metadata);
        return descriptor with { DetectionsOnly = detectionsOnly ?? descriptor.DetectionsOnly ?? ModelManifest.RecordedDetectionsOnly(data) };
    }

    /// <summary>The learning curves stored in a package's <c>model.json</c> by <see cref="Export"/>, if any.</summary>
    public static IReadOnlyList<EpochRecord> History(ModelManifest? manifest)
    {
        var list = new List<EpochRecord>();
        if (manifest?.Training.Data?["history"] is not JsonArray array)
        {
            return list;
        }

        foreach (var node in array)
        {
            if (node is JsonObject o)
            {
                list.Add(new EpochRecord(
                    (int)(o["epoch"]?.GetValue<double>() ?? 0),
                    Read(o, "trainLoss"),
                    Read(o, "validationLoss"),
                    Read(o, "validationAccuracy"),
                    Read(o, "validationMacroAuroc"),
                    Read(o, "seconds"),
                    Read(o, "validationMeanEarlyMacroAuroc")));
            }
        }

        return list;
    }

    /// <summary>
    /// The starting point of a fine-tune: a copy of <paramref name="source"/> whose output layer serves
    /// <paramref name="classes"/>. Rows of classes the base knows are kept (unless <paramref name="replaceHead"/>);
    /// other rows, or all with <paramref name="replaceHead"/>, are freshly initialised from <paramref name="seed"/>.
    /// </summary>
    public static GruClassifierWeights AdaptHead(TrainedModel source, IReadOnlyList<string> classes, bool replaceHead, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(classes);
        var sameClasses = !replaceHead && classes.SequenceEqual(source.Classes, StringComparer.Ordinal);
        if (sameClasses)
        {
            return source.Weights.Clone();
        }

        var config = source.Weights.Config with { Classes = classes.Count };
        var fresh = GruClassifierWeights.Random(config, unchecked((long)seed));
        var target = new GruClassifierWeights(config);
        for (var i = 0; i < target.Parameters.Count; i++)
        {
            var p = target.Parameters[i];
            if (!p.Name.StartsWith("output.", StringComparison.Ordinal))
            {
                source.Weights.Parameters[i].Values.CopyTo(p.Values, 0);
            }
        }

        var latent = config.LatentSize;
        for (var c = 0; c < classes.Count; c++)
        {
            var old = replaceHead ? -1 : IndexOf(source.Classes, classes[c]);
            if (old >= 0)
            {
                source.Weights.Output.Weight.AsSpan(old * latent, latent).CopyTo(target.Output.Weight.AsSpan(c * latent, latent));
                target.Output.Bias[c] = source.Weights.Output.Bias[old];
            }
            else
            {
                fresh.Output.Weight.AsSpan(c * latent, latent).CopyTo(target.Output.Weight.AsSpan(c * latent, latent));
                target.Output.Bias[c] = fresh.Output.Bias[c];
            }
        }

        return target;
    }

    /// <summary>
    /// The network of <paramref name="source"/> without its metadata branch, computing exactly what the source computes
    /// when every metadata value is unknown (the vector the worker sends without a metadata source: all zeros). The
    /// metadata layer's output for that vector is a constant, tanh(b_meta), so its contribution to the merge layer,
    /// W_merge,meta · tanh(b_meta), moves into the merge bias; every other weight is copied. The start of a no-metadata
    /// fine-tune from a base trained with metadata.
    /// </summary>
    public static GruClassifierWeights WithoutMetadata(GruClassifierWeights source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var c = source.Config;
        if (c.MetaFeatures == 0)
        {
            return source.Clone();
        }

        var config = c with { MetaFeatures = 0 };
        var target = new GruClassifierWeights(config);
        foreach (var p in target.Parameters)
        {
            if (p.Name is "merge.weight" or "merge.bias")
            {
                continue;
            }

            source.GetParameter(p.Name).Values.CopyTo(p.Values, 0);
        }

        int merge = c.MergeSize, dense = c.DenseSize, md = c.MetaDenseSize, width = c.ConcatSize;
        var metaOut = new float[md];
        for (var j = 0; j < md; j++)
        {
            metaOut[j] = MathF.Tanh(source.MetaDense!.Bias[j]);
        }

        for (var r = 0; r < merge; r++)
        {
            source.Merge.Weight.AsSpan(r * width, dense).CopyTo(target.Merge.Weight.AsSpan(r * dense, dense));
            double bias = source.Merge.Bias[r];
            for (var j = 0; j < md; j++)
            {
                bias += source.Merge.Weight[(r * width) + dense + j] * metaOut[j];
            }

            target.Merge.Bias[r] = (float)bias;
        }

        return target;
    }

    /// <summary>The surveys of a data set's passbands ("ztf", "lsst", "des"), in that order; empty when none is known.</summary>
    public static IReadOnlyList<string> SurveysOf(LabelledDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var o in data.Objects)
        {
            foreach (var p in o.Observations)
            {
                if (SurveyNameOf(p.Band) is { } survey)
                {
                    seen.Add(survey);
                }
            }
        }

        return [.. new[] { SurveyNames.Ztf, SurveyNames.Lsst, "des" }.Where(seen.Contains)];
    }

    /// <summary>The survey that defines <paramref name="band"/> as model.json names surveys ("ztf", "lsst", "des"); null for an unknown band.</summary>
    public static string? SurveyNameOf(Passband band) => Passbands.SurveyOf(band) switch
    {
        Survey.Ztf => SurveyNames.Ztf,
        Survey.Lsst => SurveyNames.Lsst,
        _ => band is >= Passband.DesG and <= Passband.DesZ ? "des" : null,
    };

    /// <summary>A JSON description of a data set for <c>model.json</c>.</summary>
    public static JsonObject Describe(string source, EncodedDataset set, string part)
    {
        ArgumentNullException.ThrowIfNull(set);
        var counts = new JsonObject();
        var c = set.ClassCounts();
        for (var i = 0; i < c.Length; i++)
        {
            counts[set.Classes[i]] = c[i];
        }

        return new JsonObject
        {
            ["source"] = source,
            ["part"] = part,
            ["objects"] = set.Count,
            ["steps"] = set.TotalSteps,
            ["classCounts"] = counts,
        };
    }

    public static string Format(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);

    private static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(Math.Round(v, 5)) : null;

    private static double Read(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : double.NaN;

    private static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (string.Equals(list[i], value, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Serialises an object with the report options (for the CLI's JSON outputs).</summary>
    public static string ToJson<T>(T value) => JsonSerializer.Serialize(value, ReportWriter.JsonOptions);
}
