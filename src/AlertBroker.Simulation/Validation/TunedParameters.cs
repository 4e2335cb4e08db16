using System.Globalization;
using System.Text.Json;
using AlertBroker.Simulation.Populations;
using AlertBroker.Simulation.Surveys;

namespace AlertBroker.Simulation.Validation;

/// <summary>
/// A <c>tuned-parameters.json</c> written by <c>alertbroker simulate tune</c>, read back so that <c>simulate lightcurves
/// --parameters FILE</c> can simulate with a tuning run's values instead of the built-in ones (<see cref="TransientClasses"/>):
/// its class models replace the built-in classes of the same name, and its two survey values replace the ZTF survey's.
/// </summary>
public sealed record TunedParameters(IReadOnlyList<TransientClassModel> Classes, double FieldNightProbability, double LimitingMagOffset)
{
    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>
    /// Reads and checks a file, or the <c>tuned-parameters.json</c> in a directory (a tuning run's output);
    /// <see cref="InvalidDataException"/> naming the problem when it is not one.
    /// </summary>
    public static TunedParameters Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            var inside = Path.Combine(path, "tuned-parameters.json");
            path = File.Exists(inside) ? inside : throw new InvalidDataException($"{path} is a directory without a tuned-parameters.json");
        }

        var text = File.ReadAllText(path);
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("classes", out var classesNode) || classesNode.ValueKind != JsonValueKind.Array
                || !root.TryGetProperty("survey", out var surveyNode) || surveyNode.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{path}: not a tuned-parameters.json of 'simulate tune' (needs \"classes\" and \"survey\")");
            }

            var classes = new List<TransientClassModel>();
            foreach (var node in classesNode.EnumerateArray())
            {
                var model = node.Deserialize<TransientClassModel>(s_json)
                    ?? throw new InvalidDataException($"{path}: a class entry is null");
                Check(path, model);
                if (!TransientClasses.All.Any(c => c.Name == model.Name))
                {
                    // Apply replaces built-in classes by name: another name was ignored without a word.
                    throw new InvalidDataException($"{path}: class '{model.Name}' is not a class the simulator makes ({string.Join(", ", TransientClasses.All.Select(c => c.Name))})");
                }

                if (classes.Any(c => c.Name == model.Name))
                {
                    // Apply took the first and ignored the other without a word.
                    throw new InvalidDataException($"{path}: class '{model.Name}' is given twice");
                }

                classes.Add(model);
            }

            var field = surveyNode.GetProperty("fieldNightProbability").GetDouble();
            var offset = surveyNode.GetProperty("limitingMagOffset").GetDouble();
            if (!(field is > 0 and <= 1) || !(offset is >= -5 and <= 5))
            {
                throw new InvalidDataException($"{path}: survey values out of range (fieldNightProbability {field}, limitingMagOffset {offset})");
            }

            return new TunedParameters(classes, field, offset);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a readable tuned-parameters.json ({e.Message})", e);
        }
    }

    /// <summary>The built-in class of each name in <paramref name="classes"/> replaced by this file's model of that name, if it has one.</summary>
    public IReadOnlyList<TransientClassModel> Apply(IReadOnlyList<TransientClassModel> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        return [.. classes.Select(c => Classes.FirstOrDefault(t => t.Name == c.Name) ?? c)];
    }

    /// <summary>The survey with this file's field-night probability and depth offset (the values the tuner moves on ZTF).</summary>
    public SurveyModel Apply(SurveyModel survey)
    {
        ArgumentNullException.ThrowIfNull(survey);
        return survey with { FieldNightProbability = FieldNightProbability, LimitingMagOffset = LimitingMagOffset };
    }

    /// <summary>
    /// The range every class value must fall in. Wide enough for any transient and for every value <c>simulate tune</c>
    /// can reach (at most 4× its literature priors), narrow enough that a run can use it: only "positive" was asked of the
    /// time scales, and a rise of 1e6 days made one light curve of 3.2 million epochs, 1e308 a run that never ended.
    /// </summary>
    public static IReadOnlyList<(string Field, Func<TransientClassModel, double> Get, double Min, double Max, bool MinExclusive)> Ranges { get; } =
    [
        ("peakAbsMag", m => m.PeakAbsMag, -30, 0, false),
        ("peakAbsMagSigma", m => m.PeakAbsMagSigma, 0, 5, false),
        ("referenceWavelengthMicron", m => m.ReferenceWavelengthMicron, 0, 10, true),
        ("riseDays", m => m.RiseDays, 0, 365, true),
        ("declineDays", m => m.DeclineDays, 0, 3650, true),
        ("riseShape", m => m.RiseShape, 0.05, 2, false),
        ("timeScaleScatter", m => m.TimeScaleScatter, 0, 1, false),
        ("declineWavelengthIndex", m => m.DeclineWavelengthIndex, -10, 10, false),
        ("stretchLuminosity", m => m.StretchLuminosity, -20, 20, false),
        ("peakTemperatureK", m => m.PeakTemperatureK, 0, 1e6, true),
        ("peakTemperatureSigmaK", m => m.PeakTemperatureSigmaK, 0, 1e5, false),
        ("lateTemperatureK", m => m.LateTemperatureK, 0, 1e6, true),
        ("coolingDays", m => m.CoolingDays, 0, 3650, true),
        ("earlyTemperatureK", m => m.EarlyTemperatureK, 0, 1e6, false),
        ("uvCutoffMicron", m => m.UvCutoffMicron, 0, 10, false),
        ("ratePerMpc3Yr", m => m.RatePerMpc3Yr, 0, 1, false),
        ("rateEvolutionIndex", m => m.RateEvolutionIndex, -10, 10, false),
        ("maxRedshift", m => m.MaxRedshift, 0, 15, true),
        ("plateauEndDays", m => m.PlateauEndDays, 0, 3650, false),
        ("plateauTailFraction", m => m.PlateauTailFraction, 0, 1, false),
        ("hostAvMean", m => m.HostAvMean, 0, 10, false),
    ];

    private static void Check(string path, TransientClassModel m)
    {
        if (string.IsNullOrWhiteSpace(m.Name))
        {
            throw new InvalidDataException($"{path}: a class has no name");
        }

        foreach (var (field, get, min, max, minExclusive) in Ranges)
        {
            var v = get(m);
            if (!double.IsFinite(v) || (minExclusive ? v <= min : v < min) || v > max)
            {
                // A negative maxRedshift ended in "no SNIa passed the selection in 10000 attempts", exit 2, as if an option were wrong.
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: class '{m.Name}' has {field} {v}, outside {(minExclusive ? "(" : "[")}{min}, {max}]"));
            }
        }
    }
}
