using System.Globalization;
using System.Text.Json.Nodes;
using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Training.Training;

/// <summary>
/// Class priors of a network: the class mix it was effectively trained on and the mix it is deployed into. A softmax
/// classifier fitted to one mix gives p(c | x) ∝ p(x | c) π(c); moving it to another mix is exact by Bayes' rule
/// (Saerens, Latinne &amp; Decaestecker 2002): logit_c += ln(π_deploy(c) / π_train(c)), which is a change of the output
/// layer's bias only — same graph, same cost. A model trained on an equal mix (or with N/N_c class weights) otherwise
/// names the rare classes as often as the common ones when it knows little (an alert's first points).
/// </summary>
public static class ClassPriors
{
    /// <summary>
    /// The mix the network was effectively trained on, from <c>model.json</c>: the class counts the trainer recorded,
    /// each weighted by its class weight ((N/N_c)^p, recorded as "none", "N/N_c", "sqrt(N/N_c)" or "(N/N_c)^p"), so
    /// π ∝ N_c^(1−p); or the deployment priors of an earlier adjustment. Null, with the reason, when the record does not
    /// say (replayed simulations in the batches, counts or weights missing).
    /// </summary>
    public static IReadOnlyDictionary<string, double>? TrainingPriors(ModelManifest manifest, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var data = manifest.Training.Data;
        // Pattern matching, not ?["deployment"]: a hand-edited "priors" that is not an object ("", 0, []) made JsonNode's
        // indexer throw ("The node must be of type 'JsonObject'": models priors ended in "unexpected error", exit 70).
        if (data?["priors"] is JsonObject recorded && recorded["deployment"] is JsonObject adjusted)
        {
            reason = null;
            return Normalise(manifest.Classes, c => adjusted[c] is JsonValue v && v.TryGetValue<double>(out var x) ? x : double.NaN, out reason);
        }

        // models priors records both; with adjustedFrom and no readable mix the bias has moved already, and the class
        // counts below describe the mix before that move: until 2026-12-07 the shift was applied twice.
        if (data?["adjustedFrom"] is not null)
        {
            reason = "model.json records that the output bias was moved already (training.data.adjustedFrom) but not to which class mix (training.data.priors.deployment is missing or not an object of class shares), so the mix it now reflects is unknown";
            return null;
        }

        if (data?["replay"] is not null)
        {
            reason = "the batches mixed replayed simulations in (model.json training.data.replay): the training mix is not the recorded class counts";
            return null;
        }

        if (data?["classCounts"] is not JsonObject counts || data["classWeights"] is not JsonValue weights || !weights.TryGetValue<string>(out var rule))
        {
            reason = "model.json does not record the class counts and class weights it was trained with";
            return null;
        }

        double? power = rule switch
        {
            "none" => 0,
            "N/N_c" => 1,
            "sqrt(N/N_c)" => 0.5,
            _ when rule.StartsWith("(N/N_c)^", StringComparison.Ordinal) && double.TryParse(rule["(N/N_c)^".Length..], NumberStyles.Float, CultureInfo.InvariantCulture, out var p) => p,
            _ => null,
        };
        if (power is null)
        {
            reason = $"unknown class-weight rule '{rule}' in model.json";
            return null;
        }

        return Normalise(manifest.Classes, c => counts[c] is JsonValue v && v.TryGetValue<double>(out var n) && n > 0 ? Math.Pow(n, 1 - power.Value) : double.NaN, out reason);
    }

    /// <summary>
    /// Parses "SNIa=0.75,SNII=0.18,…": every class of the model once, each value finite and &gt; 0; normalised to sum 1
    /// (safely for values near double's largest); <see cref="ArgumentException"/> naming the first problem otherwise.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Parse(string text, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(classes);
        var given = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0 || !double.TryParse(part[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                throw new ArgumentException($"'{part}' is not CLASS=VALUE");
            }

            var name = part[..eq].Trim();
            if (!classes.Contains(name))
            {
                throw new ArgumentException($"'{name}' is not a class of the model ({string.Join(", ", classes)})");
            }

            if (!given.TryAdd(name, value))
            {
                throw new ArgumentException($"class '{name}' is given twice");
            }

            if (double.IsNaN(value))
            {
                // Said as a missing prior ("no positive prior for class 'A'"), though one was given.
                throw new ArgumentException($"no positive prior for class '{name}': it must be a finite number above 0, not NaN");
            }
        }

        return Normalise(classes, c => given.TryGetValue(c, out var v) ? v : double.NaN, out var reason)
            ?? throw new ArgumentException(reason);
    }

    /// <summary>
    /// The weights with the output bias moved from <paramref name="training"/> to <paramref name="deployment"/> priors:
    /// bias_c += ln(deployment_c / training_c), in the order of <paramref name="classes"/>.
    /// </summary>
    public static GruClassifierWeights Adjust(GruClassifierWeights weights, IReadOnlyList<string> classes, IReadOnlyDictionary<string, double> training, IReadOnlyDictionary<string, double> deployment)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(deployment);
        if (classes.Count != weights.Config.Classes)
        {
            throw new ArgumentException($"{classes.Count} class names for a network with {weights.Config.Classes} outputs");
        }

        var adjusted = weights.Clone();
        for (var c = 0; c < classes.Count; c++)
        {
            // Priors that bypassed Normalise (0, ∞, NaN) would give a bias of ±∞ or NaN: a package whose scores are NaN.
            var shift = Math.Log(deployment[classes[c]]) - Math.Log(training[classes[c]]);
            var bias = adjusted.Output.Bias[c] + (float)shift;
            if (!double.IsFinite(shift) || !float.IsFinite(bias))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"the priors of class '{classes[c]}' (training {training[classes[c]]}, deployment {deployment[classes[c]]}) do not give a finite output bias"));
            }

            adjusted.Output.Bias[c] = bias;
        }

        return adjusted;
    }

    /// <summary>"SNIa=0.748, SNII=0.181, …" (three significant digits).</summary>
    public static string Describe(IReadOnlyDictionary<string, double> priors, IReadOnlyList<string> classes) =>
        string.Join(", ", classes.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c}={priors[c]:G3}")));

    /// <summary>The record kept in <c>model.json</c> <c>training.data.priors</c>.</summary>
    public static JsonObject Record(IReadOnlyDictionary<string, double> training, IReadOnlyDictionary<string, double> deployment, IReadOnlyList<string> classes, string source)
    {
        var t = new JsonObject();
        var d = new JsonObject();
        foreach (var c in classes)
        {
            // Unrounded: a later adjustment starts from these deployment priors, and a prior of 1e-7 rounded to 6 decimals was 0.
            t[c] = training[c];
            d[c] = deployment[c];
        }

        return new JsonObject
        {
            ["rule"] = "output bias += ln(deployment / training): Bayes' rule for a change of class mix",
            ["training"] = t,
            ["deployment"] = d,
            ["source"] = source,
        };
    }

    // Divided by the largest before summing: priors of 1e308 each summed to infinity, every normalised prior became 0 and
    // every bias −∞ (a package whose scores are NaN). A value so much smaller than the largest that its share is 0 is
    // refused too: its log, the bias shift, would be −∞.
    private static Dictionary<string, double>? Normalise(IReadOnlyList<string> classes, Func<string, double> value, out string? reason)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        var largest = 0.0;
        foreach (var c in classes)
        {
            var v = value(c);
            if (!double.IsFinite(v) || v <= 0)
            {
                reason = double.IsNaN(v)
                    ? $"no positive prior for class '{c}'"
                    : string.Create(CultureInfo.InvariantCulture, $"no positive prior for class '{c}': it must be a finite number above 0, not {v}");
                return null;
            }

            values[c] = v;
            largest = Math.Max(largest, v);
        }

        var sum = 0.0;
        foreach (var c in classes)
        {
            values[c] /= largest;
            sum += values[c];
        }

        foreach (var c in classes)
        {
            values[c] /= sum;
            if (!(values[c] > 0) || !double.IsFinite(Math.Log(values[c])))
            {
                reason = $"the prior for class '{c}' is too small beside the others to be represented (its share is 0)";
                return null;
            }
        }

        reason = null;
        return values;
    }
}
