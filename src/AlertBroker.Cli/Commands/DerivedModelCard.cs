namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>MODEL_CARD.md</c> of a package made from other packages without training (<c>models average</c>,
/// <c>models priors</c>): what was done, how to evaluate it, then the card of the package it was made from.
/// </summary>
internal static class DerivedModelCard
{
    public const string FileName = "MODEL_CARD.md";

    public static void Write(string directory, string name, string version, string whatWasDone, string source)
    {
        var card = new System.Text.StringBuilder();
        card.Append("# Model card: ").Append(name).Append(' ').Append(version).Append("\n\n");
        card.Append(whatWasDone.TrimEnd()).Append("\n\n");
        card.Append("This command trains nothing and evaluates nothing: `model.json` has no test metrics. Evaluate the package with ")
            .Append("`alertbroker evaluate --model ").Append(directory).Append(" --data … --split test --report ").Append(directory)
            .Append("` (writes `evaluation.html` and `evaluation.json` beside it).\n");
        var sourceCard = Path.Combine(source, FileName);
        if (File.Exists(sourceCard))
        {
            card.Append("\n## Made from: ").Append(source).Append("\n\n");
            foreach (var line in File.ReadAllLines(sourceCard))
            {
                // The source's headings one level down, so that its card nests under this one.
                card.Append(line.StartsWith('#') ? "#" + line : line).Append('\n');
            }
        }

        File.WriteAllText(Path.Combine(Path.GetFullPath(directory), FileName), card.ToString());
    }
}
