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

    private static void Check(string path, TransientClassModel m)
    {
        static bool Positive(double v) => double.IsFinite(v) && v > 0;
        if (string.IsNullOrWhiteSpace(m.Name) || !double.IsFinite(m.PeakAbsMag) || !Positive(m.RiseDays) || !Positive(m.DeclineDays)
            || !Positive(m.PeakTemperatureK) || !Positive(m.LateTemperatureK) || !Positive(m.CoolingDays) || !Positive(m.ReferenceWavelengthMicron)
            || !(m.RiseShape is >= 0.05 and <= 2.0) || !(m.RatePerMpc3Yr >= 0))
        {
            throw new InvalidDataException($"{path}: class '{m.Name}' has a value out of range (time scales, temperatures and wavelengths must be positive, rise shape in [0.05, 2])");
        }
    }
}
