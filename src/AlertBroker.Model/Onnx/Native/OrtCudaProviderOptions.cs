using System.Runtime.InteropServices;

namespace AlertBroker.Model.Onnx.Native;

// Layout of the C struct OrtCUDAProviderOptions. Newer releases append fields to it, so the struct
// carries zeroed reserve space: a library that reads a field we do not know sees zero, its documented default.
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct OrtCudaProviderOptions
{
    public int DeviceId;
    public int CudnnConvAlgoSearch;
    public nuint GpuMemLimit;
    public int ArenaExtendStrategy;
    public int DoCopyInDefaultStream;
    public int HasUserComputeStream;
    public nint UserComputeStream;
    public nint DefaultMemoryArenaCfg;
    public int TunableOpEnable;
    public int TunableOpTuningEnable;
    public int TunableOpMaxTuningDurationMs;
    public fixed byte Reserved[128];

    internal static OrtCudaProviderOptions CreateDefault(int deviceId) => new()
    {
        DeviceId = deviceId,
        // OrtCudnnConvAlgoSearchExhaustive, the C++ constructor's default.
        CudnnConvAlgoSearch = 0,
        GpuMemLimit = nuint.MaxValue,
        DoCopyInDefaultStream = 1,
    };
}
