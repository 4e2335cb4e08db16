using System.Globalization;
using System.Runtime.InteropServices;
using Ort = Microsoft.ML.OnnxRuntime;

namespace AlertBroker.Model.Onnx;

/// <summary>
/// An ONNX Runtime inference session (the package's <c>InferenceSession</c>) with the model's inputs and outputs described
/// in the project's own types. <see cref="Run"/> may be called from many threads at once; for repeated calls with the same
/// buffers, a per-thread <see cref="OnnxBinding"/> (<see cref="CreateBinding"/>) allocates nothing. Disposing while a call
/// is in flight defers the native release until it returns; later calls throw <see cref="ObjectDisposedException"/>.
/// </summary>
public sealed class OnnxSession : IDisposable
{
    private readonly SessionHandle _handle;
    private readonly OnnxTensorInfo[] _inputs;
    private readonly OnnxTensorInfo[] _outputs;

    private OnnxSession(Ort.InferenceSession session, OnnxSessionOptions options)
    {
        Options = options;
        _inputs = ReadInfos(session.InputNames, session.InputMetadata);
        _outputs = ReadInfos(session.OutputNames, session.OutputMetadata);
        _handle = new SessionHandle(session, new Ort.RunOptions { LogSeverityLevel = Ort.OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL });
    }

    public OnnxSessionOptions Options { get; }

    /// <summary>The model's inputs, in the order <see cref="Run"/> takes them.</summary>
    public IReadOnlyList<OnnxTensorInfo> Inputs => _inputs;

    /// <summary>The model's outputs, in the order <see cref="Run"/> takes them.</summary>
    public IReadOnlyList<OnnxTensorInfo> Outputs => _outputs;

    /// <summary>The execution provider the session was created for: <c>CPU</c> or <c>CUDA</c>.</summary>
    public string ExecutionProvider => Options.UseCuda ? "CUDA" : "CPU";

    /// <summary>Where the session runs, for logs: <c>CPU</c> or <c>CUDA device N</c>.</summary>
    public string Device => Options.UseCuda ? string.Create(CultureInfo.InvariantCulture, $"CUDA device {Options.CudaDeviceId}") : "CPU";

    public static OnnxSession FromFile(string path, OnnxSessionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        return Create(options ?? OnnxSessionOptions.Default, o => new Ort.InferenceSession(full, o));
    }

    public static OnnxSession FromBytes(byte[] model, OnnxSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Create(options ?? OnnxSessionOptions.Default, o => new Ort.InferenceSession(model, o));
    }

    public static OnnxSession FromBytes(ReadOnlySpan<byte> model, OnnxSessionOptions? options = null) => FromBytes(model.ToArray(), options);

    public int GetInputIndex(string name) => IndexOf(_inputs, name);

    public int GetOutputIndex(string name) => IndexOf(_outputs, name);

    /// <summary>
    /// Runs the model once. <paramref name="inputs"/> and <paramref name="outputs"/> follow <see cref="Inputs"/> and
    /// <see cref="Outputs"/> in order and count; outputs must be shaped exactly as the model produces them, and are written
    /// in place. Thread-safe; each call binds its tensors afresh (a few hundred bytes of wrappers): for a hot loop use
    /// <see cref="CreateBinding"/>.
    /// </summary>
    public void Run(ReadOnlySpan<OnnxTensor> inputs, ReadOnlySpan<OnnxTensor> outputs)
    {
        using var binding = CreateBinding();
        binding.Run(inputs, outputs);
    }

    /// <summary>
    /// A reusable binding of this session's inputs and outputs to caller buffers, for one thread at a time: a call whose
    /// buffers and shapes equal the previous call's reuses its native tensors and allocates nothing.
    /// </summary>
    public OnnxBinding CreateBinding()
    {
        var added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            return new OnnxBinding(this, _handle.Session.CreateIoBinding(), rebindInputsEveryCall: Options.UseCuda);
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Runs the model once on inputs given by name (float32 <c>float[]</c>, int32 <c>int[]</c> or int64 <c>long[]</c> with
    /// their shapes) and returns every output as ONNX Runtime allocated it (shape and values as doubles). For checks such as
    /// <c>models verify</c>, where output shapes are not known in advance; the scoring path uses <see cref="CreateBinding"/>.
    /// </summary>
    public IReadOnlyList<OnnxOutputValue> Evaluate(IReadOnlyList<OnnxInputValue> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var values = new List<Ort.OrtValue>(inputs.Count);
        var added = false;
        try
        {
            foreach (var input in inputs)
            {
                values.Add(input.Data switch
                {
                    float[] f => Ort.OrtValue.CreateTensorValueFromMemory(f, input.Shape),
                    int[] i => Ort.OrtValue.CreateTensorValueFromMemory(i, input.Shape),
                    long[] l => Ort.OrtValue.CreateTensorValueFromMemory(l, input.Shape),
                    _ => throw new ArgumentException($"input '{input.Name}': only float[], int[] and long[] data can be fed", nameof(inputs)),
                });
            }

            var session = Enter(ref added);
            var outputNames = _outputs.Select(o => o.Name).ToArray();
            using var results = session.Run(RunOptions, [.. inputs.Select(i => i.Name)], values, outputNames);
            var list = new List<OnnxOutputValue>(outputNames.Length);
            var k = 0;
            foreach (var result in results)
            {
                var info = result.GetTensorTypeAndShape();
                var type = (OnnxElementType)(int)info.ElementDataType;
                double[] data = type switch
                {
                    OnnxElementType.Float => Array.ConvertAll(result.GetTensorDataAsSpan<float>().ToArray(), v => (double)v),
                    OnnxElementType.Double => result.GetTensorDataAsSpan<double>().ToArray(),
                    OnnxElementType.Int32 => Array.ConvertAll(result.GetTensorDataAsSpan<int>().ToArray(), v => (double)v),
                    OnnxElementType.Int64 => Array.ConvertAll(result.GetTensorDataAsSpan<long>().ToArray(), v => (double)v),
                    _ => [],
                };
                list.Add(new OnnxOutputValue(outputNames[k++], type, info.Shape, data));
            }

            return list;
        }
        catch (Ort.OnnxRuntimeException e)
        {
            throw OnnxErrors.Wrap(e);
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }

            if (added)
            {
                Exit();
            }
        }
    }

    public void Dispose() => _handle.Dispose();

    // Takes a reference on the native session for the length of one call; throws ObjectDisposedException after Dispose.
    internal Ort.InferenceSession Enter(ref bool added)
    {
        _handle.DangerousAddRef(ref added);
        return _handle.Session;
    }

    internal void Exit() => _handle.DangerousRelease();

    internal Ort.RunOptions RunOptions => _handle.RunOptions;

    internal void Validate(ReadOnlySpan<OnnxTensor> inputs, ReadOnlySpan<OnnxTensor> outputs)
    {
        Validate(inputs, _inputs, "input");
        Validate(outputs, _outputs, "output");
    }

    private static OnnxSession Create(OnnxSessionOptions options, Func<Ort.SessionOptions, Ort.InferenceSession> create)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(options.IntraOpThreads);
        ArgumentOutOfRangeException.ThrowIfNegative(options.InterOpThreads);
        ArgumentOutOfRangeException.ThrowIfNegative(options.CudaDeviceId);
        OnnxRuntime.EnsureInitialized();
        using var sessionOptions = new Ort.SessionOptions
        {
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = options.InterOpThreads,
            GraphOptimizationLevel = options.OptimizationLevel switch
            {
                OnnxGraphOptimizationLevel.DisableAll => Ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
                OnnxGraphOptimizationLevel.Basic => Ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                OnnxGraphOptimizationLevel.Extended => Ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => Ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
            },
            LogSeverityLevel = Ort.OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
        };
        if (options.UseCuda)
        {
            AppendCuda(sessionOptions, options.CudaDeviceId);
        }

        Ort.InferenceSession session;
        try
        {
            session = create(sessionOptions);
        }
        catch (Ort.OnnxRuntimeException e)
        {
            throw OnnxErrors.Wrap(e, options.UseCuda ? $"creating a session on CUDA device {options.CudaDeviceId}" : null);
        }

        try
        {
            return new OnnxSession(session, options);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Enables the CUDA execution provider or throws: never a silent CPU fallback. The provider list the runtime reports
    /// is not consulted (the GPU build lists CUDA on a host without CUDA); appending the provider is the real test.
    /// </summary>
    private static void AppendCuda(Ort.SessionOptions options, int deviceId)
    {
        var runtime = $"ONNX Runtime {OnnxRuntime.Version} ({OnnxRuntime.PackageName})";
        if (!OnnxRuntime.IsGpuBuild)
        {
            throw new OnnxRuntimeException(
                OnnxErrorCode.ExecutionProviderFailure,
                $"CUDA was requested but this program carries the CPU-only {runtime}; build it with -p:OnnxRuntimeFlavour=Gpu "
                + "(CUDA 13 and cuDNN 9 on the host) or run on the CPU. AlertBroker does not fall back to CPU.");
        }

        try
        {
            // TF32 off (the provider's default is on): matrix products in full float32, as on the CPU, so that a GPU worker
            // gives the probabilities a CPU worker gives for the same alert (with TF32 they differed by up to 3.5e-4).
            using var cuda = new Ort.OrtCUDAProviderOptions();
            cuda.UpdateOptions(new Dictionary<string, string>
            {
                ["device_id"] = deviceId.ToString(CultureInfo.InvariantCulture),
                ["use_tf32"] = "0",
            });
            options.AppendExecutionProvider_CUDA(cuda);
        }
        catch (Exception e) when (e is Ort.OnnxRuntimeException or EntryPointNotFoundException)
        {
            var native = e is Ort.OnnxRuntimeException ort ? OnnxErrors.Wrap(ort).NativeMessage : OnnxErrors.OneLine(e.Message);
            throw new OnnxRuntimeException(
                OnnxErrorCode.ExecutionProviderFailure,
                $"CUDA was requested (device {deviceId}) but the CUDA execution provider of {runtime} could not be enabled: {native}{DescribeCudaProviderLoad()}. "
                + "It needs CUDA 13 (libcudart.so.13, libcublas.so.13, libcublasLt.so.13, libcurand.so.10), cuDNN 9 and the NVIDIA driver (libcuda.so.1) on the host. "
                + "AlertBroker does not fall back to CPU.",
                e);
        }
    }

    // The runtime only says "failed to load shared library"; the system loader names the missing dependency.
    private static string DescribeCudaProviderLoad()
    {
        var folder = Path.GetDirectoryName(OnnxRuntime.LibraryLocation) ?? AppContext.BaseDirectory;
        var provider = Path.Combine(folder, "libonnxruntime_providers_cuda.so");
        if (!File.Exists(provider))
        {
            return $" ({provider} is missing)";
        }

        try
        {
            NativeLibrary.Free(NativeLibrary.Load(provider));
            return string.Empty;
        }
        catch (DllNotFoundException e)
        {
            // .NET's message wraps the system loader's with advice (strace, LD_DEBUG); keep the part that names the library.
            var missing = System.Text.RegularExpressions.Regex.Match(e.Message, @"([^\s:]+\.so[^\s:]*): cannot open shared object file");
            return missing.Success
                ? $" ({missing.Groups[1].Value}, needed by {Path.GetFileName(provider)}, cannot be found)"
                : " (" + OnnxErrors.OneLine(e.Message) + ")";
        }
    }

    private static OnnxTensorInfo[] ReadInfos(IReadOnlyList<string> names, IReadOnlyDictionary<string, Ort.NodeMetadata> metadata)
    {
        var infos = new OnnxTensorInfo[names.Count];
        for (var i = 0; i < infos.Length; i++)
        {
            var meta = metadata[names[i]];
            var type = meta.IsTensor ? (OnnxElementType)(int)meta.ElementDataType : OnnxElementType.Undefined;
            var shape = meta.IsTensor ? Array.ConvertAll(meta.Dimensions, d => d < 0 ? -1L : d) : [];
            infos[i] = new OnnxTensorInfo(names[i], type, shape);
        }

        return infos;
    }

    private static int IndexOf(OnnxTensorInfo[] infos, string name)
    {
        for (var i = 0; i < infos.Length; i++)
        {
            if (infos[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }

    private static void Validate(ReadOnlySpan<OnnxTensor> tensors, OnnxTensorInfo[] infos, string kind)
    {
        if (tensors.Length != infos.Length)
        {
            throw new ArgumentException($"The model has {infos.Length} {kind}s but {tensors.Length} were given.", kind + "s");
        }

        for (var i = 0; i < tensors.Length; i++)
        {
            ref readonly var tensor = ref tensors[i];
            var info = infos[i];
            if (tensor.ElementType != info.ElementType)
            {
                throw new ArgumentException($"{kind} '{info.Name}' is {OnnxElementTypeNames.ToName(info.ElementType)} but a {OnnxElementTypeNames.ToName(tensor.ElementType)} tensor was given.", kind + "s");
            }

            if (tensor.Rank != info.Shape.Count)
            {
                throw new ArgumentException($"{kind} '{info.Name}' has rank {info.Shape.Count} but a rank-{tensor.Rank} tensor was given.", kind + "s");
            }

            for (var d = 0; d < tensor.Rank; d++)
            {
                var expected = info.Shape[d];
                if (expected >= 0 && expected != tensor.GetDimension(d))
                {
                    throw new ArgumentException($"{kind} '{info.Name}' needs dimension {d} = {expected} but {tensor.GetDimension(d)} was given.", kind + "s");
                }
            }
        }
    }

    // Reference-counts the managed session so that Dispose during a call defers the native release until the call returns.
    private sealed class SessionHandle : SafeHandle
    {
        public SessionHandle(Ort.InferenceSession session, Ort.RunOptions runOptions)
            : base(IntPtr.Zero, ownsHandle: true)
        {
            Session = session;
            RunOptions = runOptions;
            SetHandle(1);
        }

        public Ort.InferenceSession Session { get; }

        public Ort.RunOptions RunOptions { get; }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            RunOptions.Dispose();
            Session.Dispose();
            NativeHeap.Trim();
            return true;
        }
    }
}
