using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AlertBroker.Alerts;
using AlertBroker.Alerts.Archives;
using AlertBroker.Avro;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary><c>alertbroker inspect PATH…</c>: show what is in alert files.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var paths = CliHelpers.PathsArgument("Alert files, directories or nightly archives.");
        var json = new Option<bool>("--json") { Description = "One JSON object per Avro record per line, keyed by the Avro field names (bytes shown as their length)." };
        var normalized = new Option<bool>("--normalized") { Description = "Print the normalised, survey-agnostic Alert instead (JSON lines)." };
        var limit = new Option<long>("--limit") { Description = "Stop after N records." }.AtLeast(1);
        var registry = CliHelpers.SchemaRegistryOption();
        var schemaDir = CliHelpers.SchemaDirOption().MustExist(PathKind.Directory);
        var command = new Command("inspect", "Show the alerts in files: a one-line summary each, the raw Avro records (--json) or the normalised alerts (--normalized).")
        {
            paths, json, normalized, limit, registry, schemaDir,
        };
        command.Validators.Add(result =>
        {
            // Two outputs asked for, one given: --normalized was used quietly.
            if (result.GetValue(json) && result.GetValue(normalized))
            {
                result.AddError("--json (the raw Avro records) and --normalized (the normalised alerts) are two outputs: give one.");
            }
        });
        CliHelpers.OneSchemaSource(command, registry, schemaDir);
        command.SetAction((parse, ct) => Task.FromResult(Run(
            parse.GetValue(paths)!,
            parse.GetValue(json),
            parse.GetValue(normalized),
            parse.GetValue(limit),
            CliHelpers.CreateDecoder(parse.GetValue(registry), parse.GetValue(schemaDir), inputs: parse.GetValue(paths)),
            Console.Out,
            ct)));
        return command;
    }

    public static int Run(IReadOnlyList<string> paths, bool json, bool normalized, long limit, AlertDecoder decoder, TextWriter output, CancellationToken cancellationToken)
    {
        var printed = 0L;
        var failures = 0;
        using var stdout = new StreamWriterBridge(output);
        using var writer = new Utf8JsonWriter(stdout.Stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var alerts = new List<Alert>();
        foreach (var input in AlertArchiveReader.Read(paths, cancellationToken))
        {
            if (limit > 0 && printed >= limit)
            {
                break;
            }

            if (input.Error is not null)
            {
                failures++;
                CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(input.Source)}:[/] {Markup.Escape(input.Error.Message)}");
                continue;
            }

            try
            {
                if (json && !normalized)
                {
                    printed += WriteRawRecords(input.Payload, decoder, writer, stdout, limit - printed);
                    continue;
                }

                alerts.Clear();
                decoder.Decode(input.Payload, alerts);
                foreach (var alert in alerts)
                {
                    // A container file can hold many alerts: --limit counts records, as --json does.
                    if (limit > 0 && printed >= limit)
                    {
                        break;
                    }

                    if (normalized)
                    {
                        AlertJson.Write(writer, alert);
                        stdout.EndLine(writer);
                    }
                    else
                    {
                        output.WriteLine(CliHelpers.Printable(Summary(input.Source, alert)));
                    }

                    printed++;
                }
            }
            catch (Exception e) when (e is AlertFormatException or AvroException)
            {
                failures++;
                CliHelpers.Stderr.MarkupLine($"[red]{Markup.Escape(input.Source)}:[/] {Markup.Escape(e.Message)}");
            }
        }

        output.Flush();
        if (printed == 0 && failures == 0)
        {
            CliHelpers.Stderr.MarkupLine($"[red]no alerts found in[/] {Markup.Escape(string.Join(", ", paths))}");
            return 1;
        }

        // An input that could not be read is exit 1 even when others printed (a corrupt file among good ones, an archive cut
        // after its first alerts ended 0): what was read is printed, and the failures said, as before.
        return printed == 0 || failures > 0 ? 1 : 0;
    }

    private static long WriteRawRecords(ReadOnlyMemory<byte> payload, AlertDecoder decoder, Utf8JsonWriter writer, StreamWriterBridge stdout, long budget)
    {
        var written = 0L;
        switch (AlertDecoder.DetectFraming(payload.Span))
        {
            case MessageFraming.Container:
                var container = AvroContainerReader.Open(payload, decoder.Options.SchemaCache, decoder.Options.Limits);
                foreach (var record in container.ReadAll())
                {
                    AvroJson.WriteDatum(writer, record);
                    stdout.EndLine(writer);
                    if (++written >= budget && budget > 0)
                    {
                        break;
                    }
                }

                return written;
            case MessageFraming.ConfluentWire:
                ConfluentWireFormat.TryReadHeader(payload.Span, out var id);
                var lookup = decoder.Options.SchemaLookup ?? throw new AlertFormatException(AlertErrorKind.SchemaNotFound, $"schema id {id}: pass --schema-registry or --schema-dir");
                var schema = lookup.GetSchemaAsync(id).AsTask().GetAwaiter().GetResult();
                var position = ConfluentWireFormat.HeaderLength;
                AvroJson.WriteDatum(writer, new GenericDatumReader(schema, null, decoder.Options.Limits).Read(payload, ref position));
                stdout.EndLine(writer);
                return 1;
            default:
                throw new AlertFormatException(AlertErrorKind.NotAvro, "not an Avro container or Confluent wire message");
        }
    }

    private static string Summary(string source, Alert a) => string.Create(
        CultureInfo.InvariantCulture,
        $"{source}  {a.SchemaVersion}  object={a.ObjectId}  source={a.SourceId}  mjd={a.Mjd:F5}  band={Passbands.Letter(a.Band)}  {Brightness(a.Candidate.FluxMicroJy)}  detections={a.Detections.Length}  limits={a.UpperLimits.Length}  forced={a.ForcedPhotometry.Length}");

    // The difference flux's magnitude and sign, as surveys quote them (ZTF's magpsf with isdiffpos): a negative
    // subtraction (a source fainter than in the template: a variable star near minimum) has a magnitude too. It was
    // printed as mag=NaN, which most of the real ZTF samples are.
    private static string Brightness(float fluxMicroJy) => float.IsFinite(fluxMicroJy) && fluxMicroJy != 0
        ? string.Create(CultureInfo.InvariantCulture, $"mag={Photometry.MicroJyToMag(Math.Abs(fluxMicroJy)):F3}  diff={(fluxMicroJy > 0 ? "positive" : "negative")}")
        : "mag=none";

    /// <summary>Lets a Utf8JsonWriter write JSON lines to a TextWriter (stdout, or a test's StringWriter).</summary>
    private sealed class StreamWriterBridge(TextWriter target) : IDisposable
    {
        public MemoryStream Stream { get; } = new();

        public void EndLine(Utf8JsonWriter writer)
        {
            writer.Flush();
            target.WriteLine(System.Text.Encoding.UTF8.GetString(Stream.GetBuffer(), 0, (int)Stream.Length));
            Stream.SetLength(0);
            writer.Reset(Stream);
        }

        public void Dispose() => Stream.Dispose();
    }
}
