using System.Globalization;
using System.Text.Json.Nodes;
using AlertBroker.Alerts;
using AlertBroker.Model.Features;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Scoring;

namespace AlertBroker.Model.Packaging;

/// <summary>What to package: an ONNX graph trained elsewhere, its classes, its encoding and optional role overrides.</summary>
public sealed record PackageRequest
{
    /// <summary>The ONNX file's bytes.</summary>
    public required byte[] Onnx { get; init; }

    /// <summary>Where the bytes came from (recorded in <c>training.data</c>).</summary>
    public string Source { get; init; } = "model.onnx";

    /// <summary>Class names in the order of the probabilities' last dimension.</summary>
    public required IReadOnlyList<string> Classes { get; init; }

    /// <summary>The encoding the network was trained with.</summary>
    public required IStepEncoding Encoding { get; init; }

    public required string Name { get; init; }

    public required string Version { get; init; }

    /// <summary>Surveys the model is meant for; null: <see cref="ModelManifest.DefaultSurveys"/>.</summary>
    public IReadOnlyList<string>? Surveys { get; init; }

    /// <summary>Explicit tensor names for roles (null entries are found from the graph).</summary>
    public TensorRoles Overrides { get; init; } = new();
}

/// <summary>
/// The outcome of packaging: the manifest when the graph fits, otherwise every problem found (one line each), and notes on
/// how each role was found.
/// </summary>
public sealed record PackagingResult(ModelManifest? Manifest, TensorRoles Roles, IReadOnlyList<string> Problems, IReadOnlyList<string> Notes)
{
    public bool Succeeded => Manifest is not null && Problems.Count == 0;
}

/// <summary>
/// Packages an ONNX classifier trained elsewhere (<c>alertbroker models package</c>): reads the graph's declared inputs and
/// outputs from its protobuf (names, element types, shapes with their symbolic dimensions), maps them onto the scoring
/// contract — step features; optional recurrent state in and out; optional lengths; optional metadata; per-step
/// probabilities — by explicit overrides first, then the standard names, then structure, writes <c>model.json</c>, and
/// validates the result in ONNX Runtime with a smoke batch (valid probabilities; a state that continues exactly; rows of a
/// padded batch equal to each row alone).
/// </summary>
public static class ModelPackager
{
    /// <summary>Maps the graph onto the scoring contract and builds the manifest, without ONNX Runtime.</summary>
    public static PackagingResult Describe(PackageRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var problems = new List<string>();
        var notes = new List<string>();
        OnnxGraphInfo graph;
        try
        {
            graph = OnnxGraphInfo.Read(request.Onnx);
        }
        catch (FormatException e)
        {
            return new PackagingResult(null, new TensorRoles(), [$"{request.Source} is not an ONNX model (ModelProto): {e.Message}"], notes);
        }

        if (graph.ExternalWeight is { } external)
        {
            return new PackagingResult(null, new TensorRoles(), [OnnxGraphInfo.ExternalWeightProblem(external)], notes);
        }

        if (graph.Inputs.Count == 0 || graph.Outputs.Count == 0)
        {
            problems.Add($"{request.Source} declares {graph.Inputs.Count} inputs and {graph.Outputs.Count} outputs; a classifier needs at least the step features in and the probabilities out");
        }

        foreach (var t in graph.Inputs.Concat(graph.Outputs))
        {
            if (!t.HasShape)
            {
                problems.Add($"'{t.Name}' is declared without a shape; export with shapes (PyTorch does by default; onnx.shape_inference can add them)");
            }
        }

        var inputs = graph.Inputs.Select(ModelPackage.ToInfo).ToList();
        var outputs = graph.Outputs.Select(ModelPackage.ToInfo).ToList();
        var roles = MapRoles(request.Overrides, inputs, outputs, problems, notes);
        var encoding = request.Encoding;

        // The sizes the contract implies, from the graph, the encoding and the classes.
        var steps = Find(inputs, roles.Steps);
        var features = steps is { Shape.Count: 3 } && steps.Shape[2] >= 0 ? (int)steps.Shape[2] : -1;
        if (features >= 0 && features != encoding.StepFeatureCount)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"input '{steps!.Name}' has {features} features per step but encoding {encoding.Id} computes {encoding.StepFeatureCount} ({string.Join(", ", encoding.StepFeatureNames)}); package it with the encoding it was trained with"));
        }

        var metaInput = Find(inputs, roles.Metadata);
        if (metaInput is not null && !(metaInput.ElementType == OnnxElementType.Float && metaInput.Shape.Count == 2))
        {
            // One line saying what is wrong: "--meta lengths" was told both that it had 0 metadata features and that the
            // model had none, contradicting each other and missing that an integer [batch] tensor is no metadata vector.
            problems.Add($"input '{metaInput.Name}' ({ScoringContract.Describe(metaInput)}) cannot be the metadata input, which is float32 [batch, M]");
            roles = roles with { Metadata = null };
            metaInput = null;
        }

        var metaFeatures = metaInput is { Shape.Count: 2 } && metaInput.Shape[1] >= 0 ? (int)metaInput.Shape[1] : 0;
        if (metaInput is not null && encoding.MetaFeatureCount == 0)
        {
            problems.Add($"input '{metaInput.Name}' is a metadata input but encoding {encoding.Id} has no metadata features; export the network without its metadata branch");
            roles = roles with { Metadata = null };
            metaFeatures = 0;
        }
        else if (metaInput is not null && metaFeatures != encoding.MetaFeatureCount)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"input '{metaInput.Name}' has {metaFeatures} metadata features but encoding {encoding.Id} fills {encoding.MetaFeatureCount} ({string.Join(", ", encoding.MetaFeatureNames)})"));
        }

        var state = Find(inputs, roles.StateIn);
        int layers = 0, hidden = 0;
        if (state is { Shape.Count: 3 })
        {
            layers = (int)Math.Max(0, state.Shape[0]);
            hidden = (int)Math.Max(0, state.Shape[2]);
        }

        var probs = Find(outputs, roles.Probabilities);
        if (probs is { Shape.Count: 3 } && probs.Shape[2] >= 0 && probs.Shape[2] != request.Classes.Count)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"output '{probs.Name}' gives {probs.Shape[2]} class probabilities but --classes lists {request.Classes.Count} ({string.Join(", ", request.Classes)})"));
        }

        problems.AddRange(ScoringContract.Check(roles, inputs, outputs, stepFeatures: null, metaFeatures, layers: null, hidden: null, classes: null));
        if (request.Classes.Count == 0 || request.Classes.Any(string.IsNullOrWhiteSpace) || request.Classes.Distinct(StringComparer.Ordinal).Count() != request.Classes.Count)
        {
            problems.Add($"--classes must list distinct, non-empty class names, not '{string.Join(",", request.Classes)}'");
        }

        if (graph.DefaultOpset == 0)
        {
            problems.Add($"{request.Source} imports no default-domain (ai.onnx) opset");
        }

        if (problems.Count > 0)
        {
            return new PackagingResult(null, roles, Distinct(problems), notes);
        }

        if (!roles.HasState)
        {
            notes.Add("no recurrent state in/out: the worker re-runs every object's whole light curve on each update (no incremental scoring)");
        }

        if (roles.Lengths is null)
        {
            notes.Add("no lengths input: rows of equal length are scored together and nothing is padded");
        }

        var metadata = metaFeatures > 0;
        var requirements = encoding.MetadataRequirements(metadata);
        var manifest = new ModelManifest
        {
            Name = request.Name,
            Version = request.Version,
            CreatedUtc = DateTimeOffset.UtcNow,
            Classes = [.. request.Classes],
            Surveys = request.Surveys is { Count: > 0 } surveys ? [.. surveys] : ModelManifest.DefaultSurveys,
            RequiresMetadata = requirements.Count > 0,
            Metadata = requirements,
            Encoding = encoding.Descriptor(metadata),
            Network = new NetworkDescriptor
            {
                Type = "gru",
                Layers = layers,
                Hidden = hidden,
                InputFeatures = encoding.StepFeatureCount,
                MetaFeatures = metaFeatures,
                Classes = request.Classes.Count,
            },
            Tensors = new TensorContract
            {
                Inputs = [.. graph.Inputs.Select(Spec)],
                Outputs = [.. graph.Outputs.Select(Spec)],
                Roles = roles == TensorRoles.Standard(metadata) ? null : roles,
            },
            Training = new TrainingSummary
            {
                Data = new JsonObject
                {
                    ["source"] = "external",
                    ["onnxFile"] = request.Source,
                    ["packagedBy"] = "alertbroker models package",
                    ["producer"] = graph.Producer,
                },
            },
            Onnx = new OnnxFileDescriptor
            {
                File = ModelPackage.OnnxFileName,
                Sha256 = ModelPackage.ComputeSha256(request.Onnx),
                Opset = (int)graph.DefaultOpset,
                Producer = graph.Producer,
            },
        };
        var manifestProblems = new List<ModelPackageProblem>();
        ModelPackage.ValidateManifest(manifest, manifestProblems);
        return manifestProblems.Count > 0
            ? new PackagingResult(null, roles, [.. manifestProblems.Select(p => p.Message)], notes)
            : new PackagingResult(manifest, roles, [], notes);
    }

    /// <summary>
    /// <see cref="Describe"/>, then loads the package in ONNX Runtime (the session's own view of the tensors is checked
    /// again) and runs the smoke batch (<see cref="SmokeTest"/>); writes <c>model.json</c> and <c>model.onnx</c> into
    /// <paramref name="directory"/> only when everything passed. An ONNX Runtime that does not load
    /// (<see cref="OnnxRuntimeNotFoundException"/>) surfaces as itself.
    /// </summary>
    public static PackagingResult Package(PackageRequest request, string directory, OnnxSessionOptions? sessionOptions = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var described = Describe(request);
        if (!described.Succeeded)
        {
            return described;
        }

        var manifest = described.Manifest!;
        var problems = new List<string>();
        try
        {
            using var package = ModelPackage.Load(ModelPackage.SerializeManifest(manifest), request.Onnx, StepEncodings.Ids, sessionOptions ?? new OnnxSessionOptions(), request.Source);
            problems.AddRange(SmokeTest(package, request.Encoding));
        }
        catch (ModelPackageException e)
        {
            problems.AddRange(e.Problems.Select(p => p.Kind == ModelPackageProblemKind.OnnxLoadFailed ? p.Message : $"{p.Kind}: {p.Message}"));
        }
        catch (OnnxRuntimeException e) when (e is not OnnxRuntimeNotFoundException && e.ErrorCode != OnnxErrorCode.ExecutionProviderFailure)
        {
            problems.Add($"the graph loads but fails to run in ONNX Runtime: {e.NativeMessage}");
        }

        if (problems.Count > 0)
        {
            return described with { Manifest = null, Problems = Distinct(problems) };
        }

        var written = ModelPackage.Save(directory, manifest, request.Onnx);
        return described with { Manifest = written };
    }

    /// <summary>
    /// Runs a loaded package on synthetic light curves encoded with <paramref name="encoding"/> (1, 3 and 6 steps in one
    /// batch) and returns what is wrong: probabilities must be finite, non-negative and sum to 1 after every step; with a
    /// lengths input, each row of the padded batch must equal the row alone (a graph that ignores lengths fails here); with a
    /// state, 6 steps at once must equal 3 steps then 3 more from the returned state (a graph that ignores its state input
    /// fails here); two rows of one length scored together must each equal the row alone (a graph that mixes the rows of a
    /// batch fails here); the first 3 steps of the 6-step curve must give what they give alone (a graph that is not causal
    /// fails here). Tolerance 1e-4.
    /// </summary>
    public static List<string> SmokeTest(ModelPackage package, IStepEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(encoding);
        const float tolerance = 1e-4f;
        var problems = new List<string>();
        using var scorer = new BatchScorer(package);
        var d = scorer.Dimensions;
        var meta = new float[d.MetaFeatures];
        if (d.MetaFeatures > 0)
        {
            encoding.EncodeMeta(double.NaN, double.NaN, meta);
        }

        int[] lengths = [1, 3, 6];
        var steps = new float[lengths.Length][];
        for (var i = 0; i < lengths.Length; i++)
        {
            steps[i] = SyntheticSteps(encoding, lengths[i], seed: i);
        }

        var together = scorer.Score([.. steps.Select(x => new ScoringRequest(x, meta, ReadOnlyMemory<float>.Empty))]);
        for (var i = 0; i < lengths.Length; i++)
        {
            for (var t = 0; t < together[i].Steps; t++)
            {
                if (ProbabilityCheck.Problem(together[i].Probabilities.AsSpan(t * d.Classes, d.Classes)) is { } problem)
                {
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"the probabilities after step {t} of a {lengths[i]}-step light curve are not a distribution: {problem} (the output must be a softmax over the classes, not logits or sigmoids, from finite weights)"));
                    return problems;
                }
            }
        }

        // Each row alone: with lengths, the padded batch must not leak padding into a row.
        for (var i = 0; i < lengths.Length; i++)
        {
            var alone = scorer.Score([new ScoringRequest(steps[i], meta, ReadOnlyMemory<float>.Empty)])[0];
            var diff = Math.Max(MaxDiff(alone.Probabilities, together[i].Probabilities), MaxDiff(alone.HiddenState, together[i].HiddenState));
            if (diff > tolerance)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"a {lengths[i]}-step row scored in a batch padded to {lengths.Max()} steps differs from the same row alone by {diff:G3}: the graph does not honour its lengths input '{scorer.Roles.Lengths}' (its recurrence runs over the padding); export it without a lengths input and the scorer will never pad"));
                break;
            }
        }

        // Two rows of one length, which share a call with or without a lengths input (the scorer groups rows by length when
        // it cannot pad), must each equal the row alone. The rows above all have different lengths, so a graph that mixes the
        // rows of a batch — a time-major export ([steps, batch, features]) fed batch-major rows, a normalisation over the
        // batch — passed them and then scored an object by whichever objects shared its call.
        if (problems.Count == 0)
        {
            ScoringRequest[] twins = [.. new[] { 11, 12 }.Select(seed => new ScoringRequest(SyntheticSteps(encoding, 3, seed), meta, ReadOnlyMemory<float>.Empty))];
            var pair = scorer.Score(twins);
            for (var i = 0; i < twins.Length; i++)
            {
                var alone = scorer.Score([twins[i]])[0];
                var diff = Math.Max(MaxDiff(alone.Probabilities, pair[i].Probabilities), MaxDiff(alone.HiddenState, pair[i].HiddenState));
                if (diff > tolerance)
                {
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"two 3-step rows scored in one batch differ from the same rows alone by {diff:G3}: the graph mixes the rows of a batch, so an object's probabilities would depend on the objects scored with it; the contract is batch-major, [batch, steps, features] in and [batch, steps, classes] out (PyTorch: nn.GRU(batch_first=True), or transpose before and after a time-major GRU)"));
                    break;
                }
            }
        }

        // Causal: the first 3 steps of the 6-step curve must give what those 3 steps give alone. The worker scores an alert
        // from the steps up to it, evaluate reads step k of one run over the whole curve: a graph whose step k depends on
        // later steps (a bidirectional recurrence, a mean over the steps) made the two disagree, and was packaged, until
        // 2026-12-07. For every graph, not only one with a state (which ran this 3-step call already; for one without, it is
        // the one call this adds). A causal float32 graph differs by rounding at most: 0 on the CPU for every shipped package
        // (3 of 6, 50 of 100, 7 of 400 steps), and CPU and GPU differ by 4e-7 (docs/performance.md), far below 1e-4.
        var full = together[^1];
        var six = steps[^1];
        var half = six.Length / 2;
        var first = scorer.Score([new ScoringRequest(six.AsMemory(0, half), meta, ReadOnlyMemory<float>.Empty)])[0];
        var early = MaxDiff(first.Probabilities, full.Probabilities.AsSpan(0, first.Steps * d.Classes));
        if (early > tolerance)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"the network is not causal: its output at step k depends on later steps (the probabilities after the first {first.Steps} steps of a {full.Steps}-step light curve differ from those of the same {first.Steps} steps alone by {early:G3}); a worker scores each alert from the steps up to it, so make every step see only the steps before it (no bidirectional recurrence, no normalisation or pooling over the steps)"));
        }

        if (scorer.HasState)
        {
            var second = scorer.Score([new ScoringRequest(six.AsMemory(half), meta, first.HiddenState)])[0];
            var diff = Math.Max(
                MaxDiff(second.Probabilities, full.Probabilities.AsSpan((full.Steps - second.Steps) * d.Classes)),
                MaxDiff(second.HiddenState, full.HiddenState));
            if (diff > tolerance)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"the recurrent state does not continue: 6 steps at once differ from 3 steps and then 3 more from the returned '{scorer.Roles.StateOut}' by {diff:G3}; '{scorer.Roles.StateIn}' must be the state before the first step and '{scorer.Roles.StateOut}' the state after the last, for every layer"));
            }
        }

        return problems;
    }

    /// <summary>
    /// Runs the smoke batch (<see cref="SmokeTest"/>) on a loaded package with its own encoding and throws
    /// <see cref="ModelPackageException"/> (<see cref="ModelPackageProblemKind.InvalidOutput"/>) when it finds anything: what
    /// every command that serves or evaluates a package given by path checks, as the promotion gate does for the registry.
    /// </summary>
    public static void Verify(ModelPackage package, string source)
    {
        ArgumentNullException.ThrowIfNull(package);
        List<string> problems;
        try
        {
            problems = SmokeTest(package, StepEncodings.Get(package.Manifest.Encoding.Id));
        }
        catch (OnnxRuntimeException e)
        {
            problems = [$"the model loads but fails to run: {e.Message}"];
        }

        if (problems.Count > 0)
        {
            throw new ModelPackageException(source, [.. problems.Select(p => new ModelPackageProblem(ModelPackageProblemKind.InvalidOutput, p))]);
        }
    }

    /// <summary>
    /// <see cref="Verify"/> for a package just loaded: returns it, or disposes it and throws. For example
    /// <c>ModelPackager.Verified(ModelPackage.Load(dir, …), dir)</c>.
    /// </summary>
    public static ModelPackage Verified(ModelPackage package, string source)
    {
        ArgumentNullException.ThrowIfNull(package);
        try
        {
            Verify(package, source);
            return package;
        }
        catch
        {
            package.Dispose();
            throw;
        }
    }

    // Overrides first, then the standard names, then structure; every unassigned or ambiguous tensor becomes a problem.
    private static readonly HashSet<string> StandardNames = new(StringComparer.Ordinal) { "x", "h0", "meta", "lengths", "probs", "hn" };

    private static TensorRoles MapRoles(TensorRoles overrides, List<OnnxTensorInfo> inputs, List<OnnxTensorInfo> outputs, List<string> problems, List<string> notes)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        string? Given(string? name, List<OnnxTensorInfo> pool, string option, string kind)
        {
            if (name is null)
            {
                return null;
            }

            if (Find(pool, name) is null)
            {
                problems.Add($"{option} '{name}': the graph has no {kind} of that name ({kind}s: {string.Join(", ", pool.Select(t => $"{t.Name} {ScoringContract.Describe(t)}"))})");
                return null;
            }

            used.Add(name);
            notes.Add($"{option} {name}: as given");
            return name;
        }

        var steps = Given(overrides.Steps, inputs, "--input-x", "input");
        var meta = Given(overrides.Metadata, inputs, "--meta", "input");
        var stateIn = Given(overrides.StateIn, inputs, "--state-in", "input");
        var lengths = Given(overrides.Lengths, inputs, "--lengths", "input");
        var probs = Given(overrides.Probabilities, outputs, "--probs", "output");
        var stateOut = Given(overrides.StateOut, outputs, "--state-out", "output");

        string? Pick(string? current, List<OnnxTensorInfo> pool, string standard, Func<OnnxTensorInfo, bool> fits, string role, string option)
        {
            if (current is not null)
            {
                return current;
            }

            // A tensor with a role's standard name takes that role whatever its shape, and is no other role's candidate: an
            // export with fixed dimensions (no dynamic_axes) then hears what to change ("dimension 0 (batch) is fixed at 1")
            // from the contract check, where before its x [1, ?, 6] was taken for the state in and its h0 "played no part".
            var free = pool.Where(t => !used.Contains(t.Name)).ToList();
            if (free.FirstOrDefault(t => t.Name == standard) is { } named)
            {
                used.Add(named.Name);
                notes.Add($"{role}: '{named.Name}' (the standard name)");
                return named.Name;
            }

            var candidates = free.Where(t => !StandardNames.Contains(t.Name) && fits(t)).ToList();
            if (candidates.Count == 1)
            {
                used.Add(candidates[0].Name);
                notes.Add($"{role}: '{candidates[0].Name}' ({ScoringContract.Describe(candidates[0])}, the only tensor of that shape)");
                return candidates[0].Name;
            }

            if (candidates.Count > 1)
            {
                problems.Add($"{string.Join(" and ", candidates.Select(c => $"'{c.Name}' ({ScoringContract.Describe(c)})"))} could each be the {role}: name it with {option}");
            }

            return null;
        }

        static bool Float(OnnxTensorInfo t, int rank) => t.ElementType == OnnxElementType.Float && t.Shape.Count == rank;

        // The state first: [fixed layers, dynamic batch, fixed hidden] is the more specific shape.
        stateIn = Pick(stateIn, inputs, "h0", t => Float(t, 3) && t.Shape[0] >= 0 && t.Shape[1] < 0 && t.Shape[2] >= 0, "state in", "--state-in");
        steps = Pick(steps, inputs, "x", t => Float(t, 3) && t.Shape[0] < 0 && t.Shape[1] < 0, "step features", "--input-x");
        meta = Pick(meta, inputs, "meta", t => Float(t, 2) && t.Shape[0] < 0, "metadata", "--meta");
        lengths = Pick(lengths, inputs, "lengths", t => t.ElementType is OnnxElementType.Int32 or OnnxElementType.Int64 && t.Shape.Count == 1, "lengths", "--lengths");
        var stateShape = stateIn is null ? null : Find(inputs, stateIn)?.Shape;
        stateOut = Pick(stateOut, outputs, "hn", t => Float(t, 3) && t.Shape[1] < 0 && stateShape is { Count: 3 } && t.Shape[0] == stateShape[0] && t.Shape[2] == stateShape[2], "state out", "--state-out");
        probs = Pick(probs, outputs, "probs", t => t.ElementType == OnnxElementType.Float && (t.Shape.Count == 3 || t.Shape.Count == 2) && t.Shape[0] < 0, "probabilities", "--probs");

        if (steps is null && !problems.Any(p => p.Contains("step features", StringComparison.Ordinal)))
        {
            problems.Add($"no input looks like the step features (float32 [batch, steps, F] with dynamic batch and steps; inputs: {string.Join(", ", inputs.Select(t => $"{t.Name} {ScoringContract.Describe(t)}"))}): name it with --input-x");
        }

        if (probs is null && !problems.Any(p => p.Contains("probabilities", StringComparison.Ordinal)))
        {
            problems.Add($"no output looks like the class probabilities (float32 [batch, steps, C]; outputs: {string.Join(", ", outputs.Select(t => $"{t.Name} {ScoringContract.Describe(t)}"))}): name it with --probs");
        }

        return new TensorRoles { Steps = steps, Metadata = meta, StateIn = stateIn, StateOut = stateOut, Lengths = lengths, Probabilities = probs };
    }

    // A plausible light curve: alternating g and r detections a day or two apart, rising flux, encoded by the encoding.
    private static float[] SyntheticSteps(IStepEncoding encoding, int count, int seed)
    {
        var random = new Random(seed + 17);
        var bands = encoding.BandWavelengthsMicron.Keys.Select(BandFromKey).Where(b => b != Passband.Unknown).Take(2).ToArray();
        if (bands.Length == 0)
        {
            bands = [Passband.ZtfG];
        }

        var points = new Observation[count];
        var mjd = 60000.0;
        for (var i = 0; i < count; i++)
        {
            var flux = (float)(50 + (40 * i) + (10 * random.NextDouble()));
            points[i] = new Observation(1000 + i, mjd, bands[i % bands.Length], ObservationKind.Detection, flux, (float)(5 + random.NextDouble()), float.NaN);
            mjd += 1 + random.NextDouble();
        }

        var selected = encoding.SelectSteps(points, out var t0);
        var x = new float[selected.Length * encoding.StepFeatureCount];
        encoding.EncodeSteps(selected, 0, t0, double.NaN, x);
        return x;
    }

    private static Passband BandFromKey(string key)
    {
        foreach (var band in Enum.GetValues<Passband>())
        {
            if (band != Passband.Unknown && LightCurveEncoding.BandKey(band) == key)
            {
                return band;
            }
        }

        return Passband.Unknown;
    }

    private static float MaxDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var n = Math.Min(a.Length, b.Length);
        var max = a.Length == b.Length ? 0f : float.PositiveInfinity;
        for (var i = 0; i < n; i++)
        {
            var diff = Math.Abs(a[i] - b[i]);
            max = float.IsNaN(diff) ? float.PositiveInfinity : Math.Max(max, diff);
        }

        return max;
    }

    private static TensorSpec Spec(OnnxGraphTensor t) => new(t.Name, OnnxElementTypeNames.ToName(t.ElementType), t.Sizes);

    private static OnnxTensorInfo? Find(List<OnnxTensorInfo> infos, string? name) => name is null ? null : infos.FirstOrDefault(i => i.Name == name);

    private static List<string> Distinct(List<string> problems) => [.. problems.Distinct(StringComparer.Ordinal)];
}
