using System.Globalization;
using AlertBroker.Model.Features;
using AlertBroker.Model.Onnx;

namespace AlertBroker.Model.Packaging;

/// <summary>
/// The scoring contract a graph must honour, checked against its real inputs and outputs: which tensor plays which part
/// (<see cref="TensorRoles"/>), element types, ranks, which dimensions are dynamic and the sizes the manifest and the
/// encoding imply. Every message names the tensor and what was expected, on one line.
/// </summary>
public static class ScoringContract
{
    /// <summary>
    /// Problems of the graph's tensors against <paramref name="roles"/>. Sizes that are null are not checked (the packager
    /// reads them from the graph); a size that is given must match the graph exactly.
    /// </summary>
    public static List<string> Check(
        TensorRoles roles,
        IReadOnlyList<OnnxTensorInfo> inputs,
        IReadOnlyList<OnnxTensorInfo> outputs,
        int? stepFeatures,
        int? metaFeatures,
        int? layers,
        int? hidden,
        int? classes)
    {
        ArgumentNullException.ThrowIfNull(roles);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        var problems = new List<string>();

        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (role, name) in Named(roles))
        {
            if (named.TryGetValue(name, out var other))
            {
                problems.Add($"tensor '{name}' is given two roles ({other} and {role})");
            }
            else
            {
                named[name] = role;
            }
        }

        // Steps: float32 [batch, steps, F].
        if (string.IsNullOrEmpty(roles.Steps))
        {
            problems.Add("no input is the step features (float32 [batch, steps, F]), which every model needs");
        }
        else
        {
            Expect(problems, inputs, roles.Steps, "input", "step features", [OnnxElementType.Float], [null, null, stepFeatures], ["batch", "steps", "features"]);
        }

        // Metadata: float32 [batch, M], present iff the model has metadata features.
        if (roles.Metadata is { } meta)
        {
            if (metaFeatures == 0)
            {
                problems.Add($"input '{meta}' is given as the metadata input but the model has no metadata features");
            }
            else
            {
                Expect(problems, inputs, meta, "input", "metadata", [OnnxElementType.Float], [null, metaFeatures], ["batch", "metadata features"]);
            }
        }
        else if (metaFeatures > 0)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"the model has {metaFeatures} metadata features but no input is the metadata (float32 [batch, {metaFeatures}])"));
        }

        // State: float32 [layers, batch, hidden] in and out, both or neither.
        if ((roles.StateIn is null) != (roles.StateOut is null))
        {
            problems.Add(roles.StateIn is null
                ? $"output '{roles.StateOut}' is the state out but no input is the state in: a recurrent state must go in and come out"
                : $"input '{roles.StateIn}' is the state in but no output is the state out: a recurrent state must go in and come out");
        }

        if (roles.StateIn is { } stateIn)
        {
            Expect(problems, inputs, stateIn, "input", "state in", [OnnxElementType.Float], [layers, null, hidden], ["layers", "batch", "hidden"]);
        }

        if (roles.StateOut is { } stateOut)
        {
            Expect(problems, outputs, stateOut, "output", "state out", [OnnxElementType.Float], [layers, null, hidden], ["layers", "batch", "hidden"]);
        }

        if (roles is { StateIn: { } a, StateOut: { } b } && Find(inputs, a) is { } i && Find(outputs, b) is { } o
            && i.Shape.Count == 3 && o.Shape.Count == 3 && (i.Shape[0] != o.Shape[0] || i.Shape[2] != o.Shape[2]))
        {
            problems.Add($"state in '{a}' is [{Dims(i.Shape)}] but state out '{b}' is [{Dims(o.Shape)}]: they must have the same layers and width");
        }

        // Lengths: int32 or int64 [batch].
        if (roles.Lengths is { } lengths)
        {
            Expect(problems, inputs, lengths, "input", "lengths", [OnnxElementType.Int32, OnnxElementType.Int64], [null], ["batch"]);
        }

        // Probabilities: float32 [batch, steps, C].
        if (string.IsNullOrEmpty(roles.Probabilities))
        {
            problems.Add("no output is the class probabilities (float32 [batch, steps, C]), which every model needs");
        }
        else if (Find(outputs, roles.Probabilities) is { Shape.Count: 2 } lastOnly)
        {
            problems.Add($"output '{lastOnly.Name}' is [{Dims(lastOnly.Shape)}]: probabilities after the last step only; the scoring contract needs them after every step, [batch, steps, classes] (Keras: return_sequences=True on the last recurrent layer and the head applied per step; PyTorch: apply the head to the GRU's whole output)");
        }
        else
        {
            Expect(problems, outputs, roles.Probabilities, "output", "probabilities", [OnnxElementType.Float], [null, null, classes], ["batch", "steps", "classes"]);
        }

        // Nothing else: every input is fed by the scorer, every output is bound by it. An input's name must be an input
        // role's and an output's an output role's: a graph returning its input 'x' as an output of the same name passed
        // here (the name was taken) and ended in BatchScorer's ArgumentException, "unexpected error" (until 2026-12-07).
        string?[] inputRoles = [roles.Steps, roles.Metadata, roles.StateIn, roles.Lengths];
        string?[] outputRoles = [roles.Probabilities, roles.StateOut];
        foreach (var input in inputs)
        {
            if (Array.IndexOf(inputRoles, input.Name) < 0)
            {
                problems.Add($"the graph has input '{input.Name}' ({Describe(input)}) that plays no part in the scoring contract (step features, metadata, state in, lengths); the scorer could not feed it");
            }
        }

        foreach (var output in outputs)
        {
            if (Array.IndexOf(outputRoles, output.Name) < 0)
            {
                problems.Add($"the graph has output '{output.Name}' ({Describe(output)}) that plays no part in the scoring contract (probabilities, state out); export without it");
            }
        }

        return problems;
    }

    /// <summary>
    /// Problems of a manifest against the encoding it names: step feature count and names, metadata features, and the
    /// constants it records (band wavelengths, scaling) must be the implementation's, because the worker computes the
    /// features with its own code.
    /// </summary>
    public static List<string> CheckEncoding(ModelManifest manifest, IStepEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(encoding);
        var problems = new List<string>();
        var id = encoding.Id;
        var step = manifest.Encoding?.StepFeatures ?? [];
        var network = manifest.Network;
        if (network is not null && network.InputFeatures != encoding.StepFeatureCount)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"the network takes {network.InputFeatures} step features (network.inputFeatures) but {id} computes {encoding.StepFeatureCount} ({string.Join(", ", encoding.StepFeatureNames)})"));
        }

        if (step.Count != encoding.StepFeatureCount || !step.SequenceEqual(encoding.StepFeatureNames, StringComparer.Ordinal))
        {
            problems.Add($"encoding.stepFeatures is [{string.Join(", ", step)}] but {id} computes [{string.Join(", ", encoding.StepFeatureNames)}]");
        }

        var meta = manifest.Encoding?.MetaFeatures ?? [];
        if (meta.Count > 0 && !meta.SequenceEqual(encoding.MetaFeatureNames, StringComparer.Ordinal))
        {
            problems.Add(encoding.MetaFeatureCount == 0
                ? $"encoding.metaFeatures lists [{string.Join(", ", meta)}] but {id} has no metadata features"
                : $"encoding.metaFeatures is [{string.Join(", ", meta)}] but {id} fills [{string.Join(", ", encoding.MetaFeatureNames)}] (or none)");
        }

        var reference = encoding.Descriptor(metadata: encoding.MetaFeatureCount > 0);
        CompareConstants(problems, "bandWavelengthsMicron", manifest.Encoding?.BandWavelengthsMicron, reference.BandWavelengthsMicron, id);
        CompareConstants(problems, "scaling", manifest.Encoding?.Scaling?.ToDictionary(kv => kv.Key, kv => (double)kv.Value), reference.Scaling.ToDictionary(kv => kv.Key, kv => (double)kv.Value), id);
        return problems;
    }

    /// <summary>"[2, batch, 100]"-style text of a shape with -1 for dynamic dimensions.</summary>
    public static string Dims(IReadOnlyList<long> shape) => string.Join(", ", shape.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture)));

    public static string Describe(OnnxTensorInfo info) => $"{OnnxElementTypeNames.ToName(info.ElementType)} [{Dims(info.Shape)}]";

    private static void CompareConstants(List<string> problems, string field, IReadOnlyDictionary<string, double>? given, IReadOnlyDictionary<string, double> reference, EncodingId id)
    {
        foreach (var (key, value) in given ?? new Dictionary<string, double>())
        {
            if (!reference.TryGetValue(key, out var expected))
            {
                problems.Add($"encoding.{field}['{key}'] is not a constant of {id} (it has: {string.Join(", ", reference.Keys)})");
            }
            else if (!(Math.Abs(value - expected) <= 1e-6 * Math.Max(1, Math.Abs(expected))))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"encoding.{field}['{key}'] is {value} but {id} uses {expected}: the worker computes the features with its own constants"));
            }
        }
    }

    private static IEnumerable<(string Role, string Name)> Named(TensorRoles roles)
    {
        if (!string.IsNullOrEmpty(roles.Steps))
        {
            yield return ("step features", roles.Steps);
        }

        if (!string.IsNullOrEmpty(roles.Metadata))
        {
            yield return ("metadata", roles.Metadata);
        }

        if (!string.IsNullOrEmpty(roles.StateIn))
        {
            yield return ("state in", roles.StateIn);
        }

        if (!string.IsNullOrEmpty(roles.StateOut))
        {
            yield return ("state out", roles.StateOut);
        }

        if (!string.IsNullOrEmpty(roles.Lengths))
        {
            yield return ("lengths", roles.Lengths);
        }

        if (!string.IsNullOrEmpty(roles.Probabilities))
        {
            yield return ("probabilities", roles.Probabilities);
        }
    }

    // Sizes: null = must be dynamic (batch, steps) when the dimension is named batch/steps, else anything fixed; a value = exactly that.
    private static void Expect(List<string> problems, IReadOnlyList<OnnxTensorInfo> infos, string name, string kind, string role, OnnxElementType[] types, int?[] sizes, string[] dimensionNames)
    {
        var info = Find(infos, name);
        if (info is null)
        {
            problems.Add($"the graph has no {kind} '{name}' (the {role}; its {kind}s: {string.Join(", ", infos.Select(i => i.Name))})");
            return;
        }

        if (!types.Contains(info.ElementType))
        {
            problems.Add($"{kind} '{name}' (the {role}) must be {string.Join(" or ", types.Select(OnnxElementTypeNames.ToName))}, the graph has {OnnxElementTypeNames.ToName(info.ElementType)}");
        }

        if (info.Shape.Count != sizes.Length)
        {
            problems.Add($"{kind} '{name}' (the {role}) must have rank {sizes.Length} [{string.Join(", ", dimensionNames)}], the graph has [{Dims(info.Shape)}]");
            return;
        }

        for (var d = 0; d < sizes.Length; d++)
        {
            var actual = info.Shape[d];
            var dimension = dimensionNames[d];
            if (dimension is "batch" or "steps")
            {
                if (actual >= 0)
                {
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"{kind} '{name}' dimension {d} ({dimension}) is fixed at {actual} in the graph; it must be dynamic (PyTorch: dynamic_axes={{'{name}': {{{d}: '{dimension}'}}}})"));
                }
            }
            else if (actual < 0)
            {
                problems.Add($"{kind} '{name}' dimension {d} ({dimension}) is dynamic in the graph; it must be a fixed size");
            }
            else if (sizes[d] is { } expected && actual != expected)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{kind} '{name}' dimension {d} ({dimension}) must be {expected}, the graph has {actual}"));
            }
        }
    }

    private static OnnxTensorInfo? Find(IReadOnlyList<OnnxTensorInfo> infos, string name)
    {
        foreach (var info in infos)
        {
            if (info.Name == name)
            {
                return info;
            }
        }

        return null;
    }
}
