using System.Globalization;
using System.Text.Json;
using AlertBroker.Model.Onnx;

namespace AlertBroker.Model.Packaging;

/// <summary>The reference file cannot be used: not JSON, not an object, ragged or non-numeric arrays, a missing input, a wrong shape.</summary>
public sealed class ReferenceFormatException : Exception
{
    public ReferenceFormatException(string message)
        : base(message)
    {
    }

    public ReferenceFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ReferenceFormatException()
    {
    }
}

/// <summary>One compared output: the largest |ONNX Runtime − reference| over its elements, and where it is.</summary>
public sealed record OutputComparison(string Output, IReadOnlyList<long> Shape, double MaxAbsDifference, IReadOnlyList<long> WorstIndex)
{
    public bool Within(double tolerance) => MaxAbsDifference <= tolerance;
}

/// <summary>What <see cref="ReferenceVerifier.Verify"/> found.</summary>
public sealed record VerificationResult(IReadOnlyList<string> Fed, IReadOnlyList<OutputComparison> Outputs, IReadOnlyList<string> Ignored, double Tolerance)
{
    public bool Passed => Outputs.Count > 0 && Outputs.All(o => o.Within(Tolerance));
}

/// <summary>
/// <c>alertbroker models verify</c>: runs a package's graph on inputs recorded by the framework it was trained in and compares
/// the outputs with the framework's. The reference is one JSON object: keys that name graph inputs are fed (nested arrays,
/// the shape is the nesting, the element type the graph's), keys that name graph outputs are compared, other keys are
/// ignored. A NaN on either side counts as an infinite difference.
/// </summary>
public static class ReferenceVerifier
{
    public static VerificationResult Verify(OnnxSession session, ReadOnlySpan<byte> referenceJson, double tolerance)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!(tolerance >= 0) || double.IsInfinity(tolerance))
        {
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "the tolerance must be a finite number ≥ 0");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(referenceJson.ToArray(), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? string.Create(CultureInfo.InvariantCulture, $" at line {line + 1}, byte {e.BytePositionInLine + 1}") : string.Empty;
            throw new ReferenceFormatException($"the reference is not valid JSON{where}: {FirstSentence(e.Message)} (NaN and Infinity are not JSON: Python's json.dump writes them only for non-finite values, which a reference must not have)", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ReferenceFormatException($"the reference must be a JSON object of named arrays, not a {document.RootElement.ValueKind.ToString().ToLowerInvariant()}");
            }

            var inputs = new List<OnnxInputValue>();
            var expected = new Dictionary<string, (long[] Shape, double[] Values)>(StringComparer.Ordinal);
            var ignored = new List<string>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var input = session.Inputs.FirstOrDefault(i => i.Name == property.Name);
                var output = session.Outputs.FirstOrDefault(o => o.Name == property.Name);
                if (input is not null)
                {
                    var (shape, values) = ReadArray(property.Value, property.Name);
                    CheckShape(input, shape, "input");
                    inputs.Add(new OnnxInputValue(input.Name, Convert(input, values), shape));
                }
                else if (output is not null)
                {
                    var (shape, values) = ReadArray(property.Value, property.Name);
                    CheckShape(output, shape, "output");
                    expected[output.Name] = (shape, values);
                }
                else
                {
                    ignored.Add(property.Name);
                }
            }

            var missing = session.Inputs.Where(i => inputs.All(x => x.Name != i.Name)).ToList();
            if (missing.Count > 0)
            {
                throw new ReferenceFormatException($"the reference has no value for input{(missing.Count == 1 ? string.Empty : "s")} {string.Join(", ", missing.Select(m => $"'{m.Name}' ({ScoringContract.Describe(m)})"))}; its keys: {Keys(document.RootElement)}");
            }

            if (expected.Count == 0)
            {
                throw new ReferenceFormatException($"the reference names none of the graph's outputs ({string.Join(", ", session.Outputs.Select(o => o.Name))}): nothing to compare; its keys: {Keys(document.RootElement)}");
            }

            IReadOnlyList<OnnxOutputValue> produced;
            try
            {
                // Inputs in the session's order.
                produced = session.Evaluate([.. session.Inputs.Select(i => inputs.First(x => x.Name == i.Name))]);
            }
            catch (OnnxRuntimeException e) when (e is not OnnxRuntimeNotFoundException)
            {
                throw new ReferenceFormatException($"ONNX Runtime refused the reference inputs: {e.NativeMessage}", e);
            }

            var comparisons = new List<OutputComparison>();
            foreach (var (name, (shape, values)) in expected)
            {
                var actual = produced.First(p => p.Name == name);
                if (!actual.Shape.SequenceEqual(shape))
                {
                    throw new ReferenceFormatException($"output '{name}' is [{string.Join(", ", actual.Shape)}] from ONNX Runtime but [{string.Join(", ", shape)}] in the reference (different batch or steps in the inputs?)");
                }

                var worst = 0L;
                var max = values.Length == 0 ? 0.0 : -1.0;
                for (var i = 0; i < values.Length; i++)
                {
                    var diff = Math.Abs(actual.Values[i] - values[i]);
                    if (double.IsNaN(diff))
                    {
                        diff = double.IsNaN(actual.Values[i]) && double.IsNaN(values[i]) ? 0 : double.PositiveInfinity;
                    }

                    if (diff > max)
                    {
                        max = diff;
                        worst = i;
                    }
                }

                comparisons.Add(new OutputComparison(name, shape, max, Unravel(worst, shape)));
            }

            return new VerificationResult([.. inputs.Select(i => i.Name)], comparisons, ignored, tolerance);
        }
    }

    // Nested arrays of numbers → (shape from the nesting, values row-major). Ragged arrays and non-numbers are errors naming the path.
    private static (long[] Shape, double[] Values) ReadArray(JsonElement element, string name)
    {
        var shape = new List<long>();
        var probe = element;
        while (probe.ValueKind == JsonValueKind.Array)
        {
            var length = probe.GetArrayLength();
            shape.Add(length);
            if (length == 0)
            {
                break;
            }

            probe = probe[0];
        }

        var values = new List<double>();
        Walk(element, 0, name, shape, values);
        return ([.. shape], [.. values]);
    }

    private static void Walk(JsonElement element, int depth, string path, List<long> shape, List<double> values)
    {
        if (depth == shape.Count)
        {
            if (element.ValueKind != JsonValueKind.Number)
            {
                throw new ReferenceFormatException(element.ValueKind == JsonValueKind.Array
                    ? $"'{path}' nests deeper than its first element: ragged array (shape from the first elements: [{string.Join(", ", shape)}])"
                    : $"'{path}' is {Kind(element)}, not a number");
            }

            // A number beyond double's range (1e400) is not a value a framework wrote (it read as infinity and was fed so).
            values.Add(element.TryGetDouble(out var value) && double.IsFinite(value) ? value : throw new ReferenceFormatException($"'{path}' is {element.GetRawText()}, beyond the range of a 64-bit float"));
            return;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            throw new ReferenceFormatException($"'{path}' is {Kind(element)} where an array of {shape[depth]} was expected: ragged array (shape from the first elements: [{string.Join(", ", shape)}])");
        }

        if (element.GetArrayLength() != shape[depth])
        {
            throw new ReferenceFormatException(string.Create(CultureInfo.InvariantCulture, $"'{path}' has {element.GetArrayLength()} elements but its first sibling has {shape[depth]}: ragged array (shape from the first elements: [{string.Join(", ", shape)}])"));
        }

        var k = 0;
        foreach (var child in element.EnumerateArray())
        {
            Walk(child, depth + 1, string.Create(CultureInfo.InvariantCulture, $"{path}[{k++}]"), shape, values);
        }
    }

    private static void CheckShape(OnnxTensorInfo info, long[] shape, string kind)
    {
        var fits = shape.Length == info.Shape.Count;
        for (var d = 0; fits && d < shape.Length; d++)
        {
            fits = info.Shape[d] < 0 || info.Shape[d] == shape[d];
        }

        if (!fits)
        {
            throw new ReferenceFormatException($"{kind} '{info.Name}' is [{string.Join(", ", shape)}] in the reference but the graph declares {ScoringContract.Describe(info)}");
        }
    }

    private static Array Convert(OnnxTensorInfo input, double[] values)
    {
        switch (input.ElementType)
        {
            case OnnxElementType.Float:
                foreach (var v in values)
                {
                    // 1e300 became +infinity in float32 and was fed as that without a word.
                    if (double.IsFinite(v) && !float.IsFinite((float)v))
                    {
                        throw new ReferenceFormatException(string.Create(CultureInfo.InvariantCulture, $"input '{input.Name}' is float32 but the reference holds {v}, beyond its range (±{float.MaxValue})"));
                    }
                }

                return Array.ConvertAll(values, v => (float)v);
            case OnnxElementType.Int32:
            case OnnxElementType.Int64:
                foreach (var v in values)
                {
                    if (v != Math.Floor(v) || (input.ElementType == OnnxElementType.Int32 && (v < int.MinValue || v > int.MaxValue)))
                    {
                        throw new ReferenceFormatException(string.Create(CultureInfo.InvariantCulture, $"input '{input.Name}' is {OnnxElementTypeNames.ToName(input.ElementType)} but the reference holds {v}"));
                    }
                }

                return input.ElementType == OnnxElementType.Int32 ? Array.ConvertAll(values, v => (int)v) : Array.ConvertAll(values, v => (long)v);
            default:
                throw new ReferenceFormatException($"input '{input.Name}' is {OnnxElementTypeNames.ToName(input.ElementType)}; verify feeds float32, int32 and int64 inputs");
        }
    }

    private static long[] Unravel(long index, long[] shape)
    {
        var result = new long[shape.Length];
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] > 0)
            {
                result[d] = index % shape[d];
                index /= shape[d];
            }
        }

        return result;
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{e.GetString()}\"",
        JsonValueKind.Null => "null",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Object => "an object",
        _ => e.ValueKind.ToString().ToLowerInvariant(),
    };

    private static string Keys(JsonElement root) => string.Join(", ", root.EnumerateObject().Select(p => p.Name));

    private static string FirstSentence(string message)
    {
        var line = message.Split('\n')[0];
        var cut = line.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? line[..cut] : line;
    }
}
