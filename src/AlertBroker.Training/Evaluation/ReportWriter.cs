using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Training.Evaluation;

/// <summary>Writes an <see cref="EvaluationReport"/> as JSON and as one self-contained HTML page with SVG charts.</summary>
public static class ReportWriter
{
    /// <summary>
    /// camelCase, indented; an undefined figure (NaN: the AUROC of a class without objects, an early point without objects)
    /// written as JSON null and read back from null or, as files written until 2026-12-07 hold it, "NaN" (<see cref="FigureJson"/>).
    /// </summary>
    public static JsonSerializerOptions JsonOptions { get; } = new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    }.WithFigures();

    public static string ToJson(EvaluationReport report) => JsonSerializer.Serialize(report, JsonOptions);

    public static string ToHtml(EvaluationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>AlertBroker evaluation</title>");
        sb.Append("<style>body{font-family:sans-serif;max-width:1400px;margin:2em auto;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f4f4f4}.charts{display:flex;flex-wrap:wrap;gap:16px}</style></head><body>");
        sb.Append(inv, $"<h1>Evaluation of {E(report.Model)}</h1><p>Data: {E(report.Data)} — {report.Objects} objects.{(report.Conditions.Length > 0 ? " Conditions: " + E(report.Conditions) + "." : string.Empty)}{(report.LeftOut.Total > 0 ? " Not evaluated: " + E(report.LeftOut.Describe(report.Classes)) + "." : string.Empty)}{(report.RejectedRows.Total > 0 ? " Reading the data: " + E(report.RejectedRows.ToString()) + "." : string.Empty)}{(report.MetadataReadAsUnknown.Total > 0 ? " " + E(report.MetadataReadAsUnknown.ToString()) + "." : string.Empty)}{(report.ClassesWithoutObjects() is { Count: > 0 } absent ? " No object of class " + E(string.Join(", ", absent)) + ": the macro figures average the other classes." : string.Empty)}</p>");
        sb.Append(inv, $"<table><tr><th>macro AUROC (whole light curve)</th><th>macro F1</th><th>accuracy</th><th>mean macro AUROC, days 0–50 and whole</th></tr><tr><td>{N(report.MacroAuroc)}{Interval(report.MacroAurocInterval)}</td><td>{N(report.MacroF1)}</td><td>{N(report.Accuracy)}</td><td>{N(report.MeanEarlyMacroAuroc)}</td></tr></table>");
        if (report.BootstrapResamples > 0)
        {
            sb.Append(inv, $"<p>[a, b]: 95% interval over {report.BootstrapResamples} class-stratified bootstrap resamples of the evaluated objects (how much the figure depends on which objects were drawn; widest where a class has few).</p>");
        }

        sb.Append("<h2>Per class</h2><table><tr><th>class</th><th>support</th><th>precision</th><th>recall</th><th>F1</th><th>AUROC</th></tr>");
        foreach (var c in report.PerClass)
        {
            sb.Append(inv, $"<tr><td>{E(c.Class)}</td><td>{c.Support}</td><td>{N(c.Precision)}</td><td>{N(c.Recall)}</td><td>{N(c.F1)}</td><td>{N(c.Auroc)}</td></tr>");
        }

        sb.Append("</table><h2>Charts</h2><div class='charts'>");
        var roc = new List<ChartSeries>();
        foreach (var r in report.Roc)
        {
            roc.Add(new ChartSeries(r.Class, r.FalsePositiveRate, r.TruePositiveRate));
        }

        roc.Add(new ChartSeries("chance", [0, 1], [0, 1], Dashed: true));
        sb.Append(SvgChart.Lines("ROC curves (one vs rest)", "false-positive rate", "true-positive rate", roc, 0, 1, xMin: 0, xMax: 1));
        sb.Append(SvgChart.Confusion("Confusion matrix (full light curves)", report.Classes, report.Confusion));
        var days = new double[report.Early.Count];
        var auc = new double[report.Early.Count];
        var acc = new double[report.Early.Count];
        for (var i = 0; i < days.Length; i++)
        {
            days[i] = report.Early[i].Days;
            auc[i] = report.Early[i].MacroAuroc;
            acc[i] = report.Early[i].Accuracy;
        }

        var earlySeries = new List<ChartSeries> { new("macro AUROC", days, auc), new("accuracy", days, acc) };
        if (days.Length > 1 && double.IsFinite(report.MacroAuroc))
        {
            earlySeries.Add(new ChartSeries("macro AUROC, whole light curve", [days[0], days[^1]], [report.MacroAuroc, report.MacroAuroc], Dashed: true));
        }

        sb.Append(SvgChart.Lines("Early classification", "days since first detection", "score", earlySeries, 0, 1));
        if (report.History.Count > 0)
        {
            var epochs = new double[report.History.Count];
            var train = new double[epochs.Length];
            var val = new double[epochs.Length];
            var valAuc = new double[epochs.Length];
            for (var i = 0; i < epochs.Length; i++)
            {
                epochs[i] = report.History[i].Epoch;
                train[i] = report.History[i].TrainLoss;
                val[i] = report.History[i].ValidationLoss;
                valAuc[i] = report.History[i].ValidationMacroAuroc;
            }

            sb.Append(SvgChart.Lines("Learning curves", "epoch", "loss", [new("training loss", epochs, train), new("validation loss", epochs, val)], 0));
            sb.Append(SvgChart.Lines("Validation macro AUROC", "epoch", "macro AUROC", [new("validation", epochs, valAuc)], null, 1));
        }

        sb.Append("</div><h2>Early classification</h2>");
        sb.Append("<p>At d days: the probabilities after each object's last observation at or before its first detection + d days. ");
        sb.Append("\"still observed\": objects with observations after that time (for the others the point is their whole light curve). ");
        sb.Append("Whole: every step kept (the first maxSteps observations). Per-class AUROC of classes with few objects is noisy.</p>");
        sb.Append("<table><tr><th>days</th><th>objects</th><th>still observed</th><th>macro AUROC</th><th>accuracy</th>");
        foreach (var c in report.Classes)
        {
            sb.Append(inv, $"<th>AUROC {E(c)}</th>");
        }

        sb.Append("</tr>");
        foreach (var p in report.Early)
        {
            sb.Append(inv, $"<tr><td>{p.Days}</td><td>{p.Objects}</td><td>{p.StillObserved}</td><td>{N(p.MacroAuroc)}{Interval(p.MacroAurocInterval)}</td><td>{N(p.Accuracy)}</td>");
            for (var c = 0; c < report.Classes.Count; c++)
            {
                sb.Append(inv, $"<td>{N(p.PerClassAuroc is { } pc && c < pc.Count ? pc[c] : double.NaN)}</td>");
            }

            sb.Append("</tr>");
        }

        sb.Append(inv, $"<tr><td>whole</td><td>{report.Objects}</td><td>–</td><td>{N(report.MacroAuroc)}{Interval(report.MacroAurocInterval)}</td><td>{N(report.Accuracy)}</td>");
        foreach (var c in report.PerClass)
        {
            sb.Append(inv, $"<td>{N(c.Auroc)}</td>");
        }

        sb.Append("</tr></table>");
        sb.Append("<h2>Objects per class</h2><table><tr>");
        foreach (var c in report.PerClass)
        {
            sb.Append(inv, $"<th>{E(c.Class)}</th>");
        }

        sb.Append("</tr><tr>");
        foreach (var c in report.PerClass)
        {
            sb.Append(inv, $"<td>{c.Support}</td>");
        }

        sb.Append("</tr></table></body></html>");
        return sb.ToString();
    }

    /// <summary>Writes <c>evaluation.json</c> and <c>evaluation.html</c> into <paramref name="directory"/>.</summary>
    public static void Write(EvaluationReport report, string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "evaluation.json"), ToJson(report));
        File.WriteAllText(Path.Combine(directory, "evaluation.html"), ToHtml(report));
    }

    /// <summary>A figure as the report and <c>evaluate</c>'s tables show it: three decimals, "–" where there is none (NaN: a class without objects).</summary>
    public static string N(double v) => double.IsNaN(v) ? "–" : v.ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>" [a, b]" for a bootstrap interval, empty where none was computed.</summary>
    public static string Interval(IReadOnlyList<double>? interval) =>
        interval is { Count: 2 } i && double.IsFinite(i[0]) ? $" [{N(i[0])}, {N(i[1])}]" : string.Empty;

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
