using System.Globalization;
using System.Text;

namespace AlertBroker.Simulation.Validation;

/// <summary>One class × quantity comparison between real and simulated light curves.</summary>
public sealed record ComparisonRow(
    string ClassName,
    string Quantity,
    int RealCount,
    int SimulatedCount,
    double RealMedian,
    double SimulatedMedian,
    double KsDistance,
    double KsPValue);

/// <summary>
/// Compares simulated and real light-curve features class by class (Kolmogorov–Smirnov distance, medians)
/// and writes a Markdown report with one SVG histogram figure per quantity.
/// </summary>
public sealed class ComparisonReport
{
    private readonly Dictionary<string, List<LightCurveFeatures>> _real;
    private readonly Dictionary<string, List<LightCurveFeatures>> _simulated;

    public ComparisonReport(IEnumerable<LightCurveFeatures> real, IEnumerable<LightCurveFeatures> simulated, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(simulated);
        ArgumentNullException.ThrowIfNull(classes);
        Classes = classes;
        _real = Group(real);
        _simulated = Group(simulated);
        var rows = new List<ComparisonRow>();
        foreach (var c in classes)
        {
            for (var q = 0; q < LightCurveFeatures.Quantities.Count; q++)
            {
                var r = Values(_real, c, q);
                var s = Values(_simulated, c, q);
                var (d, p) = Statistics.KolmogorovSmirnov(r, s);
                rows.Add(new ComparisonRow(c, LightCurveFeatures.Quantities[q], Statistics.Finite(r).Length, Statistics.Finite(s).Length, Statistics.Median(r), Statistics.Median(s), d, p));
            }
        }

        Rows = rows;
    }

    public IReadOnlyList<string> Classes { get; }

    public IReadOnlyList<ComparisonRow> Rows { get; }

    /// <summary>Objects per class in the real and simulated sets.</summary>
    public (int Real, int Simulated) Count(string className) =>
        (_real.TryGetValue(className, out var r) ? r.Count : 0, _simulated.TryGetValue(className, out var s) ? s.Count : 0);

    /// <summary>A figure as the report shows it: "–" where a side has no finite value of the quantity (n 0), not "NaN".</summary>
    public static string Cell(double value, string format) =>
        double.IsNaN(value) ? "–" : value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Writes <c>report.md</c> and <c>{quantity}.svg</c> into <paramref name="directory"/>; returns the report path.</summary>
    public string Write(string directory, string preamble)
    {
        ArgumentNullException.ThrowIfNull(directory);
        Directory.CreateDirectory(directory);
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.Append("# Simulated vs real light curves\n\n").Append(preamble).Append("\n\n");
        md.Append("| class | real | simulated |\n| --- | ---: | ---: |\n");
        foreach (var c in Classes)
        {
            var (r, s) = Count(c);
            md.Append(inv, $"| {c} | {r} | {s} |\n");
        }

        md.Append("\nKS = two-sample Kolmogorov–Smirnov distance (0 = same distribution, 1 = disjoint); p its asymptotic p-value.\n\n");
        md.Append("| class | quantity | n real | n sim | median real | median sim | KS D | p |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        foreach (var row in Rows)
        {
            md.Append(inv, $"| {row.ClassName} | {row.Quantity} | {row.RealCount} | {row.SimulatedCount} | {Cell(row.RealMedian, "0.###")} | {Cell(row.SimulatedMedian, "0.###")} | {Cell(row.KsDistance, "0.000")} | {Cell(row.KsPValue, "0.###")} |\n");
        }

        md.Append("\nFigures (real: black, simulated: red; each histogram normalised to unit area):\n\n");
        for (var q = 0; q < LightCurveFeatures.Quantities.Count; q++)
        {
            var name = LightCurveFeatures.Quantities[q];
            File.WriteAllText(Path.Combine(directory, name + ".svg"), Svg(q));
            md.Append(inv, $"![{name}]({name}.svg)\n\n");
        }

        var path = Path.Combine(directory, "report.md");
        File.WriteAllText(path, md.ToString());
        return path;
    }

    private string Svg(int quantity)
    {
        const int panelWidth = 220, panelHeight = 160, margin = 30, bins = 20;
        var inv = CultureInfo.InvariantCulture;
        var width = (panelWidth * Classes.Count) + margin;
        var svg = new StringBuilder();
        svg.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{panelHeight + (2 * margin)}\" font-family=\"sans-serif\" font-size=\"10\">\n");
        svg.Append(inv, $"<text x=\"{margin}\" y=\"14\" font-size=\"12\">{LightCurveFeatures.Quantities[quantity]}</text>\n");
        for (var ci = 0; ci < Classes.Count; ci++)
        {
            var c = Classes[ci];
            var r = Statistics.Finite(Values(_real, c, quantity));
            var s = Statistics.Finite(Values(_simulated, c, quantity));
            var x0 = margin + (ci * panelWidth);
            var y0 = margin;
            var plotW = panelWidth - 20;
            svg.Append(inv, $"<rect x=\"{x0}\" y=\"{y0}\" width=\"{plotW}\" height=\"{panelHeight}\" fill=\"none\" stroke=\"#888\"/>\n");
            svg.Append(inv, $"<text x=\"{x0 + 4}\" y=\"{y0 + 12}\">{c} (real {r.Length}, sim {s.Length})</text>\n");
            if (r.Length + s.Length == 0)
            {
                continue;
            }

            // Shared range: 1st–99th percentile of both samples together, so one outlier does not squash the panel.
            var all = new double[r.Length + s.Length];
            r.CopyTo(all, 0);
            s.CopyTo(all, r.Length);
            Array.Sort(all);
            var lo = all[(int)(0.01 * (all.Length - 1))];
            var hi = all[(int)(0.99 * (all.Length - 1))];
            if (!(hi > lo))
            {
                hi = lo + 1;
            }

            var hr = Histogram(r, lo, hi, bins);
            var hs = Histogram(s, lo, hi, bins);
            var max = 1e-12;
            for (var i = 0; i < bins; i++)
            {
                max = Math.Max(max, Math.Max(hr[i], hs[i]));
            }

            svg.Append(Step(hr, max, x0, y0, plotW, panelHeight, "black"));
            svg.Append(Step(hs, max, x0, y0, plotW, panelHeight, "red"));
            svg.Append(inv, $"<text x=\"{x0}\" y=\"{y0 + panelHeight + 12}\">{lo:0.##}</text>\n");
            svg.Append(inv, $"<text x=\"{x0 + plotW - 30}\" y=\"{y0 + panelHeight + 12}\">{hi:0.##}</text>\n");
            var (d, _) = Statistics.KolmogorovSmirnov(r, s);
            svg.Append(inv, $"<text x=\"{x0 + 4}\" y=\"{y0 + 24}\">KS D = {d:0.00}</text>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static double[] Histogram(double[] values, double lo, double hi, int bins)
    {
        var h = new double[bins];
        if (values.Length == 0)
        {
            return h;
        }

        foreach (var v in values)
        {
            var b = (int)Math.Floor((v - lo) / (hi - lo) * bins);
            h[Math.Clamp(b, 0, bins - 1)] += 1.0 / values.Length;
        }

        return h;
    }

    private static string Step(double[] h, double max, int x0, int y0, int w, int height, string colour)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.3\" points=\"");
        for (var i = 0; i < h.Length; i++)
        {
            var xa = x0 + ((double)i / h.Length * w);
            var xb = x0 + ((double)(i + 1) / h.Length * w);
            var y = y0 + height - (h[i] / max * (height - 20));
            sb.Append(inv, $"{xa:0.#},{y:0.#} {xb:0.#},{y:0.#} ");
        }

        sb.Append("\"/>\n");
        return sb.ToString();
    }

    private static Dictionary<string, List<LightCurveFeatures>> Group(IEnumerable<LightCurveFeatures> features)
    {
        var groups = new Dictionary<string, List<LightCurveFeatures>>(StringComparer.Ordinal);
        foreach (var f in features)
        {
            if (!groups.TryGetValue(f.ClassName, out var list))
            {
                groups[f.ClassName] = list = [];
            }

            list.Add(f);
        }

        return groups;
    }

    private static List<double> Values(Dictionary<string, List<LightCurveFeatures>> groups, string className, int quantity)
    {
        var values = new List<double>();
        if (groups.TryGetValue(className, out var list))
        {
            foreach (var f in list)
            {
                values.Add(f.Get(quantity));
            }
        }

        return values;
    }
}
