namespace AlertBroker.Model.Onnx;

/// <summary>ONNX Runtime's graph optimisation levels (<c>GraphOptimizationLevel</c>).</summary>
public enum OnnxGraphOptimizationLevel
{
    DisableAll = 0,
    Basic = 1,
    Extended = 2,
    All = 99,
}

/// <summary>How an <see cref="OnnxSession"/> is created.</summary>
public sealed record OnnxSessionOptions
{
    /// <summary>Threads inside one operator; 1 (the default) keeps a session on the calling thread, 0 lets the runtime choose.</summary>
    public int IntraOpThreads { get; init; } = 1;

    /// <summary>Threads across independent operators; 1 by default, 0 lets the runtime choose.</summary>
    public int InterOpThreads { get; init; } = 1;

    public OnnxGraphOptimizationLevel OptimizationLevel { get; init; } = OnnxGraphOptimizationLevel.All;

    /// <summary>
    /// Run on the CUDA execution provider. Needs the GPU build (<c>-p:OnnxRuntimeFlavour=Gpu</c>) and CUDA 13 with cuDNN 9 on
    /// the host; otherwise creating the session throws <see cref="OnnxRuntimeException"/> with
    /// <see cref="OnnxErrorCode.ExecutionProviderFailure"/>. It never falls back to CPU.
    /// </summary>
    public bool UseCuda { get; init; }

    public int CudaDeviceId { get; init; }

    public static OnnxSessionOptions Default { get; } = new();
}
