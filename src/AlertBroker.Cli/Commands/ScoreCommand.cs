using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AlertBroker.Alerts;
using AlertBroker.Alerts.Archives;
using AlertBroker.Model.Features;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Packaging;
using AlertBroker.Model.Scoring;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>alertbroker score --model DIR PATH…</c>: decode alerts, group them by object, encode each object's whole light
/// curve with the model's encoding and score it from scratch with the model.
/// </summary>
internal static class ScoreCommand
{
    private const int BatchSize = 256;

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model package directory (models/<name>/<version>).", Required = true };
        var paths = CliHelpers.PathsArgument("Alert files, directories or nightly archives.");
        var jsonl = new Option<bool>("--jsonl") { Description = "One JSON object per object per line instead of a table." };
        var device = ModelCli.DeviceOption();
        var command = new Command("score", "Score the objects in alert files from scratch and print each object's class probabilities (exit 3 when the model cannot be used).") { model, paths, jsonl, device };
        command.SetAction((parse, ct) => Task.FromResult(Run(parse.GetValue(model)!, parse.GetValue(paths)!, parse.GetValue(jsonl), Console.Out, ct, parse.GetValue(device))));
        return command;
    }

    /// <summary>One object's observations gathered from its alerts.</summary>
    internal sealed record ObjectObservations(string ObjectId, Survey Survey, List<Observation> Observations);

    /// <summary>One object's score.</summary>
    internal sealed record ObjectScore(string ObjectId, Survey Survey, double LastMjd, int Observations, int Steps, float[] Probabilities);

    /// <summary>Exit 0 when objects were scored, 1 when none could be, 3 when the model (or ONNX Runtime) cannot be used.</summary>
    public static int Run(string modelDirectory, IReadOnlyList<string> paths, bool jsonl, TextWriter output, CancellationToken cancellationToken, string? device = null)
    {
        ModelPackage package;
        try
        {
            package = ModelPackage.Load(modelDirectory, StepEncodings.Ids, ModelCli.SessionOptions(device, intraOpThreads: 0));
        }
        catch (Exception e) when (ModelCli.IsModelUnusable(e))
        {
            return ModelCli.ReportModelUnusable(e);
        }

        using (package)
        {
            var objects = Collect(paths, cancellationToken, out var errors);
            List<ObjectScore> scores;
            try
            {
                scores = Score(package, objects.Values);
            }
            catch (OnnxRuntimeException e)
            {
                return ModelCli.ReportModelUnusable(e, $"scoring with {modelDirectory}");
            }

            if (jsonl)
            {
                WriteJsonLines(output, package.Manifest.Classes, scores);
            }
            else
            {
                WriteTable(package.Manifest.Classes, scores);
            }

            if (errors > 0)
            {
                CliHelpers.Stderr.MarkupLine($"[yellow]{errors} message(s) could not be decoded and were skipped[/]");
            }

            return scores.Count == 0 ? 1 : 0;
        }
    }

    /// <summary>Every object's observations, merged across its alerts (deduplicated later by source id).</summary>
    internal static Dictionary<string, ObjectObservations> Collect(IReadOnlyList<string> paths, CancellationToken cancellationToken, out int errors)
    {
        var decoder = new AlertDecoder();
        var objects = new Dictionary<string, ObjectObservations>(StringComparer.Ordinal);
        var alerts = new List<Alert>();
        errors = 0;
        foreach (var input in AlertArchiveReader.Read(paths, cancellationToken))
        {
            alerts.Clear();
            try
            {
                if (input.Error is not null)
                {
                    throw input.Error;
                }

                decoder.Decode(input.Payload, alerts);
            }
            catch (AlertFormatException e)
            {
                errors++;
                CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(input.Source)}:[/] {Markup.Escape(e.Message)}");
                continue;
            }

            foreach (var alert in alerts)
            {
                var key = alert.Survey + ":" + alert.ObjectId;
                if (!objects.TryGetValue(key, out var entry))
                {
                    entry = new ObjectObservations(alert.ObjectId, alert.Survey, []);
                    objects[key] = entry;
                }

                entry.Observations.AddRange(alert.Detections);
                entry.Observations.AddRange(alert.ForcedPhotometry);
            }
        }

        return objects;
    }

    internal static List<ObjectScore> Score(ModelPackage package, IEnumerable<ObjectObservations> objects)
    {
        using var scorer = new BatchScorer(package);
        var encoding = StepEncodings.Get(package.Manifest.Encoding.Id);
        var d = scorer.Dimensions;
        var scores = new List<ObjectScore>();
        var requests = new List<ScoringRequest>(BatchSize);
        var pending = new List<(string Id, Survey Survey, Observation[] Steps, int Observations)>(BatchSize);
        var meta = new float[d.MetaFeatures];
        if (d.MetaFeatures > 0)
        {
            // Alerts carry neither a host redshift nor E(B−V): both are flagged unknown.
            encoding.EncodeMeta(double.NaN, double.NaN, meta);
        }

        void Flush()
        {
            if (requests.Count == 0)
            {
                return;
            }

            var results = scorer.Score(requests.ToArray());
            for (var i = 0; i < results.Length; i++)
            {
                var (id, survey, steps, n) = pending[i];
                var last = results[i].Probabilities.AsSpan((results[i].Steps - 1) * d.Classes, d.Classes).ToArray();
                scores.Add(new ObjectScore(id, survey, steps[^1].Mjd, n, steps.Length, last));
            }

            requests.Clear();
            pending.Clear();
        }

        foreach (var (id, survey, observations) in objects)
        {
            // The model's encoding decides which points are steps (its window around t₀ included) and t₀.
            var steps = encoding.SelectSteps(observations, out var t0);
            if (steps.Length == 0)
            {
                continue;
            }

            var x = new float[steps.Length * d.InputFeatures];
            encoding.EncodeSteps(steps, 0, t0, double.NaN, x);
            requests.Add(new ScoringRequest(x, meta, ReadOnlyMemory<float>.Empty));
            pending.Add((id, survey, steps, observations.Count));
            if (requests.Count == BatchSize)
            {
                Flush();
            }
        }

        Flush();
        return scores;
    }

    private static void WriteTable(IReadOnlyList<string> classes, List<ObjectScore> scores)
    {
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("object");
        table.AddColumn(new TableColumn("last MJD").RightAligned());
        table.AddColumn(new TableColumn("observations").RightAligned());
        table.AddColumn(new TableColumn("steps").RightAligned());
        table.AddColumn("top class");
        table.AddColumn(new TableColumn("p").RightAligned());
        foreach (var s in scores)
        {
            var top = ArgMax(s.Probabilities);
            table.AddRow(Markup.Escape(s.ObjectId), s.LastMjd.ToString("F4", inv), s.Observations.ToString(inv), s.Steps.ToString(inv), Markup.Escape(classes[top]), s.Probabilities[top].ToString("F3", inv));
        }

        AnsiConsole.Write(table);
    }

    private static void WriteJsonLines(TextWriter output, IReadOnlyList<string> classes, List<ObjectScore> scores)
    {
        foreach (var s in scores)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("objectId", s.ObjectId);
                w.WriteString("survey", s.Survey.ToString().ToLowerInvariant());
                w.WriteNumber("lastMjd", s.LastMjd);
                w.WriteNumber("observations", s.Observations);
                w.WriteNumber("steps", s.Steps);
                var top = ArgMax(s.Probabilities);
                w.WriteString("topClass", classes[top]);
                w.WriteNumber("topProbability", s.Probabilities[top]);
                w.WriteStartObject("probabilities");
                for (var c = 0; c < classes.Count; c++)
                {
                    w.WriteNumber(classes[c], s.Probabilities[c]);
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        }
    }

    private static int ArgMax(float[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
