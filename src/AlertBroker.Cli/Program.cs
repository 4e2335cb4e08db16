using AlertBroker.Cli;
using Spectre.Console;

// ONNX Runtime's usage telemetry off before any thread could read the environment while it is set (OnnxTelemetry): its
// uploader thread raced the runtime's static destructors at exit ("double free or corruption", exit 134).
AlertBroker.Model.Onnx.OnnxTelemetry.TurnOff();

// A standard output that cannot be written (a full disk, /dev/full) is said to be one: exit 1, not "unexpected error".
StandardOutput.Install();

// Redirected (a log, a supervisor, a test), stdout is not wrapped at a console width: one message stays one line; and it
// carries no colour escape codes, which a log file or a pipe would keep as "[38;5;9m" noise.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 4096;
    CliHelpers.Plain(AnsiConsole.Profile);
}

// Commands report their own failures (one line, a documented exit code). Anything that still escapes is a bug: it is
// reported on one line with the exception's type, never as a stack trace, and exits with 70 (fatal runtime error).
try
{
    return await AlertBrokerCommand.InvokeAsync(args).ConfigureAwait(false);
}
catch (OperationCanceledException)
{
    return 130;
}
catch (StandardOutputException e)
{
    Console.Error.WriteLine($"alertbroker: {e.Message}");
    return 1;
}
catch (AlertBroker.Avro.SchemaLookupUnavailableException e)
{
    // A schema registry that does not answer (inspect, replay, score, bench of Confluent-wire files) is a service
    // unreachable, exit 4 as for Kafka and Redis; it was "unexpected error (SchemaLookupUnavailableException)", exit 70.
    Console.Error.WriteLine($"alertbroker: {ModelCli.OneLine(e)}");
    return 4;
}
catch (Exception e)
{
    Console.Error.WriteLine($"alertbroker: unexpected error ({e.GetType().Name}): {ModelCli.OneLine(e)}");
    return 70;
}
