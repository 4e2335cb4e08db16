using System.Globalization;
using Spectre.Console;

namespace AlertBroker.Cli.Replay;

/// <summary>Renders a <see cref="ReplayStatistics"/> summary.</summary>
internal static class ReplayReport
{
    public static void Write(IAnsiConsole console, ReplayStatistics s)
    {
        var inv = CultureInfo.InvariantCulture;
        var summary = new Table().Border(TableBorder.Rounded).Title("[bold]replay summary[/]");
        summary.AddColumn("measure");
        summary.AddColumn(new TableColumn("value").RightAligned());
        summary.AddRow("messages", s.Messages.ToString("N0", inv));
        summary.AddRow("alerts", s.Alerts.ToString("N0", inv));
        summary.AddRow("objects", s.Objects.ToString("N0", inv));
        summary.AddRow("detections / upper limits / forced", string.Create(inv, $"{s.Detections:N0} / {s.UpperLimits:N0} / {s.ForcedPhotometry:N0}"));
        summary.AddRow("errors", s.ErrorCount.ToString("N0", inv));
        summary.AddRow("elapsed", string.Create(inv, $"{s.Elapsed.TotalSeconds:F2} s"));
        summary.AddRow("alerts/s", s.AlertsPerSecond.ToString("N0", inv));
        summary.AddRow("MB/s", s.MegabytesPerSecond.ToString("N1", inv));
        console.Write(summary);

        if (s.BySchema.Count > 0)
        {
            var schemas = new Table().Border(TableBorder.Rounded).Title("[bold]alerts per survey and schema version[/]");
            schemas.AddColumn("schema");
            schemas.AddColumn(new TableColumn("alerts").RightAligned());
            foreach (var (schema, count) in s.BySchema.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                schemas.AddRow(Markup.Escape(schema), count.ToString("N0", inv));
            }

            console.Write(schemas);
        }

        if (s.ErrorCount > 0)
        {
            var errors = new Table().Border(TableBorder.Rounded).Title("[bold]errors by kind[/]");
            errors.AddColumn("kind");
            errors.AddColumn(new TableColumn("count").RightAligned());
            foreach (var (kind, count) in s.Errors.OrderBy(kv => kv.Key))
            {
                errors.AddRow(kind.ToString(), count.ToString("N0", inv));
            }

            console.Write(errors);
            foreach (var example in s.ErrorExamples)
            {
                console.MarkupLine("[grey]" + Markup.Escape(example) + "[/]");
            }
        }
    }
}
