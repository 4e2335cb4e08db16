using System.Text.Json;
using System.Text.Json.Serialization;

namespace AlertBroker.Model.Packaging;

// Figures (training.metrics) that are NaN or infinite are written as null and read back from null or, as earlier releases
// wrote them, "NaN"/"Infinity" (FigureJson); until 2026-12-07 they were written as those strings.
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DictionaryKeyPolicy = JsonKnownNamingPolicy.Unspecified,
    WriteIndented = true,
    AllowTrailingCommas = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    Converters = [typeof(FigureJsonConverter), typeof(FigureSingleJsonConverter)])]
[JsonSerializable(typeof(ModelManifest))]
internal sealed partial class ModelManifestJsonContext : JsonSerializerContext;
