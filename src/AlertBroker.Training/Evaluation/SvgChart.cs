using System.Globalization;
using System.Net;
using System.Text;

namespace AlertBroker.Training.Evaluation;

/// <summary>One line of a chart, with an optional shaded band (e.g. the spread over seeds).</summary>
public sealed record ChartSeries(string Name, double[] X, double[] Y, double[]? Low = null, double[]? High = null, bool Dashed = false);

/// <summary>Self-contained SVG line charts and heat maps, no scripts or external files.</summary>
public static class SvgChart
{
    private static readonly string[] s_palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

    private const int Width = 640;
    private const int Height = 400;
    private const int Left = 64;
    private const int Right = 170;
    private const int Top = 36;
    private const int Bottom = 52;

    public static string Lines(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, double? yMin = null, double? yMax = null, bool logX = false, double? xMin = null, double? xMax = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        double x0 = double.PositiveInfinity, x1 = double.NegativeInfinity, y0 = double.PositiveInfinity, y1 = double.NegativeInfinity;
        foreach (var s in series)
        {
            for (var i = 0; i < s.X.Length; i++)
            {
                if (!double.IsFinite(s.Y[i]) || !double.IsFinite(s.X[i]))
                {
                    continue;
                }

                x0 = Math.Min(x0, s.X[i]);
                x1 = Math.Max(x1, s.X[i]);
                y0 = Math.Min(y0, s.Low?[i] ?? s.Y[i]);
                y1 = Math.Max(y1, s.High?[i] ?? s.Y[i]);
            }
        }

        if (!double.IsFinite(x0))
        {
            x0 = 0;
            x1 = 1;
            y0 = 0;
            y1 = 1;
        }

        x0 = xMin ?? x0;
        x1 = xMax ?? x1;
        y0 = yMin ?? y0;
        y1 = yMax ?? y1;
        if (x1 <= x0)
        {
            x1 = x0 + 1;
        }

        if (y1 <= y0)
        {
            y1 = y0 + 1;
        }

        // Round the value axis to whole tick steps so the labels read 0.5, 0.6, … rather than 0.462, 0.569.
        var yStep = NiceStep((y1 - y0) / 5);
        if (yMin is null)
        {
            y0 = Math.Floor((y0 / yStep) + 1e-9) * yStep;
        }

        if (yMax is null)
        {
            y1 = Math.Ceiling((y1 / yStep) - 1e-9) * yStep;
        }

        if (logX)
        {
            x0 = Math.Log10(Math.Max(x0, 1e-9));
            x1 = Math.Log10(Math.Max(x1, 1e-9));
        }

        double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double Px(double x) => Left + ((((logX ? Math.Log10(Math.Max(x, 1e-9)) : x) - x0) / (x1 - x0)) * plotW);
        double Py(double y) => Top + plotH - (((y - y0) / (y1 - y0)) * plotH);

        var sb = Begin(title);
        // Axes and grid.
        for (var yv = Math.Ceiling((y0 / yStep) - 1e-9) * yStep; yv <= y1 + (yStep * 1e-6); yv += yStep)
        {
            var py = Py(yv);
            sb.Append(CultureInfo.InvariantCulture, $"<line x1='{Left}' y1='{F(py)}' x2='{Left + plotW}' y2='{F(py)}' stroke='#e5e5e5'/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x='{Left - 6}' y='{F(py + 4)}' text-anchor='end' font-size='11'>{Label(yv)}</text>");
        }

        foreach (var xv in Ticks(x0, x1, logX))
        {
            var px = logX ? Left + ((Math.Log10(xv) - x0) / (x1 - x0) * plotW) : Px(xv);
            sb.Append(CultureInfo.InvariantCulture, $"<line x1='{F(px)}' y1='{Top}' x2='{F(px)}' y2='{Top + plotH}' stroke='#f0f0f0'/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x='{F(px)}' y='{Top + plotH + 16}' text-anchor='middle' font-size='11'>{Label(xv)}</text>");
        }

        sb.Append(CultureInfo.InvariantCulture, $"<rect x='{Left}' y='{Top}' width='{F(plotW)}' height='{F(plotH)}' fill='none' stroke='#444'/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x='{F(Left + (plotW / 2))}' y='{Height - 12}' text-anchor='middle' font-size='12'>{Escape(xLabel)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x='16' y='{F(Top + (plotH / 2))}' text-anchor='middle' font-size='12' transform='rotate(-90 16 {F(Top + (plotH / 2))})'>{Escape(yLabel)}</text>");

        for (var si = 0; si < series.Count; si++)
        {
            var s = series[si];
            var color = s_palette[si % s_palette.Length];
            if (s.Low is not null && s.High is not null)
            {
                var band = new StringBuilder();
                for (var i = 0; i < s.X.Length; i++)
                {
                    if (double.IsFinite(s.High[i]))
                    {
                        band.Append(CultureInfo.InvariantCulture, $"{F(Px(s.X[i]))},{F(Py(s.High[i]))} ");
                    }
                }

                for (var i = s.X.Length - 1; i >= 0; i--)
                {
                    if (double.IsFinite(s.Low[i]))
                    {
                        band.Append(CultureInfo.InvariantCulture, $"{F(Px(s.X[i]))},{F(Py(s.Low[i]))} ");
                    }
                }

                sb.Append(CultureInfo.InvariantCulture, $"<polygon points='{band}' fill='{color}' fill-opacity='0.15' stroke='none'/>");
            }

            var line = new StringBuilder();
            for (var i = 0; i < s.X.Length; i++)
            {
                if (double.IsFinite(s.Y[i]))
                {
                    line.Append(CultureInfo.InvariantCulture, $"{F(Px(s.X[i]))},{F(Py(Math.Clamp(s.Y[i], y0, y1)))} ");
                }
            }

            var dash = s.Dashed ? " stroke-dasharray='6 4'" : string.Empty;
            sb.Append(CultureInfo.InvariantCulture, $"<polyline points='{line}' fill='none' stroke='{color}' stroke-width='2'{dash}/>");
            if (s.X.Length <= 30)
            {
                for (var i = 0; i < s.X.Length; i++)
                {
                    if (double.IsFinite(s.Y[i]))
                    {
                        sb.Append(CultureInfo.InvariantCulture, $"<circle cx='{F(Px(s.X[i]))}' cy='{F(Py(Math.Clamp(s.Y[i], y0, y1)))}' r='3' fill='{color}'/>");
                    }
                }
            }

            var ly = Top + 10 + (si * 18);
            sb.Append(CultureInfo.InvariantCulture, $"<line x1='{Width - Right + 10}' y1='{ly}' x2='{Width - Right + 34}' y2='{ly}' stroke='{color}' stroke-width='2'{dash}/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x='{Width - Right + 40}' y='{ly + 4}' font-size='11'>{Escape(s.Name)}</text>");
        }

        return End(sb);
    }

    /// <summary>A confusion matrix as a heat map, rows normalised to the true class (the counts are printed).</summary>
    public static string Confusion(string title, IReadOnlyList<string> classes, IReadOnlyList<IReadOnlyList<int>> matrix)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(matrix);
        var k = classes.Count;
        var cell = Math.Min(60, 300 / Math.Max(1, k));
        var sb = Begin(title);
        const int x0 = 120, y0 = 60;
        for (var i = 0; i < k; i++)
        {
            var total = 0;
            for (var j = 0; j < k; j++)
            {
                total += matrix[i][j];
            }

            sb.Append(CultureInfo.InvariantCulture, $"<text x='{x0 - 6}' y='{y0 + (i * cell) + (cell / 2) + 4}' text-anchor='end' font-size='11'>{Escape(classes[i])}</text>");
            for (var j = 0; j < k; j++)
            {
                var share = total == 0 ? 0 : (double)matrix[i][j] / total;
                var shade = (int)Math.Round(255 - (share * 200));
                var fill = $"rgb({shade},{shade},255)";
                sb.Append(CultureInfo.InvariantCulture, $"<rect x='{x0 + (j * cell)}' y='{y0 + (i * cell)}' width='{cell}' height='{cell}' fill='{fill}' stroke='#fff'/>");
                sb.Append(CultureInfo.InvariantCulture, $"<text x='{x0 + (j * cell) + (cell / 2)}' y='{y0 + (i * cell) + (cell / 2) + 4}' text-anchor='middle' font-size='11'>{matrix[i][j]}</text>");
            }
        }

        for (var j = 0; j < k; j++)
        {
            var x = x0 + (j * cell) + (cell / 2);
            sb.Append(CultureInfo.InvariantCulture, $"<text x='{x}' y='{y0 - 8}' text-anchor='middle' font-size='11'>{Escape(classes[j])}</text>");
        }

        sb.Append(CultureInfo.InvariantCulture, $"<text x='{x0 + (k * cell / 2)}' y='{y0 - 26}' text-anchor='middle' font-size='12'>predicted</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x='20' y='{y0 + (k * cell / 2)}' font-size='12' transform='rotate(-90 20 {y0 + (k * cell / 2)})' text-anchor='middle'>true</text>");
        return End(sb);
    }

    private static StringBuilder Begin(string title)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns='http://www.w3.org/2000/svg' width='{Width}' height='{Height}' viewBox='0 0 {Width} {Height}' font-family='sans-serif'>");
        sb.Append("<rect width='100%' height='100%' fill='white'/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x='{Width / 2}' y='20' text-anchor='middle' font-size='14' font-weight='bold'>{Escape(title)}</text>");
        return sb;
    }

    private static string End(StringBuilder sb)
    {
        sb.Append("</svg>");
        return sb.ToString();
    }

    private static IEnumerable<double> Ticks(double x0, double x1, bool log)
    {
        if (log)
        {
            for (var e = (int)Math.Floor(x0); e <= (int)Math.Ceiling(x1); e++)
            {
                foreach (var m in new[] { 1.0, 2.0, 5.0 })
                {
                    var v = m * Math.Pow(10, e);
                    var lv = Math.Log10(v);
                    if (lv >= x0 - 1e-9 && lv <= x1 + 1e-9)
                    {
                        yield return v;
                    }
                }
            }

            yield break;
        }

        var step = NiceStep((x1 - x0) / 6);
        for (var v = Math.Ceiling(x0 / step) * step; v <= x1 + (step * 1e-6); v += step)
        {
            yield return v;
        }
    }

    private static double NiceStep(double raw)
    {
        var p = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var f = raw / p;
        return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
    }

    // A tick at zero may be computed as -0.0 (Math.Ceiling(-1e-9) * step) or as a rounding residue (0.1 + 0.2 - 0.3):
    // both printed "-0" on the axes of every chart whose axis starts at 0.
    private static string Label(double v)
    {
        if (Math.Abs(v) < 1e-9)
        {
            v = 0;
        }

        return Math.Abs(v) >= 100 || v == Math.Round(v)
            ? v.ToString("0.##", CultureInfo.InvariantCulture)
            : v.ToString("0.###", CultureInfo.InvariantCulture);
    }

    private static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

    private static string Escape(string s) => WebUtility.HtmlEncode(s);
}
