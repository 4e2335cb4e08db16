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

/// <summary>What <see cref="ReferenceVerifier.Verify(OnnxSession, Stream, double)"/> found.</summary>
public sealed record VerificationResult(IReadOnlyList<string> Fed, IReadOnlyList<OutputComparison> Outputs, IReadOnlyList<string> Ignored, double Tolerance)
{
    public bool Passed => Outputs.Count > 0 && Outputs.All(o => o.Within(Tolerance));
}

/// <summary>
/// <c>alertbroker models verify</c>: runs a package's graph on inputs recorded by the framework it was trained in and compares
/// the outputs with the framework's. The reference is one JSON object: keys that name graph inputs are fed (nested arrays,
/// the shape is the nesting, the element type the graph's), keys that name graph outputs are compared, other keys are
/// ignored. A NaN on either side counts as an infinite difference.
/// The file is read as a stream of tokens straight into arrays of the tensors' own element types (4 bytes a float32
/// input, 8 an output value), never as a whole document: a 103 MB reference took 3.06 GB at peak through
/// <see cref="JsonDocument"/> (the document, a List&lt;double&gt; per key, then arrays), so the 1 GiB the CLI accepts could
/// have needed some 30 GB.
/// </summary>
public static class ReferenceVerifier
{
    /// <summary>
    /// The most numbers a reference may hold, fed and compared together: 100 million, 0.4 to 0.8 GB of arrays (float32
    /// inputs, float64 outputs) before ONNX Runtime runs the graph on them. A reference past it is refused as unusable.
    /// </summary>
    public const long MaxNumbers = 100_000_000;

    public static VerificationResult Verify(OnnxSession session, ReadOnlySpan<byte> referenceJson, double tolerance)
    {
        using var stream = new MemoryStream(referenceJson.ToArray(), writable: false);
        return Verify(session, stream, tolerance);
    }

    public static VerificationResult Verify(OnnxSession session, Stream referenceJson, double tolerance) => Verify(session, referenceJson, tolerance, MaxNumbers);

    internal static VerificationResult Verify(OnnxSession session, Stream referenceJson, double tolerance, long maxNumbers)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(referenceJson);
        if (!(tolerance >= 0) || double.IsInfinity(tolerance))
        {
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "the tolerance must be a finite number ≥ 0");
        }

        var tokens = new JsonTokens(referenceJson);
        if (!tokens.Read())
        {
            throw new ReferenceFormatException("the reference is not valid JSON: the file is empty");
        }

        if (tokens.TokenType != JsonTokenType.StartObject)
        {
            throw new ReferenceFormatException($"the reference must be a JSON object of named arrays, not a{(tokens.TokenType == JsonTokenType.StartArray ? "n" : string.Empty)} {TokenName(tokens.TokenType)}");
        }

        var inputs = new List<OnnxInputValue>();
        var expected = new Dictionary<string, (long[] Shape, double[] Values)>(StringComparer.Ordinal);
        var ignored = new List<string>();
        var keys = new List<string>();
        var numbers = 0L;
        while (tokens.Read() && tokens.TokenType == JsonTokenType.PropertyName)
        {
            var name = tokens.String!;
            keys.Add(name);
            var input = session.Inputs.FirstOrDefault(i => i.Name == name);
            var output = session.Outputs.FirstOrDefault(o => o.Name == name);
            if ((input is not null && inputs.Any(i => i.Name == name)) || (output is not null && expected.ContainsKey(name)))
            {
                throw new ReferenceFormatException($"the reference gives '{name}' twice");
            }

            if (input is not null)
            {
                ValueSink sink = input.ElementType switch
                {
                    OnnxElementType.Float => new FloatSink(input.Name),
                    OnnxElementType.Int32 or OnnxElementType.Int64 => new IntegerSink(input.Name, input.ElementType),
                    _ => throw new ReferenceFormatException($"input '{input.Name}' is {OnnxElementTypeNames.ToName(input.ElementType)}; verify feeds float32, int32 and int64 inputs"),
                };
                var shape = ReadArray(tokens, name, sink, ref numbers, maxNumbers);
                CheckShape(input, shape, "input");
                inputs.Add(new OnnxInputValue(input.Name, sink.ToArray(), shape));
            }
            else if (output is not null)
            {
                var sink = new DoubleSink();
                var shape = ReadArray(tokens, name, sink, ref numbers, maxNumbers);
                CheckShape(output, shape, "output");
                expected[output.Name] = (shape, (double[])sink.ToArray());
            }
            else
            {
                ignored.Add(name);
                tokens.SkipValue();
            }
        }

        // The root object's end; anything after it but white space is not JSON (the reader says so).
        while (tokens.Read())
        {
        }

        var missing = session.Inputs.Where(i => inputs.All(x => x.Name != i.Name)).ToList();
        if (missing.Count > 0)
        {
            throw new ReferenceFormatException($"the reference has no value for input{(missing.Count == 1 ? string.Empty : "s")} {string.Join(", ", missing.Select(m => $"'{m.Name}' ({ScoringContract.Describe(m)})"))}; its keys: {string.Join(", ", keys)}");
        }

        if (expected.Count == 0)
        {
            throw new ReferenceFormatException($"the reference names none of the graph's outputs ({string.Join(", ", session.Outputs.Select(o => o.Name))}): nothing to compare; its keys: {string.Join(", ", keys)}");
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

    /// <summary>
    /// One key's value, nested arrays of numbers, into <paramref name="sink"/> (row-major); returns the shape, which the
    /// nesting gives: each dimension is the length of the first array at that depth, and every other array at that depth
    /// must have as many elements (ragged arrays and non-numbers are errors naming the element's path).
    /// </summary>
    private static long[] ReadArray(JsonTokens tokens, string name, ValueSink sink, ref long numbers, long maxNumbers)
    {
        if (!tokens.Read())
        {
            throw new ReferenceFormatException($"the reference is not valid JSON: it ends after the key '{name}'");
        }

        var rank = -1;
        long[] dims = [];
        var counts = new List<long>();
        string Path(int depth)
        {
            var path = new System.Text.StringBuilder(name);
            for (var d = 0; d < depth; d++)
            {
                path.Append('[').Append(counts[d] - 1).Append(']');
            }

            return path.ToString();
        }

        string Shape() => "shape from the first elements: [" + string.Join(", ", dims.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture))) + "]";

        void Number(int depth, ref long numbers)
        {
            if (++numbers > maxNumbers)
            {
                throw new ReferenceFormatException(string.Create(CultureInfo.InvariantCulture, $"the reference holds more than {maxNumbers:N0} numbers, the most verify reads; record fewer rows or steps"));
            }

            // A number beyond double's range (1e400) is not a value a framework wrote (it read as infinity and was fed so).
            sink.Add(tokens.Number is { } value && double.IsFinite(value) ? value : throw new ReferenceFormatException($"'{Path(depth)}' is {tokens.RawValue()}, beyond the range of a 64-bit float"));
        }

        var open = 0;
        do
        {
            var token = tokens.TokenType;
            if (token == JsonTokenType.EndArray)
            {
                var n = counts[open - 1];
                if (rank < 0)
                {
                    // The first array to end before any number is empty: it gives the rank, its length 0.
                    rank = open;
                    dims = Enumerable.Repeat(-1L, rank).ToArray();
                }

                if (dims[open - 1] < 0)
                {
                    dims[open - 1] = n;
                }
                else if (n != dims[open - 1])
                {
                    throw new ReferenceFormatException(string.Create(CultureInfo.InvariantCulture, $"'{Path(open - 1)}' has {n} elements but its first sibling has {dims[open - 1]}: ragged array ({Shape()})"));
                }

                counts.RemoveAt(--open);
                continue;
            }

            // A value: an element of the array open at depth `open` (or the whole value, at depth 0).
            if (open > 0)
            {
                counts[open - 1]++;
            }

            if (token == JsonTokenType.StartArray)
            {
                if (rank >= 0 && open >= rank)
                {
                    throw new ReferenceFormatException($"'{Path(open)}' nests deeper than its first element: ragged array ({Shape()})");
                }

                open++;
                counts.Add(0);
            }
            else if (rank < 0 || open == rank)
            {
                if (token != JsonTokenType.Number)
                {
                    throw new ReferenceFormatException($"'{Path(open)}' is {Kind(tokens)}, not a number");
                }

                if (rank < 0)
                {
                    rank = open;
                    dims = Enumerable.Repeat(-1L, rank).ToArray();
                }

                Number(open, ref numbers);
            }
            else
            {
                throw new ReferenceFormatException($"'{Path(open)}' is {Kind(tokens)} where an array of {(dims[open] < 0 ? "the first sibling's length" : dims[open].ToString(CultureInfo.InvariantCulture))} was expected: ragged array ({Shape()})");
            }
        }
        while (open > 0 && tokens.Read());

        if (open > 0)
        {
            throw new ReferenceFormatException($"the reference is not valid JSON: it ends inside '{name}'");
        }

        return dims;
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

    private static string Kind(JsonTokens tokens) => tokens.TokenType switch
    {
        JsonTokenType.String => $"the string \"{tokens.String}\"",
        JsonTokenType.Null => "null",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.Number => "a number",
        var other => other.ToString().ToLowerInvariant(),
    };

    private static string TokenName(JsonTokenType token) => token switch
    {
        JsonTokenType.StartArray => "array",
        JsonTokenType.StartObject => "object",
        var other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>Where the numbers of one key go, converted to the tensor's element type as they are read.</summary>
    private abstract class ValueSink
    {
        public abstract void Add(double value);

        public abstract Array ToArray();
    }

    /// <summary>A growing array trimmed to its length at the end.</summary>
    private abstract class GrowingSink<T> : ValueSink
    {
        private T[] _items = new T[256];
        private int _count;

        protected void Append(T item)
        {
            if (_count == _items.Length)
            {
                Array.Resize(ref _items, (int)Math.Min(Array.MaxLength, (long)_items.Length * 2));
            }

            _items[_count++] = item;
        }

        public override Array ToArray()
        {
            Array.Resize(ref _items, _count);
            return _items;
        }
    }

    private sealed class FloatSink(string input) : GrowingSink<float>
    {
        public override void Add(double value)
        {
            // 1e300 became +infinity in float32 and was fed as that without a word.
            var single = (float)value;
            Append(float.IsFinite(single) ? single : throw new ReferenceFormatException(string.Create(CultureInfo.InvariantCulture, $"input '{input}' is float32 but the reference holds {value}, beyond its range (±{float.MaxValue})")));
        }
    }

    private sealed class IntegerSink(string input, OnnxElementType type) : ValueSink
    {
        private readonly GrowingLongs _values = new();

        public override void Add(double value)
        {
            if (value != Math.Floor(value) || (type == OnnxElementType.Int32 && (value < int.MinValue || value > int.MaxValue)) || value < long.MinValue || value >= 9.2233720368547758E+18)
            {
                throw new ReferenceFormatException(string.Create(CultureInfo.InvariantCulture, $"input '{input}' is {OnnxElementTypeNames.ToName(type)} but the reference holds {value}"));
            }

            _values.Add((long)value);
        }

        public override Array ToArray()
        {
            var values = (long[])_values.ToArray();
            return type == OnnxElementType.Int32 ? Array.ConvertAll(values, v => (int)v) : values;
        }

        private sealed class GrowingLongs : GrowingSink<long>
        {
            public override void Add(double value) => Append((long)value);

            public void Add(long value) => Append(value);
        }
    }

    private sealed class DoubleSink : GrowingSink<double>
    {
        public override void Add(double value) => Append(value);
    }

    /// <summary>
    /// The reference's JSON tokens, read from a stream through a buffer (<see cref="Utf8JsonReader"/> over one buffer at a
    /// time, its state carried across refills): memory for one token, not for the file. A UTF-8 byte order mark is
    /// skipped, as for model.json; comments and trailing commas are allowed, as before.
    /// </summary>
    private sealed class JsonTokens(Stream stream)
    {
        // A token longer than this (a string value of an ignored key, say) is refused rather than buffered whole.
        private const int MaxToken = 64 << 20;

        private byte[] _buffer = new byte[1 << 16];
        private int _start;
        private int _end;
        private bool _final;
        private bool _started;
        private int _valueStart;
        private int _valueLength;
        private JsonReaderState _state = new(new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });

        public JsonTokenType TokenType { get; private set; }

        /// <summary>A property name's or string's value.</summary>
        public string? String { get; private set; }

        /// <summary>A number token's value, null when it does not parse as a finite double.</summary>
        public double? Number { get; private set; }

        /// <summary>The last number token as written (for messages); valid until the next <see cref="Read"/>.</summary>
        public string RawValue() => System.Text.Encoding.UTF8.GetString(_buffer, _valueStart, _valueLength);

        public bool Read()
        {
            if (!_started)
            {
                _started = true;
                Fill();
                if (_end - _start >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF)
                {
                    _start = 3;
                }
            }

            while (true)
            {
                var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _final, _state);
                bool read;
                try
                {
                    read = reader.Read();
                }
                catch (JsonException e)
                {
                    throw Invalid(e, _start + (int)reader.BytesConsumed);
                }

                if (read)
                {
                    TokenType = reader.TokenType;
                    String = reader.TokenType is JsonTokenType.PropertyName or JsonTokenType.String ? reader.GetString() : null;
                    if (reader.TokenType == JsonTokenType.Number)
                    {
                        Number = reader.TryGetDouble(out var value) ? value : null;
                        _valueStart = _start + (int)reader.TokenStartIndex;
                        _valueLength = reader.ValueSpan.Length;
                    }

                    _start += (int)reader.BytesConsumed;
                    _state = reader.CurrentState;
                    return true;
                }

                if (_final)
                {
                    return false;
                }

                // The rest of the buffer holds no whole token: keep what is left, read on.
                _start += (int)reader.BytesConsumed;
                _state = reader.CurrentState;
                Fill();
            }
        }

        /// <summary>Skips the value after a property name (a number, a string, a whole array or object).</summary>
        public void SkipValue()
        {
            var depth = 0;
            do
            {
                if (!Read())
                {
                    return;
                }

                depth += TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject ? 1 : TokenType is JsonTokenType.EndArray or JsonTokenType.EndObject ? -1 : 0;
            }
            while (depth > 0);
        }

        private void Fill()
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            if (_end == _buffer.Length)
            {
                if (_buffer.Length >= MaxToken)
                {
                    throw new ReferenceFormatException(string.Create(CultureInfo.InvariantCulture, $"the reference holds a token of more than {MaxToken:N0} bytes; verify reads numbers, and keys that are not tensor names are skipped"));
                }

                Array.Resize(ref _buffer, _buffer.Length * 2);
            }

            while (_end < _buffer.Length)
            {
                var n = stream.Read(_buffer, _end, _buffer.Length - _end);
                if (n == 0)
                {
                    _final = true;
                    return;
                }

                _end += n;
            }
        }

        private ReferenceFormatException Invalid(JsonException e, int at)
        {
            var where = e.LineNumber is { } line ? string.Create(CultureInfo.InvariantCulture, $" at line {line + 1}, byte {e.BytePositionInLine + 1}") : string.Empty;
            return new ReferenceFormatException($"the reference is not valid JSON{where}: {FirstSentence(e.Message)}{(LooksNonFinite(at) ? " (NaN and Infinity are not JSON: Python's json.dump writes them only for non-finite values, which a reference must not have)" : string.Empty)}", e);
        }

        /// <summary>Whether the text the reader stopped at is NaN, Infinity or -Infinity (Python's json.dump for non-finite values).</summary>
        private bool LooksNonFinite(int at)
        {
            var rest = _buffer.AsSpan(Math.Clamp(at, 0, _end), _end - Math.Clamp(at, 0, _end));
            rest = rest.TrimStart(" \t\r\n,:[{"u8);
            return rest.StartsWith("NaN"u8) || rest.StartsWith("Infinity"u8) || rest.StartsWith("-Infinity"u8);
        }
    }

    private static string FirstSentence(string message)
    {
        var line = message.Split('\n')[0];
        var cut = line.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? line[..cut] : line;
    }
}
