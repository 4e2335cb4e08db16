namespace AlertBroker.Model.Packaging;

/// <summary>What kind of thing is wrong with a model package.</summary>
public enum ModelPackageProblemKind
{
    /// <summary>The directory, <c>model.json</c> or the ONNX file is missing.</summary>
    MissingFile,

    /// <summary><c>model.json</c> is not valid JSON or not a manifest.</summary>
    InvalidJson,

    /// <summary>A manifest field is missing, out of range or inconsistent with another.</summary>
    InvalidManifest,

    /// <summary>The ONNX file's SHA-256 differs from the manifest's (tampered or truncated); it is not loaded.</summary>
    HashMismatch,

    /// <summary>ONNX Runtime could not load the ONNX file.</summary>
    OnnxLoadFailed,

    /// <summary>The ONNX graph's inputs/outputs differ from the manifest or from the scoring contract.</summary>
    TensorMismatch,

    /// <summary>The manifest's feature encoding is not one the caller implements.</summary>
    UnsupportedEncoding,

    /// <summary>
    /// The manifest describes its (implemented) encoding differently from the implementation: step feature count or names,
    /// metadata features, band wavelengths or scaling constants. The worker would compute other numbers than the network expects.
    /// </summary>
    EncodingMismatch,

    /// <summary>
    /// The network's output on the smoke batch (light curves of 1, 3 and 6 synthetic steps) is not a probability
    /// distribution after every step (NaN or infinite weights, logits), or ignores its lengths or state input.
    /// </summary>
    InvalidOutput,
}

/// <summary>One problem found in a model package.</summary>
public sealed record ModelPackageProblem(ModelPackageProblemKind Kind, string Message)
{
    public override string ToString() => $"{Kind}: {Message}";
}

/// <summary>A model package failed validation; <see cref="Problems"/> lists everything that was found, not just the first.</summary>
public sealed class ModelPackageException : Exception
{
    public ModelPackageException(string source, IReadOnlyList<ModelPackageProblem> problems)
        : base(FormatMessage(source, problems))
    {
        PackageSource = source;
        Problems = problems;
    }

    public ModelPackageException()
        : this("model package", [])
    {
    }

    public ModelPackageException(string message)
        : base(message)
    {
        PackageSource = string.Empty;
        Problems = [];
    }

    public ModelPackageException(string message, Exception innerException)
        : base(message, innerException)
    {
        PackageSource = string.Empty;
        Problems = [];
    }

    /// <summary>The package directory, or a description of where the bytes came from.</summary>
    public string PackageSource { get; }

    public IReadOnlyList<ModelPackageProblem> Problems { get; }

    public bool Has(ModelPackageProblemKind kind)
    {
        foreach (var problem in Problems)
        {
            if (problem.Kind == kind)
            {
                return true;
            }
        }

        return false;
    }

    private static string FormatMessage(string source, IReadOnlyList<ModelPackageProblem> problems)
    {
        var text = new System.Text.StringBuilder($"Model package {source} is invalid ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):");
        foreach (var problem in problems)
        {
            text.Append("\n  - ").Append(problem);
        }

        return text.ToString();
    }
}
