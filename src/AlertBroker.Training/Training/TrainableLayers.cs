namespace AlertBroker.Training.Training;

/// <summary>
/// Which parameter groups an optimiser step may change. Groups: <c>gru</c> (every GRU layer; <c>gru0</c>,
/// <c>gru1</c>, … name one), <c>dense</c> (the per-step tanh layer), <c>meta</c> (the metadata branch),
/// <c>merge</c>, <c>latent</c>, <c>output</c>; <c>all</c> selects everything. Frozen groups are never written.
/// </summary>
public sealed record TrainableLayers
{
    public static TrainableLayers All { get; } = new() { Gru = [true, true, true, true, true, true, true, true], StepDense = true, MetaDense = true, Merge = true, Latent = true, Output = true };

    /// <summary>Per GRU layer (index beyond the array = frozen).</summary>
    public IReadOnlyList<bool> Gru { get; init; } = [];

    public bool StepDense { get; init; }

    public bool MetaDense { get; init; }

    public bool Merge { get; init; }

    public bool Latent { get; init; }

    public bool Output { get; init; }

    public bool GruLayer(int layer) => layer < Gru.Count && Gru[layer];

    /// <summary>Parses a comma-separated list such as <c>latent,output</c>, <c>gru,output</c> or <c>all</c>.</summary>
    public static TrainableLayers Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var gru = new bool[8];
        bool dense = false, meta = false, merge = false, latent = false, output = false;
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0)
        {
            // An empty list trained nothing: the "fine-tuned" package was the base, unchanged.
            throw new FormatException("No layer group named: use gru, gruN, dense, meta, merge, latent, output or all (e.g. latent,output).");
        }

        foreach (var raw in names)
        {
            var name = raw.ToLowerInvariant();
            switch (name)
            {
                case "all":
                    return All;
                case "gru":
                    Array.Fill(gru, true);
                    break;
                case "dense" or "step_dense":
                    dense = true;
                    break;
                case "meta" or "meta_dense":
                    meta = true;
                    break;
                case "merge":
                    merge = true;
                    break;
                case "latent":
                    latent = true;
                    break;
                case "output" or "head":
                    output = true;
                    break;
                default:
                    if (name.StartsWith("gru", StringComparison.Ordinal) && int.TryParse(name.AsSpan(3), out var l) && l is >= 0 and < 8)
                    {
                        gru[l] = true;
                        break;
                    }

                    throw new FormatException($"Unknown layer group '{raw}': use gru, gruN, dense, meta, merge, latent, output or all.");
            }
        }

        return new TrainableLayers { Gru = gru, StepDense = dense, MetaDense = meta, Merge = merge, Latent = latent, Output = output };
    }

    /// <summary>
    /// The groups named in <paramref name="text"/> (as <see cref="Parse"/> reads it) that a network of
    /// <paramref name="config"/> does not have: a GRU layer beyond its <see cref="Model.Network.GruClassifierConfig.Layers"/>,
    /// or <c>meta</c> without a metadata branch. Training them would change nothing.
    /// </summary>
    public static IReadOnlyList<string> AbsentFrom(string text, Model.Network.GruClassifierConfig config)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(config);
        var absent = new List<string>();
        foreach (var raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var name = raw.ToLowerInvariant();
            if ((name is "meta" or "meta_dense" && config.MetaFeatures == 0)
                || (name.StartsWith("gru", StringComparison.Ordinal) && int.TryParse(name.AsSpan(3), out var l) && l >= config.Layers))
            {
                absent.Add(raw);
            }
        }

        return absent;
    }

    /// <summary>Whether the parameter with this <see cref="Model.Network.GruClassifierWeights.Parameters"/> name trains.</summary>
    public bool Includes(string parameterName)
    {
        ArgumentNullException.ThrowIfNull(parameterName);
        if (parameterName.StartsWith("gru.", StringComparison.Ordinal))
        {
            var at = parameterName.LastIndexOf("_l", StringComparison.Ordinal);
            return at >= 0 && int.TryParse(parameterName.AsSpan(at + 2), out var l) && GruLayer(l);
        }

        return parameterName.Split('.')[0] switch
        {
            "step_dense" => StepDense,
            "meta_dense" => MetaDense,
            "merge" => Merge,
            "latent" => Latent,
            "output" => Output,
            _ => false,
        };
    }

    public override string ToString()
    {
        var allGru = Gru.Count > 0;
        foreach (var g in Gru)
        {
            allGru &= g;
        }

        if (allGru && StepDense && MetaDense && Merge && Latent && Output)
        {
            return "all";
        }

        var parts = new List<string>();
        if (allGru)
        {
            parts.Add("gru");
        }

        for (var l = 0; l < Gru.Count && !allGru; l++)
        {
            if (Gru[l])
            {
                parts.Add($"gru{l}");
            }
        }

        if (StepDense)
        {
            parts.Add("dense");
        }

        if (MetaDense)
        {
            parts.Add("meta");
        }

        if (Merge)
        {
            parts.Add("merge");
        }

        if (Latent)
        {
            parts.Add("latent");
        }

        if (Output)
        {
            parts.Add("output");
        }

        return string.Join(',', parts);
    }
}
