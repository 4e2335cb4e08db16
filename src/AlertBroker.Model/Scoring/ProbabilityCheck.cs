using System.Globalization;

namespace AlertBroker.Model.Scoring;

/// <summary>
/// Whether a network's output after one step is a probability distribution over its classes: every value finite and
/// non-negative, the sum 1 within <see cref="SumTolerance"/> (a float32 softmax is within 1e-6). A broken package — NaN or
/// infinite weights, a graph that overflows on some input — gives rows that are not, and nothing downstream may publish,
/// store as a ranking or score them as if they were.
/// </summary>
public static class ProbabilityCheck
{
    /// <summary>How far from 1 a row's sum may be (the packager's smoke batch allows the same).</summary>
    public const double SumTolerance = 1e-3;

    /// <summary>What is wrong with <paramref name="row"/> (e.g. "class 2 is NaN"), or null when it is a distribution.</summary>
    public static string? Problem(ReadOnlySpan<float> row)
    {
        double sum = 0;
        for (var c = 0; c < row.Length; c++)
        {
            var p = row[c];
            if (!float.IsFinite(p) || p < 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"class {c} is {p}");
            }

            sum += p;
        }

        return row.Length == 0 || Math.Abs(sum - 1) > SumTolerance
            ? string.Create(CultureInfo.InvariantCulture, $"they sum to {sum:G6}, not 1")
            : null;
    }
}
