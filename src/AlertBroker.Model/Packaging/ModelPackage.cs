using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using AlertBroker.Alerts.Archives;
using AlertBroker.Model.Features;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Onnx.Protobuf;
using Microsoft.Win32.SafeHandles;

namespace AlertBroker.Model.Packaging;

/// <summary>
/// A validated model: its manifest and a ready ONNX Runtime session. A package on disk is
/// <c>models/&lt;name&gt;/&lt;version&gt;/model.json</c> + <c>model.onnx</c>; the same two byte arrays can come from anywhere
/// (e.g. Redis), so loading needs no shared file system. Disposing the package disposes the session.
/// </summary>
public sealed class ModelPackage : IDisposable
{
    public const string ManifestFileName = "model.json";
    public const string OnnxFileName = "model.onnx";

    private ModelPackage(ModelManifest manifest, OnnxSession session, string sha256, string source)
    {
        Manifest = manifest;
        Session = session;
        Sha256 = sha256;
        Source = source;
    }

    public ModelManifest Manifest { get; }

    public OnnxSession Session { get; }

    /// <summary>SHA-256 of the ONNX bytes that were loaded (equal to the manifest's).</summary>
    public string Sha256 { get; }

    /// <summary>The directory, or a description of where the bytes came from.</summary>
    public string Source { get; }

    /// <summary><c>root/name/version</c>.</summary>
    public static string GetDirectory(string root, string name, string version) => Path.Combine(root, name, version);

    /// <summary>
    /// Loads and validates a package directory. Every problem found is reported in one <see cref="ModelPackageException"/>.
    /// Neither an unloadable native ONNX Runtime (<see cref="OnnxRuntimeNotFoundException"/>) nor an unusable execution
    /// provider (<see cref="OnnxRuntimeException"/> with <see cref="OnnxErrorCode.ExecutionProviderFailure"/>, e.g. CUDA
    /// requested where there is none) is a package problem: both surface as themselves.
    /// </summary>
    /// <param name="directory">The package directory holding <c>model.json</c> and the ONNX file.</param>
    /// <param name="supportedEncodings">The feature encodings the caller implements; any other is refused.</param>
    /// <param name="sessionOptions">ONNX Runtime session options (threads, CUDA).</param>
    public static ModelPackage Load(string directory, IReadOnlyCollection<EncodingId> supportedEncodings, OnnxSessionOptions? sessionOptions = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(supportedEncodings);
        var problems = new List<ModelPackageProblem>();
        if (!Directory.Exists(directory))
        {
            problems.Add(new(ModelPackageProblemKind.MissingFile, $"package directory '{directory}' does not exist"));
            throw new ModelPackageException(directory, problems);
        }

        // A package replaced while it is read (train --out over it swaps the directory in one step) can give the old
        // model.json and the new ONNX file: while the ONNX file's hash is not the one its model.json names, both are read
        // again (at most four times), rather than refuse a package that is whole on disk. A package that is broken on disk
        // is refused as before, after those reads.
        for (var attempt = 1; ; attempt++)
        {
            var (manifest, onnx) = ReadFiles(directory, problems);
            var sha = onnx is null ? null : ComputeSha256(onnx);
            if (attempt <= MaxRereads && IsStale(manifest, sha))
            {
                problems.Clear();
                continue;
            }

            return Validate(directory, manifest, onnx, supportedEncodings, sessionOptions, problems, sha);
        }
    }

    /// <summary>
    /// A package directory's <c>model.json</c> and ONNX file (the one its <c>onnx.file</c> names, else
    /// <c>model.onnx</c>) as bytes, read again — at most four more times — while the ONNX file's hash is not the one the
    /// <c>model.json</c> read names, as <see cref="Load(string, IReadOnlyCollection{EncodingId}, OnnxSessionOptions?)"/>
    /// does: a package swapped in while it is read is read whole. Nothing is validated (see <see cref="Check"/>); a file
    /// that cannot be read throws as <see cref="File.ReadAllBytes(string)"/> does.
    /// </summary>
    public static (byte[] Manifest, byte[] Onnx) ReadFiles(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        for (var attempt = 1; ; attempt++)
        {
            var (manifestHandle, early) = OpenPair(directory, OpenPackageFile(directory, ManifestFileName, out var problem, missingThrows: true) ?? throw new ModelPackageException(directory, [problem!]));
            using (manifestHandle)
            using (early)
            {
                var manifestBytes = ReadOpened(manifestHandle, ManifestFileName, out problem) ?? throw new ModelPackageException(directory, [problem!]);
                var manifest = TryParseManifest(manifestBytes, []);
                var onnxName = manifest?.Onnx?.File is { Length: > 0 } named && IsPlainFileName(named) ? named : OnnxFileName;
                var onnx = ReadOnnx(directory, onnxName, early, out problem, missingThrows: true) ?? throw new ModelPackageException(directory, [problem!]);
                if (attempt <= MaxRereads && IsStale(manifest, ComputeSha256(onnx)))
                {
                    continue;
                }

                return (manifestBytes, onnx);
            }
        }
    }

    // How many times more a package's files are read while they do not belong together.
    private const int MaxRereads = 4;

    /// <summary>The largest model.json read (bytes): a manifest is kilobytes; a bigger file is not one.</summary>
    public const long MaxManifestBytes = 64L << 20;

    /// <summary>The largest ONNX file read (bytes): ONNX's protobuf cannot hold 2 GiB in one file.</summary>
    public const long MaxOnnxBytes = int.MaxValue;

    /// <summary>
    /// A package file's bytes. What is not a regular file (a named pipe: the read waited for a writer forever; a device such
    /// as /dev/zero: read until memory ran out, "unexpected error"), a symbolic link to nothing ("Could not find file", or
    /// unexpected), and a file above <see cref="MaxManifestBytes"/> or <see cref="MaxOnnxBytes"/> is a
    /// <see cref="ModelPackageException"/> naming it (a package no worker can use). Other failures throw as
    /// <see cref="File.ReadAllBytes(string)"/> does.
    /// </summary>
    public static byte[] ReadPackageFile(string directory, string name)
    {
        using var handle = OpenPackageFile(directory, name, out var problem, missingThrows: true) ?? throw new ModelPackageException(directory, [problem!]);
        return ReadOpened(handle, name, out problem) ?? throw new ModelPackageException(directory, [problem!]);
    }

    // A package file opened for reading, or null and the problem that keeps it from being read (missingThrows: a file that
    // is not there throws as File.ReadAllBytes does, and callers put it in their own words; else it is "NAME is missing").
    private static SafeFileHandle? OpenPackageFile(string directory, string name, out ModelPackageProblem? problem, bool missingThrows = false)
    {
        var path = Path.Combine(directory, name);
        problem = null;
        var info = new FileInfo(path);
        if (info.LinkTarget is { } target)
        {
            FileSystemInfo? final;
            try
            {
                final = info.ResolveLinkTarget(returnFinalTarget: true);
            }
            catch (IOException)
            {
                // A loop of links (or a chain longer than the system follows): "Too many levels of symbolic links" ended
                // every command in "unexpected error" (exit 70) until 2026-12-07.
                problem = new(ModelPackageProblemKind.MissingFile, $"{name} is a symbolic link to {target} that never leads to a file (a loop of symbolic links, or too many levels of them)");
                return null;
            }

            if (final is not { Exists: true })
            {
                // File.Exists is true for a link to nothing: it read as "Could not find file", or "unexpected error".
                problem = new(ModelPackageProblemKind.MissingFile, $"{name} is a symbolic link to {target}, which does not exist");
                return null;
            }
        }

        if (!info.Exists && FileType.Of(path) == FileKind.Unknown)
        {
            if (missingThrows)
            {
                return File.OpenHandle(path);
            }

            problem = new(ModelPackageProblemKind.MissingFile, $"{name} is missing");
            return null;
        }

        if (FileType.NotRegular(path) is { } kind)
        {
            problem = new(ModelPackageProblemKind.MissingFile, $"{name} is {kind}, not a regular file");
            return null;
        }

        // Deleting or replacing the file while it is open (a package swapped in) is allowed: the open file stays readable.
        return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
    }

    // A package's model.json, opened, and at once its model.onnx when that is there (null else): a package swapped in
    // between the two opens gives files of two versions (read again by the callers), and opening both before either is read
    // and parsed keeps that window microseconds wide, where a writer that rewrites the package over and over had the reads
    // disagree five times in a row. A manifest naming another ONNX file (onnx.file) has that one opened after it is read.
    private static (SafeFileHandle Manifest, SafeFileHandle? Onnx) OpenPair(string directory, SafeFileHandle manifest)
    {
        try
        {
            return (manifest, File.Exists(Path.Combine(directory, OnnxFileName)) ? OpenPackageFile(directory, OnnxFileName, out _) : null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Read again by name after the manifest, where it is said in the words of that read.
            return (manifest, null);
        }
    }

    // The ONNX file's bytes: from the handle opened with the manifest when the manifest names model.onnx, else read by name.
    private static byte[]? ReadOnnx(string directory, string onnxName, SafeFileHandle? early, out ModelPackageProblem? problem, bool missingThrows)
    {
        if (early is not null && onnxName == OnnxFileName)
        {
            return ReadOpened(early, onnxName, out problem);
        }

        using var handle = OpenPackageFile(directory, onnxName, out problem, missingThrows);
        return handle is null ? null : ReadOpened(handle, onnxName, out problem);
    }

    // An open package file's bytes, or null and the problem when it is above its size limit.
    private static byte[]? ReadOpened(SafeFileHandle handle, string name, out ModelPackageProblem? problem)
    {
        problem = null;
        var max = name == ManifestFileName ? MaxManifestBytes : MaxOnnxBytes;
        var length = RandomAccess.GetLength(handle);
        if (length > max)
        {
            problem = new(name == ManifestFileName ? ModelPackageProblemKind.InvalidJson : ModelPackageProblemKind.OnnxLoadFailed, string.Create(CultureInfo.InvariantCulture, $"{name} is {length:N0} bytes, more than the {max:N0} a package file may have"));
            return null;
        }

        // As File.ReadAllBytes: the length at open, or to the end where a file says 0 (as /proc's do).
        using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
        if (length == 0)
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }

        var bytes = new byte[length];
        var read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        return read == bytes.Length ? bytes : bytes[..read];
    }

    // The ONNX file read is not the one the model.json read names (a package swapped between the two reads, or broken).
    private static bool IsStale(ModelManifest? manifest, string? onnxSha256) =>
        onnxSha256 is not null && manifest?.Onnx?.Sha256 is { Length: > 0 } expected
        && !string.Equals(expected, onnxSha256, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The problem of a <paramref name="directory"/> without <c>model.json</c>. When it holds packages of one model name
    /// (<paramref name="versions"/>: <c>models/ztf-bts</c> given for <c>models/ztf-bts/2.7.0</c>, the likely mistake), the
    /// problem names them and the newest to give, and a caller need not add that the ONNX file is missing too.
    /// </summary>
    public static ModelPackageProblem ManifestMissing(string directory, out IReadOnlyList<string> versions)
    {
        versions = VersionsIn(directory);
        return new(ModelPackageProblemKind.MissingFile, versions.Count > 0
            ? $"{ManifestFileName} is missing: {directory} holds packages in its subdirectories {string.Join(", ", versions)} (a package is NAME/VERSION): give {Path.Combine(directory, versions[^1])}"
            : $"{ManifestFileName} is missing");
    }

    /// <summary>
    /// The subdirectories of <paramref name="directory"/> that hold a <c>model.json</c> (packages of one model name), in
    /// version order (numeric parts compared as numbers: 2.10.0 after 2.7.0); empty when there are none or it cannot be read.
    /// </summary>
    public static IReadOnlyList<string> VersionsIn(string directory)
    {
        try
        {
            return [.. Directory.EnumerateDirectories(directory)
                .Where(d => !Path.GetFileName(d).StartsWith('.') && File.Exists(Path.Combine(d, ManifestFileName)))
                .Select(d => Path.GetFileName(d))
                .Order(VersionOrder.Instance)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return [];
        }
    }

    // "2.10.0" after "2.7.0": dot-separated parts compared as numbers where both are, else ordinally.
    private sealed class VersionOrder : IComparer<string>
    {
        public static VersionOrder Instance { get; } = new();

        public int Compare(string? x, string? y)
        {
            var a = (x ?? string.Empty).Split('.');
            var b = (y ?? string.Empty).Split('.');
            for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
            {
                var c = long.TryParse(a[i], NumberStyles.None, CultureInfo.InvariantCulture, out var m)
                    && long.TryParse(b[i], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                    ? m.CompareTo(n)
                    : string.CompareOrdinal(a[i], b[i]);
                if (c != 0)
                {
                    return c;
                }
            }

            return a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(x, y);
        }
    }

    private static (ModelManifest? Manifest, byte[]? Onnx) ReadFiles(string directory, List<ModelPackageProblem> problems)
    {
        var manifestPath = Path.Combine(directory, ManifestFileName);
        ModelManifest? manifest = null;
        SafeFileHandle? early = null;
        try
        {
            // A directory named model.json is said as what it is ("is a directory, not a regular file"), as every command
            // that reads the files through ReadFiles said it; Load said "model.json is missing" until 2026-12-07.
            if (!File.Exists(manifestPath) && !Directory.Exists(manifestPath))
            {
                problems.Add(ManifestMissing(directory, out var versions));
                if (versions.Count > 0)
                {
                    return (null, null);
                }
            }
            else if (OpenPackageFile(directory, ManifestFileName, out var unopened) is { } opened)
            {
                (var manifestHandle, early) = OpenPair(directory, opened);
                using (manifestHandle)
                {
                    if (ReadOpened(manifestHandle, ManifestFileName, out var unreadable) is { } manifestBytes)
                    {
                        manifest = TryParseManifest(manifestBytes, problems);
                    }
                    else
                    {
                        problems.Add(unreadable!);
                    }
                }
            }
            else
            {
                problems.Add(unopened!);
            }

            var onnxName = manifest?.Onnx?.File is { Length: > 0 } named ? named : OnnxFileName;
            byte[]? onnx = null;
            if (!IsPlainFileName(onnxName))
            {
                problems.Add(new(ModelPackageProblemKind.InvalidManifest, $"onnx.file '{onnxName}' must be a file name inside the package directory"));
            }
            else if (ReadOnnx(directory, onnxName, early, out var unreadable, missingThrows: false) is { } bytes)
            {
                onnx = bytes;
            }
            else
            {
                problems.Add(unreadable!);
            }

            return (manifest, onnx);
        }
        finally
        {
            early?.Dispose();
        }
    }

    /// <summary>Loads and validates a package from its two files' bytes (e.g. fetched from Redis).</summary>
    public static ModelPackage Load(
        ReadOnlySpan<byte> manifestJson,
        ReadOnlySpan<byte> onnxBytes,
        IReadOnlyCollection<EncodingId> supportedEncodings,
        OnnxSessionOptions? sessionOptions = null,
        string source = "(bytes)")
    {
        ArgumentNullException.ThrowIfNull(supportedEncodings);
        var problems = new List<ModelPackageProblem>();
        var manifest = TryParseManifest(manifestJson, problems);
        return Validate(source, manifest, onnxBytes.ToArray(), supportedEncodings, sessionOptions, problems);
    }

    /// <summary>
    /// Writes a package: the ONNX bytes and a manifest whose <c>onnx.sha256</c> is computed here (and whose
    /// <c>onnx.opset</c>/<c>onnx.producer</c> are read from the file when left empty). Validates the manifest first
    /// (without loading ONNX Runtime) and returns the manifest as written.
    /// </summary>
    public static ModelManifest Save(string directory, ModelManifest manifest, ReadOnlySpan<byte> onnxBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(manifest);
        var onnxInfo = manifest.Onnx ?? new OnnxFileDescriptor();
        var opset = onnxInfo.Opset;
        var producer = onnxInfo.Producer;
        try
        {
            var header = OnnxModelReader.Parse(onnxBytes);
            if (opset == 0)
            {
                opset = (int)header.DefaultOpset;
            }

            if (string.IsNullOrEmpty(producer))
            {
                producer = $"{header.ProducerName} {header.ProducerVersion}".Trim();
            }
        }
        catch (FormatException e)
        {
            throw new ModelPackageException(directory, [new(ModelPackageProblemKind.OnnxLoadFailed, $"the ONNX bytes are not a valid ModelProto: {e.Message}")]);
        }

        var final = manifest with
        {
            Onnx = onnxInfo with
            {
                File = string.IsNullOrEmpty(onnxInfo.File) ? OnnxFileName : onnxInfo.File,
                Sha256 = ComputeSha256(onnxBytes),
                Opset = opset,
                Producer = producer,
            },
        };
        var problems = new List<ModelPackageProblem>();
        ValidateManifest(final, problems);
        if (problems.Count > 0)
        {
            throw new ModelPackageException(directory, problems);
        }

        Directory.CreateDirectory(directory);
        WriteAtomically(Path.Combine(directory, final.Onnx.File), onnxBytes);
        WriteAtomically(Path.Combine(directory, ManifestFileName), SerializeManifest(final));
        return final;
    }

    /// <summary>Lower-case hex SHA-256.</summary>
    public static string ComputeSha256(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static byte[] SerializeManifest(ModelManifest manifest) =>
        JsonSerializer.SerializeToUtf8Bytes(manifest, ModelManifestJsonContext.Default.ModelManifest);

    /// <summary>Parses <c>model.json</c>; throws <see cref="ModelPackageException"/> (<see cref="ModelPackageProblemKind.InvalidJson"/>) on bad JSON.</summary>
    public static ModelManifest ParseManifest(ReadOnlySpan<byte> json)
    {
        var problems = new List<ModelPackageProblem>();
        return TryParseManifest(json, problems) ?? throw new ModelPackageException(ManifestFileName, problems);
    }

    /// <summary>
    /// Every problem of a package's two files that can be found without ONNX Runtime: the manifest, the hash, the opset, the
    /// encoding (supported, and its feature count, names and constants), and the graph's declared inputs and outputs (read
    /// from the protobuf) against the manifest and the scoring contract. Empty when nothing is wrong; what only ONNX Runtime
    /// can tell (operators it does not implement) is left to <see cref="Load(string, IReadOnlyCollection{EncodingId}, OnnxSessionOptions?)"/>.
    /// </summary>
    public static IReadOnlyList<ModelPackageProblem> Check(ReadOnlySpan<byte> manifestJson, ReadOnlySpan<byte> onnxBytes, IReadOnlyCollection<EncodingId> supportedEncodings)
    {
        ArgumentNullException.ThrowIfNull(supportedEncodings);
        var problems = new List<ModelPackageProblem>();
        var manifest = TryParseManifest(manifestJson, problems);
        if (manifest is null)
        {
            return problems;
        }

        ValidateManifest(manifest, problems);
        CheckEncoding(manifest, supportedEncodings, problems);
        var sha = ComputeSha256(onnxBytes);
        if (!string.Equals(manifest.Onnx?.Sha256, sha, StringComparison.OrdinalIgnoreCase))
        {
            problems.Add(new(ModelPackageProblemKind.HashMismatch, $"SHA-256 of the ONNX file is {sha} ({onnxBytes.Length} bytes) but the manifest says {manifest.Onnx?.Sha256}"));
            return problems;
        }

        OnnxGraphInfo graph;
        try
        {
            graph = OnnxGraphInfo.Read(onnxBytes);
        }
        catch (FormatException e)
        {
            problems.Add(new(ModelPackageProblemKind.OnnxLoadFailed, $"the ONNX file is not a valid ModelProto: {e.Message}"));
            return problems;
        }

        if (manifest.Onnx is { Opset: not 0 } declared && graph.DefaultOpset != declared.Opset)
        {
            problems.Add(new(ModelPackageProblemKind.InvalidManifest, $"onnx.opset is {declared.Opset} but the ONNX file imports opset {graph.DefaultOpset}"));
        }

        if (graph.NaNWeight is { } nan)
        {
            problems.Add(new(ModelPackageProblemKind.InvalidOutput, OnnxGraphInfo.NaNWeightProblem(nan)));
        }

        if (graph.ExternalWeight is { } external)
        {
            problems.Add(new(ModelPackageProblemKind.OnnxLoadFailed, OnnxGraphInfo.ExternalWeightProblem(external)));
        }

        CheckTensors(manifest, [.. graph.Inputs.Select(ToInfo)], [.. graph.Outputs.Select(ToInfo)], problems);
        return problems;
    }

    /// <summary>A declared graph tensor as the session would describe it (-1 for dynamic dimensions).</summary>
    public static OnnxTensorInfo ToInfo(OnnxGraphTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return new OnnxTensorInfo(tensor.Name, tensor.ElementType, tensor.Sizes);
    }

    public void Dispose() => Session.Dispose();

    // The encoding must be one the caller implements, and the manifest must describe it as it is implemented.
    private static void CheckEncoding(ModelManifest manifest, IReadOnlyCollection<EncodingId> supportedEncodings, List<ModelPackageProblem> problems)
    {
        var encoding = manifest.Encoding;
        if (encoding is null)
        {
            return;
        }

        if (!supportedEncodings.Contains(encoding.Id))
        {
            problems.Add(new(
                ModelPackageProblemKind.UnsupportedEncoding,
                $"feature encoding {encoding.Id} is not implemented here (supported: {(supportedEncodings.Count == 0 ? "none" : string.Join(", ", supportedEncodings))})"));
            return;
        }

        if (StepEncodings.Find(encoding.Id) is { } implementation)
        {
            foreach (var message in ScoringContract.CheckEncoding(manifest, implementation))
            {
                problems.Add(new(ModelPackageProblemKind.EncodingMismatch, message));
            }
        }
    }

    private static int IndexOfUnwritable(IReadOnlyList<string> names)
    {
        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i];
            if (ClassNameProblem(name) is not null)
            {
                return i;
            }
        }

        return -1;
    }

    private static int IndexOfBlank(IReadOnlyList<string> names)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(names[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static ModelManifest? TryParseManifest(ReadOnlySpan<byte> json, List<ModelPackageProblem> problems)
    {
        // A model.json saved with a UTF-8 byte order mark (Windows PowerShell's Set-Content -Encoding UTF8, some editors)
        // is JSON all the same, and every text reader of it skips the mark; the serializer, reading bytes, refused it
        // ("'0xEF' is an invalid start of a value", exit 3).
        if (json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            json = json[3..];
        }

        try
        {
            var manifest = JsonSerializer.Deserialize(json, ModelManifestJsonContext.Default.ModelManifest);
            if (manifest is null)
            {
                problems.Add(new(ModelPackageProblemKind.InvalidJson, $"{ManifestFileName} holds null, not a manifest object"));
                return null;
            }

            // The serializer fills a JSON null into a property the record declares non-null; every reader of a manifest
            // (the worker, every CLI command) would then fail on it with a NullReferenceException. Such a manifest is
            // refused here, once, naming each null; so is an onnx.file that leaves the package directory.
            var before = problems.Count;
            CheckNulls(json, problems);
            if (DuplicateKey(json, problems) is { } duplicate)
            {
                // The serializer keeps the last of a key given twice: a model.json with `"name": "other"` appended was
                // read (and pushed) as "other" without a word until 2026-12-07.
                problems.Add(new(ModelPackageProblemKind.InvalidJson, $"{ManifestFileName} gives the key '{duplicate}' twice in one object: keep one of them"));
            }

            if (manifest.Onnx?.File is { Length: > 0 } file && !IsPlainFileName(file))
            {
                // Read by every command as directory/onnx.file: "../x.onnx" or "/abs/x.onnx" would load (and hash, and
                // serve) a file from outside the package.
                problems.Add(new(ModelPackageProblemKind.InvalidManifest, $"onnx.file '{file}' must be a file name inside the package directory"));
            }

            return problems.Count == before ? WithDefaults(manifest) : null;
        }
        catch (JsonException e)
        {
            problems.Add(new(ModelPackageProblemKind.InvalidJson, $"{ManifestFileName} is not a valid manifest: {e.Message}"));
            return null;
        }
    }

    // The first key given twice in one object, as its path (training.data.priors), anywhere in the document; null when none is.
    private static string? DuplicateKey(ReadOnlySpan<byte> json, List<ModelPackageProblem> problems)
    {
        using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        try
        {
            return DuplicateKey(document.RootElement, string.Empty);
        }
        catch (InvalidOperationException)
        {
            // A key whose bytes are not UTF-8 (the serializer skips an unknown key unread): JSON is UTF-8 text.
            problems.Add(new(ModelPackageProblemKind.InvalidJson, $"{ManifestFileName} holds a key that is not valid UTF-8"));
            return null;
        }
    }

    private static string? DuplicateKey(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in element.EnumerateObject())
            {
                var at = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                if (!seen.Add(property.Name))
                {
                    return at;
                }

                if (DuplicateKey(property.Value, at) is { } inner)
                {
                    return inner;
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in element.EnumerateArray())
            {
                if (DuplicateKey(item, string.Create(CultureInfo.InvariantCulture, $"{path}[{i++}]")) is { } inner)
                {
                    return inner;
                }
            }
        }

        return null;
    }

    // Explicit JSON nulls where the manifest's records declare non-null values (a section, a list, a name, an entry),
    // each named by its path.
    private static void CheckNulls(ReadOnlySpan<byte> json, List<ModelPackageProblem> problems)
    {
        using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        void Null(string field) => problems.Add(new(ModelPackageProblemKind.InvalidManifest, $"{field} is null in {ManifestFileName}"));

        // The member's value when present and not null; a present null is reported.
        JsonElement? Member(JsonElement parent, string name, string path)
        {
            if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(name, out var value))
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.Null)
            {
                Null(path);
                return null;
            }

            return value;
        }

        void Members(JsonElement? parent, string path, params string[] names)
        {
            foreach (var name in names)
            {
                if (parent is { } p)
                {
                    Member(p, name, $"{path}.{name}");
                }
            }
        }

        // A list's entries (null entries reported); entries that are objects are handed to check.
        void Items(JsonElement? list, string path, Action<JsonElement, string>? check = null)
        {
            if (list is not { ValueKind: JsonValueKind.Array } array)
            {
                return;
            }

            var i = 0;
            foreach (var item in array.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Null)
                {
                    Null($"{path}[{i}]");
                }
                else
                {
                    check?.Invoke(item, $"{path}[{i}]");
                }

                i++;
            }
        }

        Member(root, "name", "name");
        Member(root, "version", "version");
        Items(Member(root, "classes", "classes"), "classes");

        // surveys and metadata may be absent or null (packages that predate them); their entries may not.
        if (root.TryGetProperty("surveys", out var surveys))
        {
            Items(surveys, "surveys");
        }

        if (root.TryGetProperty("metadata", out var metadata))
        {
            Items(metadata, "metadata", (entry, path) =>
            {
                Members(entry, path, "name", "source");
                Items(Member(entry, "features", $"{path}.features"), $"{path}.features");
            });
        }

        if (Member(root, "encoding", "encoding") is { } encoding)
        {
            Members(encoding, "encoding", "name", "bandWavelengthsMicron", "scaling");
            Items(Member(encoding, "stepFeatures", "encoding.stepFeatures"), "encoding.stepFeatures");
            Items(Member(encoding, "metaFeatures", "encoding.metaFeatures"), "encoding.metaFeatures");
        }

        Members(Member(root, "network", "network"), "network", "type");
        if (Member(root, "tensors", "tensors") is { } tensors)
        {
            foreach (var side in new[] { "inputs", "outputs" })
            {
                Items(Member(tensors, side, $"tensors.{side}"), $"tensors.{side}", (spec, path) => Members(spec, path, "name", "elementType", "shape"));
            }
        }

        Members(Member(root, "training", "training"), "training", "metrics");
        Members(Member(root, "onnx", "onnx"), "onnx", "file", "sha256", "producer");
    }

    // Source-generated deserialisation sets an init-only property the JSON leaves out to null, not to the record's
    // default: the optional parts are given their defaults here (onnx.file is documented to default to model.onnx),
    // so that no reader meets a null. A missing required section (encoding, network, tensors, onnx) stays null for
    // ValidateManifest to report as missing.
    private static ModelManifest WithDefaults(ModelManifest m) => m with
    {
        Name = m.Name ?? string.Empty,
        Version = m.Version ?? string.Empty,
        Classes = m.Classes ?? [],
        Encoding = m.Encoding is null ? null! : m.Encoding with
        {
            Name = m.Encoding.Name ?? string.Empty,
            StepFeatures = m.Encoding.StepFeatures ?? [],
            MetaFeatures = m.Encoding.MetaFeatures ?? [],
            BandWavelengthsMicron = m.Encoding.BandWavelengthsMicron ?? new Dictionary<string, double>(),
            Scaling = m.Encoding.Scaling ?? new Dictionary<string, float>(),
        },
        Network = m.Network is null ? null! : m.Network with { Type = m.Network.Type ?? string.Empty },
        Tensors = m.Tensors is null ? null! : m.Tensors with { Inputs = m.Tensors.Inputs ?? [], Outputs = m.Tensors.Outputs ?? [] },
        Training = m.Training is null ? new TrainingSummary() : m.Training with { Metrics = m.Training.Metrics ?? new Dictionary<string, double>() },
        Onnx = m.Onnx is null ? null! : m.Onnx with
        {
            File = m.Onnx.File ?? OnnxFileName,
            Sha256 = m.Onnx.Sha256 ?? string.Empty,
            Producer = m.Onnx.Producer ?? string.Empty,
        },
    };

    private static ModelPackage Validate(
        string source,
        ModelManifest? manifest,
        byte[]? onnx,
        IReadOnlyCollection<EncodingId> supportedEncodings,
        OnnxSessionOptions? sessionOptions,
        List<ModelPackageProblem> problems,
        string? onnxSha256 = null)
    {
        if (manifest is not null)
        {
            ValidateManifest(manifest, problems);
            CheckEncoding(manifest, supportedEncodings, problems);
        }

        string? sha = null;
        OnnxSession? session = null;
        if (onnx is not null && manifest is not null)
        {
            sha = onnxSha256 ?? ComputeSha256(onnx);
            var expected = manifest.Onnx?.Sha256;
            if (string.IsNullOrEmpty(expected))
            {
                problems.Add(new(ModelPackageProblemKind.InvalidManifest, "onnx.sha256 is missing; the ONNX file cannot be verified and is not loaded"));
            }
            else if (!string.Equals(expected, sha, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add(new(
                    ModelPackageProblemKind.HashMismatch,
                    $"SHA-256 of the ONNX file is {sha} ({onnx.Length} bytes) but the manifest says {expected}; the file was modified or truncated and is not loaded"));
            }
            else
            {
                session = TryLoadSession(manifest, onnx, sessionOptions, problems);
            }
        }

        if (session is not null && manifest is not null)
        {
            CheckTensors(manifest, session.Inputs, session.Outputs, problems);
        }

        if (problems.Count > 0 || manifest is null || session is null || sha is null)
        {
            session?.Dispose();
            throw new ModelPackageException(source, problems);
        }

        return new ModelPackage(manifest, session, sha, source);
    }

    private static OnnxSession? TryLoadSession(ModelManifest manifest, byte[] onnx, OnnxSessionOptions? options, List<ModelPackageProblem> problems)
    {
        try
        {
            var header = OnnxModelReader.Parse(onnx);
            if (manifest.Onnx.Opset != 0 && header.DefaultOpset != manifest.Onnx.Opset)
            {
                problems.Add(new(ModelPackageProblemKind.InvalidManifest, $"onnx.opset is {manifest.Onnx.Opset} but the ONNX file imports opset {header.DefaultOpset}"));
            }

            if (OnnxGraphInfo.FindNaN(header) is { } nan)
            {
                problems.Add(new(ModelPackageProblemKind.InvalidOutput, OnnxGraphInfo.NaNWeightProblem(nan)));
            }

            // Not loaded at all: ONNX Runtime would look for the weights relative to the working directory.
            if (OnnxGraphInfo.FindExternal(header) is { } external)
            {
                problems.Add(new(ModelPackageProblemKind.OnnxLoadFailed, OnnxGraphInfo.ExternalWeightProblem(external)));
                return null;
            }
        }
        catch (FormatException e)
        {
            problems.Add(new(ModelPackageProblemKind.OnnxLoadFailed, $"the ONNX file is not a valid ModelProto: {e.Message}"));
            return null;
        }

        try
        {
            return OnnxSession.FromBytes(onnx, options);
        }
        catch (OnnxRuntimeException e) when (e is not OnnxRuntimeNotFoundException && e.ErrorCode != OnnxErrorCode.ExecutionProviderFailure)
        {
            problems.Add(new(ModelPackageProblemKind.OnnxLoadFailed, $"ONNX Runtime could not load the model: {e.Message}"));
            return null;
        }
    }

    // Checks the manifest on its own: required fields, ranges and internal consistency.
    internal static void ValidateManifest(ModelManifest m, List<ModelPackageProblem> problems)
    {
        void Invalid(string message) => problems.Add(new(ModelPackageProblemKind.InvalidManifest, message));

        // Name and version make the reference NAME@VERSION and a registry's paths: a version holding a line break was
        // pushed and could never be promoted (a reference with a control character is refused), a name holding '@' was
        // inspected as sound and refused by push.
        if (!IsModelName(m.Name))
        {
            Invalid($"name '{Shown(m.Name)}' must be {ModelNameRule}");
        }

        if (!IsModelName(m.Version))
        {
            Invalid($"version '{Shown(m.Version)}' must be {ModelNameRule}");
        }

        var classes = m.Classes ?? [];
        if (classes.Count == 0)
        {
            Invalid("classes is empty");
        }
        else if (IndexOfBlank(classes) is >= 0 and var blank)
        {
            // A class without a name cannot be told apart in a classification, a report or a promotion (train refuses one).
            Invalid($"classes[{blank}] is {(classes[blank] is null ? "null" : "empty")}: every class needs a name");
        }
        else if (IndexOfUnwritable(classes) is >= 0 and var odd)
        {
            // Class names are written in NAME=P,… and from,to lists (models priors --priors, --class-map) and in
            // line-oriented output: one holding a separator, a control character or outer spaces could not be named there.
            // A name of a million characters passed until 2026-12-07 (score --jsonl wrote 1 MB an object).
            Invalid($"classes[{odd}] '{ShownShort(classes[odd])}' cannot be a class name: {ClassNameProblem(classes[odd])}");
        }
        else if (new HashSet<string>(classes).Count != classes.Count)
        {
            Invalid("classes contains duplicates");
        }

        var network = m.Network;
        if (network is null)
        {
            Invalid("network is missing");
        }
        else
        {
            if (network.Type != "gru")
            {
                Invalid($"network.type is '{network.Type}'; only 'gru' is served");
            }

            // A model without a recurrent state (no state in/out tensors) has no layers × hidden to store: 0 is allowed there.
            var stateful = m.EffectiveRoles.HasState;
            if (stateful ? network.Layers <= 0 : network.Layers < 0)
            {
                Invalid($"network.layers must be {(stateful ? "positive" : "0 or positive")}, not {network.Layers}");
            }

            if (stateful ? network.Hidden <= 0 : network.Hidden < 0)
            {
                Invalid($"network.hidden must be {(stateful ? "positive" : "0 or positive")}, not {network.Hidden}");
            }

            if (network.InputFeatures <= 0)
            {
                Invalid($"network.inputFeatures must be positive, not {network.InputFeatures}");
            }

            if (network.MetaFeatures < 0)
            {
                Invalid($"network.metaFeatures must be 0 or positive, not {network.MetaFeatures}");
            }

            // The head's widths are informational (0: not described, as for a packaged external graph), but a negative
            // width describes no network: models inspect printed "dense -1" and score served the package.
            foreach (var (field, width) in new[] { ("dense", network.Dense), ("metaDense", network.MetaDense), ("merge", network.Merge), ("latent", network.Latent) })
            {
                if (width < 0)
                {
                    Invalid($"network.{field} must be 0 (not described) or positive, not {width}");
                }
            }

            if (network.Classes != classes.Count)
            {
                Invalid($"network.classes is {network.Classes} but {classes.Count} class names are listed");
            }
        }

        var encoding = m.Encoding;
        if (encoding is null)
        {
            Invalid("encoding is missing");
        }
        else
        {
            if (string.IsNullOrWhiteSpace(encoding.Name))
            {
                Invalid("encoding.name is missing");
            }

            if (encoding.Version <= 0)
            {
                Invalid($"encoding.version must be positive, not {encoding.Version}");
            }

            var step = encoding.StepFeatures ?? [];
            var meta = encoding.MetaFeatures ?? [];
            if (network is not null && step.Count != network.InputFeatures)
            {
                Invalid($"encoding.stepFeatures lists {step.Count} names but network.inputFeatures is {network.InputFeatures}");
            }

            if (network is not null && meta.Count != network.MetaFeatures)
            {
                Invalid($"encoding.metaFeatures lists {meta.Count} names but network.metaFeatures is {network.MetaFeatures}");
            }

            foreach (var (band, micron) in encoding.BandWavelengthsMicron ?? new Dictionary<string, double>())
            {
                if (!(micron > 0) || !double.IsFinite(micron))
                {
                    Invalid($"encoding.bandWavelengthsMicron['{band}'] must be a positive wavelength, not {micron}");
                }
            }

            foreach (var (name, value) in encoding.Scaling ?? new Dictionary<string, float>())
            {
                if (!float.IsFinite(value))
                {
                    Invalid($"encoding.scaling['{name}'] must be finite, not {value}");
                }
            }
        }

        ValidateSurveysAndMetadata(m, Invalid);

        var tensors = m.Tensors;
        if (tensors is null || tensors.Inputs is null || tensors.Outputs is null || tensors.Inputs.Count == 0 || tensors.Outputs.Count == 0)
        {
            Invalid("tensors.inputs and tensors.outputs must list the graph's tensors");
        }
        else
        {
            foreach (var spec in tensors.Inputs.Concat(tensors.Outputs))
            {
                if (spec is null || string.IsNullOrEmpty(spec.Name))
                {
                    Invalid("a tensor entry has no name");
                    continue;
                }

                if (!OnnxElementTypeNames.TryParse(spec.ElementType, out _))
                {
                    Invalid($"tensor '{spec.Name}' has unknown elementType '{spec.ElementType}'");
                }

                if (spec.Shape is null)
                {
                    Invalid($"tensor '{spec.Name}' has no shape");
                }
            }
        }

        var onnx = m.Onnx;
        if (onnx is null)
        {
            Invalid("onnx is missing");
        }
        else
        {
            if (string.IsNullOrEmpty(onnx.Sha256) || onnx.Sha256.Length != 64 || !onnx.Sha256.All(char.IsAsciiHexDigit))
            {
                Invalid($"onnx.sha256 '{onnx.Sha256}' must be 64 hex digits");
            }

            if (!string.IsNullOrEmpty(onnx.File) && !IsPlainFileName(onnx.File))
            {
                Invalid($"onnx.file '{onnx.File}' must be a file name inside the package directory");
            }
        }
    }

    // surveys: absent (→ ["ztf"]) or a non-empty list of unique lower-case names. metadata: absent (→ inferred from
    // encoding.metaFeatures) or entries that together name every metadata feature exactly once. requiresMetadata:
    // absent or equal to "metadata lists anything".
    private static void ValidateSurveysAndMetadata(ModelManifest m, Action<string> invalid)
    {
        if (m.Surveys is { } surveys)
        {
            if (surveys.Count == 0)
            {
                invalid("surveys is empty; list the surveys the model is meant for (e.g. [\"ztf\"]) or leave the field out");
            }

            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var survey in surveys)
            {
                if (string.IsNullOrEmpty(survey) || !survey.All(ch => char.IsAsciiLetterLower(ch) || char.IsAsciiDigit(ch) || ch == '-'))
                {
                    invalid($"surveys entry '{survey}' must be a lower-case name such as 'ztf' or 'lsst'");
                }
                else if (!seen.Add(survey))
                {
                    invalid($"surveys lists '{survey}' twice");
                }
            }
        }

        var metaFeatures = m.Encoding?.MetaFeatures ?? [];
        if (m.Metadata is { } metadata)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            var filled = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in metadata)
            {
                if (entry is null || string.IsNullOrWhiteSpace(entry.Name))
                {
                    invalid("a metadata entry has no name");
                    continue;
                }

                if (!names.Add(entry.Name))
                {
                    invalid($"metadata lists '{entry.Name}' twice");
                }

                if (string.IsNullOrWhiteSpace(entry.Source))
                {
                    invalid($"metadata '{entry.Name}' does not say what supplies it (source)");
                }
                else if (!MetadataSources.IsName(entry.Source))
                {
                    // Matched exactly to what operators declare (models metadata set --source), which must be such a name.
                    var shown = string.Concat(entry.Source.Select(c => char.IsControl(c) ? '?' : c));
                    invalid($"metadata '{entry.Name}' source '{shown}' is not a source name: up to {MetadataSources.MaxNameLength} lower-case letters, digits, '-', '_' or '.', starting with a letter or digit (e.g. {MetadataSources.HostRedshift})");
                }

                var features = entry.Features ?? [];
                if (features.Count == 0 && !entry.TimeDilation)
                {
                    invalid($"metadata '{entry.Name}' fills no metadata feature and does not dilate time: it is not used");
                }

                foreach (var f in features)
                {
                    if (!metaFeatures.Contains(f))
                    {
                        invalid($"metadata '{entry.Name}' fills '{f}', which encoding.metaFeatures does not list");
                    }
                    else if (filled.TryGetValue(f, out var other))
                    {
                        invalid($"metadata feature '{f}' is filled by both '{other}' and '{entry.Name}'");
                    }
                    else
                    {
                        filled[f] = entry.Name;
                    }
                }
            }

            foreach (var f in metaFeatures)
            {
                if (f is not null && !filled.ContainsKey(f))
                {
                    invalid($"encoding.metaFeatures lists '{f}' but no metadata entry says what supplies it");
                }
            }
        }

        // false with metadata listed: the metadata is optional (the model is scored with "unknown" where no source supplies it).
        if (m.RequiresMetadata is true && m.EffectiveMetadata.Count == 0)
        {
            invalid("requiresMetadata is true but metadata lists nothing the model needs");
        }
    }

    // Checks the graph's real tensors against the manifest and against the scoring contract.
    private static void CheckTensors(ModelManifest m, IReadOnlyList<OnnxTensorInfo> inputs, IReadOnlyList<OnnxTensorInfo> outputs, List<ModelPackageProblem> problems)
    {
        void Mismatch(string message) => problems.Add(new(ModelPackageProblemKind.TensorMismatch, message));

        CompareWithManifest(m.Tensors?.Inputs ?? [], inputs, "input", Mismatch);
        CompareWithManifest(m.Tensors?.Outputs ?? [], outputs, "output", Mismatch);

        var network = m.Network;
        if (network is null)
        {
            return;
        }

        var roles = m.EffectiveRoles;
        var classes = m.Classes?.Count ?? 0;
        foreach (var message in ScoringContract.Check(
                     roles,
                     inputs,
                     outputs,
                     network.InputFeatures,
                     network.MetaFeatures,
                     roles.HasState ? network.Layers : null,
                     roles.HasState ? network.Hidden : null,
                     classes))
        {
            Mismatch(message);
        }
    }

    private static void CompareWithManifest(IReadOnlyList<TensorSpec> specs, IReadOnlyList<OnnxTensorInfo> actual, string kind, Action<string> mismatch)
    {
        foreach (var spec in specs)
        {
            if (spec?.Name is null)
            {
                continue;
            }

            var info = Find(actual, spec.Name);
            if (info is null)
            {
                mismatch($"model.json lists {kind} '{spec.Name}' but the ONNX graph has no such {kind} (it has: {string.Join(", ", actual.Select(a => a.Name))})");
                continue;
            }

            if (OnnxElementTypeNames.TryParse(spec.ElementType, out var type) && type != info.ElementType)
            {
                mismatch($"{kind} '{spec.Name}' is {OnnxElementTypeNames.ToName(info.ElementType)} in the ONNX graph but {spec.ElementType} in model.json");
            }

            if (spec.Shape is not null && !SameShape(spec.Shape, info.Shape))
            {
                mismatch($"{kind} '{spec.Name}' has shape [{string.Join(", ", info.Shape)}] in the ONNX graph but [{string.Join(", ", spec.Shape)}] in model.json");
            }
        }

        foreach (var info in actual)
        {
            if (!specs.Any(s => s?.Name == info.Name))
            {
                mismatch($"the ONNX graph has {kind} '{info.Name}' that model.json does not list");
            }
        }
    }

    private static OnnxTensorInfo? Find(IReadOnlyList<OnnxTensorInfo> infos, string name)
    {
        foreach (var info in infos)
        {
            if (info.Name == name)
            {
                return info;
            }
        }

        return null;
    }

    private static bool SameShape(IReadOnlyList<long> manifest, IReadOnlyList<long> actual)
    {
        if (manifest.Count != actual.Count)
        {
            return false;
        }

        for (var d = 0; d < manifest.Count; d++)
        {
            var a = actual[d] < 0 ? -1 : actual[d];
            var b = manifest[d] < 0 ? -1 : manifest[d];
            if (a != b)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsPathSegment(string? value) =>
        !string.IsNullOrWhiteSpace(value) && value != "." && value != ".." && value.IndexOfAny(['/', '\\', '\0']) < 0;

    private static bool IsPlainFileName(string value) => IsPathSegment(value);

    /// <summary>
    /// The longest model name or version, in UTF-8 bytes. Both are path segments of a directory registry
    /// (<c>NAME/VERSION</c>), and its shadow statistics file holds two references, <c>NAME@VERSION~NAME@VERSION.json</c>,
    /// plus a temporary suffix (<c>.tmp-PID</c>), in one file name of at most 255 bytes: 2 × (50 + 1 + 50) + 20 fits.
    /// Without a bound a 300-character name was packaged and inspected as sound and refused only by <c>models push</c>
    /// ("The path … is too long").
    /// </summary>
    public const int MaxModelNameBytes = 50;

    /// <summary>What a model's name or version must be, as the messages that refuse one say it.</summary>
    public const string ModelNameRule = "a non-empty path segment (no '/', '\\', '..'), without '@', control characters or white space at either end, " + ModelNameLengthRule;

    /// <summary>The length part of <see cref="ModelNameRule"/>.</summary>
    public const string ModelNameLengthRule = "at most 50 bytes in UTF-8 (50 ASCII characters)";

    /// <summary>Whether <paramref name="value"/> can be a model's name or version (see <see cref="ValidateManifest"/> and <see cref="ModelNameRule"/>).</summary>
    public static bool IsModelName(string? value) =>
        IsPathSegment(value) && !value!.Contains('@', StringComparison.Ordinal) && !value.Any(char.IsControl) && value.Trim().Length == value.Length
        && System.Text.Encoding.UTF8.GetByteCount(value) <= MaxModelNameBytes;

    /// <summary>The longest class name, in UTF-8 bytes (the longest shipped is 6).</summary>
    public const int MaxClassNameBytes = 64;

    /// <summary>
    /// Why <paramref name="name"/> cannot be a class name (a rule to quote after "cannot be a class name: "), or null when it
    /// can: not blank, no ',' or '=' (names are written in NAME=P,… lists), no control character or space at either end, at
    /// most <see cref="MaxClassNameBytes"/> bytes in UTF-8.
    /// </summary>
    public static string? ClassNameProblem(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "every class needs a name"
        : name.AsSpan().IndexOfAny(',', '=') >= 0 || name.Any(char.IsControl) || char.IsWhiteSpace(name[0]) || char.IsWhiteSpace(name[^1])
            ? "no ',' or '=', control character or space at either end"
        : System.Text.Encoding.UTF8.GetByteCount(name) > MaxClassNameBytes
            ? string.Create(CultureInfo.InvariantCulture, $"at most {MaxClassNameBytes} bytes in UTF-8, not {System.Text.Encoding.UTF8.GetByteCount(name)}")
        : null;

    /// <summary><see cref="Shown"/>, its first 40 characters and a count when it is longer (a name of a million characters).</summary>
    public static string ShownShort(string? value) =>
        value is { Length: > 40 } ? string.Create(CultureInfo.InvariantCulture, $"{Shown(value[..40])}… ({value.Length} characters)") : Shown(value);

    private static string Shown(string? value) => value is null ? string.Empty : string.Concat(value.Select(c => char.IsControl(c) ? '?' : c));

    private static void WriteAtomically(string path, ReadOnlySpan<byte> data)
    {
        var temp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllBytes(temp, data.ToArray());
        File.Move(temp, path, overwrite: true);
    }
}
