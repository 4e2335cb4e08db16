using System.Buffers;
using System.Runtime.CompilerServices;
using AlertBroker.Model.Onnx.Native;

namespace AlertBroker.Model.Onnx;

/// <summary>
/// An ONNX Runtime inference session. <see cref="Run"/> may be called from many threads at once (ONNX Runtime's
/// <c>Run</c> is thread-safe for one session); disposing while a call is in flight defers the native release until it returns.
/// </summary>
public sealed unsafe class OnnxSession : IDisposable
{
    private const int StackTensorLimit = 8;

    private readonly OrtSessionHandle _handle;
    private readonly OnnxTensorInfo[] _inputs;
    private readonly OnnxTensorInfo[] _outputs;

    // UTF-8, NUL-terminated names and the pointer arrays ONNX Runtime's Run wants, pinned for the session's lifetime
    // so that a call marshals nothing.
    private readonly byte[] _nameBytes;
    private readonly nint[] _namePointers;

    private OnnxSession(OrtSessionHandle handle, OnnxSessionOptions options)
    {
        _handle = handle;
        Options = options;
        var api = OnnxRuntime.Api;
        var session = handle.DangerousGetHandle();
        _inputs = ReadInfos(api, session, input: true);
        _outputs = ReadInfos(api, session, input: false);

        var total = 0;
        foreach (var info in _inputs)
        {
            total += System.Text.Encoding.UTF8.GetByteCount(info.Name) + 1;
        }

        foreach (var info in _outputs)
        {
            total += System.Text.Encoding.UTF8.GetByteCount(info.Name) + 1;
        }

        _nameBytes = GC.AllocateArray<byte>(total, pinned: true);
        _namePointers = GC.AllocateArray<nint>(_inputs.Length + _outputs.Length, pinned: true);
        var offset = 0;
        var index = 0;
        foreach (var info in _inputs.Concat(_outputs))
        {
            _namePointers[index++] = (nint)Unsafe.AsPointer(ref _nameBytes[offset]);
            offset += System.Text.Encoding.UTF8.GetBytes(info.Name, _nameBytes.AsSpan(offset)) + 1;
        }
    }

    public OnnxSessionOptions Options { get; }

    /// <summary>The model's inputs, in the order <see cref="Run"/> takes them.</summary>
    public IReadOnlyList<OnnxTensorInfo> Inputs => _inputs;

    /// <summary>The model's outputs, in the order <see cref="Run"/> takes them.</summary>
    public IReadOnlyList<OnnxTensorInfo> Outputs => _outputs;

    public static OnnxSession FromFile(string path, OnnxSessionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= OnnxSessionOptions.Default;
        return Create(options, (api, env, opts) => api.CreateSession(env, Path.GetFullPath(path), opts));
    }

    public static OnnxSession FromBytes(ReadOnlySpan<byte> model, OnnxSessionOptions? options = null)
    {
        options ??= OnnxSessionOptions.Default;
        fixed (byte* p = model)
        {
            var pointer = (nint)p;
            var length = model.Length;
            return Create(options, (api, env, opts) => api.CreateSessionFromArray(env, new ReadOnlySpan<byte>((void*)pointer, length), opts));
        }
    }

    public int GetInputIndex(string name) => IndexOf(_inputs, name);

    public int GetOutputIndex(string name) => IndexOf(_outputs, name);

    /// <summary>
    /// Runs the model. <paramref name="inputs"/> and <paramref name="outputs"/> follow <see cref="Inputs"/> and
    /// <see cref="Outputs"/> in order and count; outputs must be shaped exactly as the model produces them.
    /// </summary>
    public void Run(ReadOnlySpan<OnnxTensor> inputs, ReadOnlySpan<OnnxTensor> outputs)
    {
        Validate(inputs, _inputs, "input");
        Validate(outputs, _outputs, "output");

        var api = OnnxRuntime.Api;
        var memoryInfo = OnnxRuntime.CpuMemoryInfo.DangerousGetHandle();
        var total = inputs.Length + outputs.Length;

        var stackPins = default(PinBuffer);
        MemoryHandle[]? rentedPins = null;
        var pins = total <= StackTensorLimit ? stackPins[..total] : (rentedPins = ArrayPool<MemoryHandle>.Shared.Rent(total)).AsSpan(0, total);
        var values = stackalloc nint[total];
        new Span<nint>(values, total).Clear();
        var shape = stackalloc long[OnnxTensor.MaxRank];
        var addedRef = false;
        try
        {
            _handle.DangerousAddRef(ref addedRef);
            for (var i = 0; i < total; i++)
            {
                ref readonly var tensor = ref i < inputs.Length ? ref inputs[i] : ref outputs[i - inputs.Length];
                pins[i] = tensor.Pin(out var bytes);
                tensor.CopyShape(new Span<long>(shape, OnnxTensor.MaxRank));
                values[i] = api.CreateTensor(memoryInfo, pins[i].Pointer, bytes, shape, tensor.Rank, tensor.ElementType);
            }

            fixed (nint* names = _namePointers)
            {
                api.Run(_handle.DangerousGetHandle(), (byte**)names, values, inputs.Length, (byte**)(names + _inputs.Length), outputs.Length, values + inputs.Length);
            }
        }
        finally
        {
            for (var i = 0; i < total; i++)
            {
                if (values[i] != 0)
                {
                    api.ReleaseValue(values[i]);
                }

                pins[i].Dispose();
            }

            if (rentedPins is not null)
            {
                ArrayPool<MemoryHandle>.Shared.Return(rentedPins, clearArray: true);
            }

            if (addedRef)
            {
                _handle.DangerousRelease();
            }
        }
    }

    public void Dispose() => _handle.Dispose();

    private static OnnxSession Create(OnnxSessionOptions options, Func<OrtApi, nint, nint, nint> create)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(options.IntraOpThreads);
        ArgumentOutOfRangeException.ThrowIfNegative(options.InterOpThreads);
        var api = OnnxRuntime.Api;
        using var sessionOptions = new OrtSessionOptionsHandle(api.CreateSessionOptions());
        var opts = sessionOptions.DangerousGetHandle();
        api.SetIntraOpNumThreads(opts, options.IntraOpThreads);
        api.SetInterOpNumThreads(opts, options.InterOpThreads);
        api.SetGraphOptimizationLevel(opts, (int)options.OptimizationLevel);
        if (options.UseCuda)
        {
            AppendCuda(api, opts, options.CudaDeviceId);
        }

        var handle = new OrtSessionHandle(create(api, OnnxRuntime.Env.DangerousGetHandle(), opts));
        try
        {
            return new OnnxSession(handle, options);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static void AppendCuda(OrtApi api, nint options, int deviceId)
    {
        var providers = api.GetAvailableProviders();
        var where = $"ONNX Runtime {OnnxRuntime.Version} at {OnnxRuntime.LibraryLocation}";
        if (Array.IndexOf(providers, "CUDAExecutionProvider") < 0)
        {
            throw new OnnxRuntimeException(
                OnnxErrorCode.ExecutionProviderFailure,
                $"CUDA was requested (UseCuda) but {where} is built without the CUDA execution provider (it offers: {string.Join(", ", providers)}). " +
                "Use a GPU build of ONNX Runtime or turn UseCuda off; AlertBroker does not fall back to CPU.");
        }

        try
        {
            api.AppendCudaExecutionProvider(options, deviceId);
        }
        catch (OnnxRuntimeException e)
        {
            throw new OnnxRuntimeException(
                e.ErrorCode,
                $"CUDA was requested (UseCuda, device {deviceId}) but the CUDA execution provider of {where} could not be enabled: {e.NativeMessage}. " +
                "AlertBroker does not fall back to CPU.");
        }
    }

    private static OnnxTensorInfo[] ReadInfos(OrtApi api, nint session, bool input)
    {
        var count = input ? api.GetInputCount(session) : api.GetOutputCount(session);
        var infos = new OnnxTensorInfo[count];
        for (var i = 0; i < count; i++)
        {
            var name = api.GetName(session, i, input);
            var (type, shape) = api.GetTypeAndShape(session, i, input);
            infos[i] = new OnnxTensorInfo(name, type, shape);
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

    [InlineArray(StackTensorLimit)]
    private struct PinBuffer
    {
        private MemoryHandle _element0;
    }
}
