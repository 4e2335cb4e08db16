using System.CommandLine;
using AlertBroker.Alerts;
using AlertBroker.Avro;
using Spectre.Console;

namespace AlertBroker.Cli;

/// <summary>Options and helpers several commands share.</summary>
internal static class CliHelpers
{
    public static Option<string?> SchemaRegistryOption() => new("--schema-registry")
    {
        Description = "Schema registry base URL for Confluent-wire messages (GET /schemas/ids/{id}).",
    };

    public static Option<string?> SchemaDirOption() => new("--schema-dir")
    {
        Description = "Directory of <id>.avsc files for Confluent-wire messages.",
    };

    public static Argument<string[]> PathsArgument(string description) => new("paths")
    {
        Description = description,
        Arity = ArgumentArity.OneOrMore,
    };

    public static AlertDecoder CreateDecoder(string? registry, string? schemaDir)
    {
        ISchemaLookup? lookup = registry is not null
            ? new SchemaRegistryLookup(new Uri(registry))
            : schemaDir is not null ? new DirectorySchemaLookup(schemaDir) : null;
        return new AlertDecoder(new AlertDecoderOptions { SchemaLookup = lookup });
    }

    /// <summary>A console for progress and diagnostics on stderr, so stdout stays machine-readable.</summary>
    public static IAnsiConsole Stderr { get; } = AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Console.Error),
    });

    /// <summary>
    /// The project's shared sample folder (<c>../shared</c> beside the checkout), found by walking up from the
    /// working directory and from the program's own folder; null when there is none.
    /// </summary>
    public static string? FindSharedDirectory()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "alert-samples");
                if (Directory.Exists(candidate))
                {
                    return Path.Combine(dir.FullName, "shared");
                }
            }
        }

        return null;
    }
}
