using System.Runtime.InteropServices;

namespace AlertBroker.Model.Onnx.Native;

// The subset of ONNX Runtime's struct OrtApi function-pointer table that AlertBroker uses.
// Each pointer is read by its index in the table; the table is append-only across releases, so an index
// taken from any header version at or after the one that introduced the function stays valid.
internal sealed unsafe class OrtApi
{
    // The API version we ask GetApi for. Every function used here exists in version 13 or earlier, and a library
    // answers any version up to its own (1.30 answers 30), so asking for a low version keeps older libraries usable.
    internal const uint RequestedApiVersion = 13;

    // Indices into struct OrtApi (include/onnxruntime/core/session/onnxruntime_c_api.h).
    private const int IndexGetErrorCode = 1;
    private const int IndexGetErrorMessage = 2;
    private const int IndexCreateEnv = 3;
    private const int IndexCreateSession = 7;
    private const int IndexCreateSessionFromArray = 8;
    private const int IndexRun = 9;
    private const int IndexCreateSessionOptions = 10;
    private const int IndexSetSessionGraphOptimizationLevel = 23;
    private const int IndexSetIntraOpNumThreads = 24;
    private const int IndexSetInterOpNumThreads = 25;
    private const int IndexSessionGetInputCount = 30;
    private const int IndexSessionGetOutputCount = 31;
    private const int IndexSessionGetInputTypeInfo = 33;
    private const int IndexSessionGetOutputTypeInfo = 34;
    private const int IndexSessionGetInputName = 36;
    private const int IndexSessionGetOutputName = 37;
    private const int IndexCreateTensorWithDataAsOrtValue = 49;
    private const int IndexGetTensorMutableData = 51;
    private const int IndexCastTypeInfoToTensorInfo = 55;
    private const int IndexGetOnnxTypeFromTypeInfo = 56;
    private const int IndexGetTensorElementType = 60;
    private const int IndexGetDimensionsCount = 61;
    private const int IndexGetDimensions = 62;
    private const int IndexCreateCpuMemoryInfo = 69;
    private const int IndexAllocatorFree = 76;
    private const int IndexGetAllocatorWithDefaultOptions = 78;
    private const int IndexReleaseEnv = 92;
    private const int IndexReleaseStatus = 93;
    private const int IndexReleaseMemoryInfo = 94;
    private const int IndexReleaseSession = 95;
    private const int IndexReleaseValue = 96;
    private const int IndexReleaseTypeInfo = 98;
    private const int IndexReleaseSessionOptions = 100;
    private const int IndexGetAvailableProviders = 125;
    private const int IndexReleaseAvailableProviders = 126;
    private const int IndexSessionOptionsAppendExecutionProviderCuda = 152;

    // ONNXType.ONNX_TYPE_TENSOR
    private const int OnnxTypeTensor = 1;

    private readonly delegate* unmanaged[Cdecl]<nint, int> _getErrorCode;
    private readonly delegate* unmanaged[Cdecl]<nint, byte*> _getErrorMessage;
    private readonly delegate* unmanaged[Cdecl]<int, byte*, nint*, nint> _createEnv;
    private readonly delegate* unmanaged[Cdecl]<nint, byte*, nint, nint*, nint> _createSession;
    private readonly delegate* unmanaged[Cdecl]<nint, void*, nuint, nint, nint*, nint> _createSessionFromArray;
    private readonly delegate* unmanaged[Cdecl]<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint> _run;
    private readonly delegate* unmanaged[Cdecl]<nint*, nint> _createSessionOptions;
    private readonly delegate* unmanaged[Cdecl]<nint, int, nint> _setGraphOptimizationLevel;
    private readonly delegate* unmanaged[Cdecl]<nint, int, nint> _setIntraOpNumThreads;
    private readonly delegate* unmanaged[Cdecl]<nint, int, nint> _setInterOpNumThreads;
    private readonly delegate* unmanaged[Cdecl]<nint, nuint*, nint> _sessionGetInputCount;
    private readonly delegate* unmanaged[Cdecl]<nint, nuint*, nint> _sessionGetOutputCount;
    private readonly delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint> _sessionGetInputTypeInfo;
    private readonly delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint> _sessionGetOutputTypeInfo;
    private readonly delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint> _sessionGetInputName;
    private readonly delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint> _sessionGetOutputName;
    private readonly delegate* unmanaged[Cdecl]<nint, void*, nuint, long*, nuint, int, nint*, nint> _createTensorWithData;
    private readonly delegate* unmanaged[Cdecl]<nint, void**, nint> _getTensorMutableData;
    private readonly delegate* unmanaged[Cdecl]<nint, nint*, nint> _castTypeInfoToTensorInfo;
    private readonly delegate* unmanaged[Cdecl]<nint, int*, nint> _getOnnxTypeFromTypeInfo;
    private readonly delegate* unmanaged[Cdecl]<nint, int*, nint> _getTensorElementType;
    private readonly delegate* unmanaged[Cdecl]<nint, nuint*, nint> _getDimensionsCount;
    private readonly delegate* unmanaged[Cdecl]<nint, long*, nuint, nint> _getDimensions;
    private readonly delegate* unmanaged[Cdecl]<int, int, nint*, nint> _createCpuMemoryInfo;
    private readonly delegate* unmanaged[Cdecl]<nint, void*, nint> _allocatorFree;
    private readonly delegate* unmanaged[Cdecl]<nint*, nint> _getAllocatorWithDefaultOptions;
    private readonly delegate* unmanaged[Cdecl]<nint, void> _releaseEnv;
    private readonly delegate* unmanaged[Cdecl]<nint, void> _releaseStatus;
    private readonly delegate* unmanaged[Cdecl]<nint, void> _releaseMemoryInfo;
    private readonly delegate* unmanaged[Cdecl]<nint, void> _releaseSession;
    private readonly delegate* unmanaged[Cdecl]<nint, void> _releaseValue;
    private readonly delegate* unmanaged[Cdecl]<nint, void> _releaseTypeInfo;
    private readonly delegate* unmanaged[Cdecl]<nint, void> _releaseSessionOptions;
    private readonly delegate* unmanaged[Cdecl]<byte***, int*, nint> _getAvailableProviders;
    private readonly delegate* unmanaged[Cdecl]<byte**, int, nint> _releaseAvailableProviders;
    private readonly delegate* unmanaged[Cdecl]<nint, OrtCudaProviderOptions*, nint> _appendCuda;

    internal OrtApi(nint table)
    {
        var t = (void**)table;
        _getErrorCode = (delegate* unmanaged[Cdecl]<nint, int>)t[IndexGetErrorCode];
        _getErrorMessage = (delegate* unmanaged[Cdecl]<nint, byte*>)t[IndexGetErrorMessage];
        _createEnv = (delegate* unmanaged[Cdecl]<int, byte*, nint*, nint>)t[IndexCreateEnv];
        _createSession = (delegate* unmanaged[Cdecl]<nint, byte*, nint, nint*, nint>)t[IndexCreateSession];
        _createSessionFromArray = (delegate* unmanaged[Cdecl]<nint, void*, nuint, nint, nint*, nint>)t[IndexCreateSessionFromArray];
        _run = (delegate* unmanaged[Cdecl]<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint>)t[IndexRun];
        _createSessionOptions = (delegate* unmanaged[Cdecl]<nint*, nint>)t[IndexCreateSessionOptions];
        _setGraphOptimizationLevel = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[IndexSetSessionGraphOptimizationLevel];
        _setIntraOpNumThreads = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[IndexSetIntraOpNumThreads];
        _setInterOpNumThreads = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[IndexSetInterOpNumThreads];
        _sessionGetInputCount = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)t[IndexSessionGetInputCount];
        _sessionGetOutputCount = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)t[IndexSessionGetOutputCount];
        _sessionGetInputTypeInfo = (delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint>)t[IndexSessionGetInputTypeInfo];
        _sessionGetOutputTypeInfo = (delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint>)t[IndexSessionGetOutputTypeInfo];
        _sessionGetInputName = (delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint>)t[IndexSessionGetInputName];
        _sessionGetOutputName = (delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint>)t[IndexSessionGetOutputName];
        _createTensorWithData = (delegate* unmanaged[Cdecl]<nint, void*, nuint, long*, nuint, int, nint*, nint>)t[IndexCreateTensorWithDataAsOrtValue];
        _getTensorMutableData = (delegate* unmanaged[Cdecl]<nint, void**, nint>)t[IndexGetTensorMutableData];
        _castTypeInfoToTensorInfo = (delegate* unmanaged[Cdecl]<nint, nint*, nint>)t[IndexCastTypeInfoToTensorInfo];
        _getOnnxTypeFromTypeInfo = (delegate* unmanaged[Cdecl]<nint, int*, nint>)t[IndexGetOnnxTypeFromTypeInfo];
        _getTensorElementType = (delegate* unmanaged[Cdecl]<nint, int*, nint>)t[IndexGetTensorElementType];
        _getDimensionsCount = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)t[IndexGetDimensionsCount];
        _getDimensions = (delegate* unmanaged[Cdecl]<nint, long*, nuint, nint>)t[IndexGetDimensions];
        _createCpuMemoryInfo = (delegate* unmanaged[Cdecl]<int, int, nint*, nint>)t[IndexCreateCpuMemoryInfo];
        _allocatorFree = (delegate* unmanaged[Cdecl]<nint, void*, nint>)t[IndexAllocatorFree];
        _getAllocatorWithDefaultOptions = (delegate* unmanaged[Cdecl]<nint*, nint>)t[IndexGetAllocatorWithDefaultOptions];
        _releaseEnv = (delegate* unmanaged[Cdecl]<nint, void>)t[IndexReleaseEnv];
        _releaseStatus = (delegate* unmanaged[Cdecl]<nint, void>)t[IndexReleaseStatus];
        _releaseMemoryInfo = (delegate* unmanaged[Cdecl]<nint, void>)t[IndexReleaseMemoryInfo];
        _releaseSession = (delegate* unmanaged[Cdecl]<nint, void>)t[IndexReleaseSession];
        _releaseValue = (delegate* unmanaged[Cdecl]<nint, void>)t[IndexReleaseValue];
        _releaseTypeInfo = (delegate* unmanaged[Cdecl]<nint, void>)t[IndexReleaseTypeInfo];
        _releaseSessionOptions = (delegate* unmanaged[Cdecl]<nint, void>)t[IndexReleaseSessionOptions];
        _getAvailableProviders = (delegate* unmanaged[Cdecl]<byte***, int*, nint>)t[IndexGetAvailableProviders];
        _releaseAvailableProviders = (delegate* unmanaged[Cdecl]<byte**, int, nint>)t[IndexReleaseAvailableProviders];
        _appendCuda = (delegate* unmanaged[Cdecl]<nint, OrtCudaProviderOptions*, nint>)t[IndexSessionOptionsAppendExecutionProviderCuda];
    }

    // Turns a non-null OrtStatus into an exception carrying ONNX Runtime's code and message; always releases it.
    internal void Check(nint status, string? context = null)
    {
        if (status == 0)
        {
            return;
        }

        Throw(status, context);
    }

    private void Throw(nint status, string? context)
    {
        var code = (OnnxErrorCode)_getErrorCode(status);
        var message = Marshal.PtrToStringUTF8((nint)_getErrorMessage(status)) ?? string.Empty;
        _releaseStatus(status);
        throw new OnnxRuntimeException(code, context is null ? message : $"{context}: {message}");
    }

    internal nint CreateEnv(int logLevel, string logId)
    {
        var utf8 = Utf8Z(logId);
        nint env;
        fixed (byte* id = utf8)
        {
            Check(_createEnv(logLevel, id, &env), "CreateEnv");
        }

        return env;
    }

    internal nint CreateSessionOptions()
    {
        nint options;
        Check(_createSessionOptions(&options), "CreateSessionOptions");
        return options;
    }

    internal void SetGraphOptimizationLevel(nint options, int level) =>
        Check(_setGraphOptimizationLevel(options, level), "SetSessionGraphOptimizationLevel");

    internal void SetIntraOpNumThreads(nint options, int threads) =>
        Check(_setIntraOpNumThreads(options, threads), "SetIntraOpNumThreads");

    internal void SetInterOpNumThreads(nint options, int threads) =>
        Check(_setInterOpNumThreads(options, threads), "SetInterOpNumThreads");

    internal void AppendCudaExecutionProvider(nint options, int deviceId)
    {
        var cuda = OrtCudaProviderOptions.CreateDefault(deviceId);
        Check(_appendCuda(options, &cuda), "SessionOptionsAppendExecutionProvider_CUDA");
    }

    internal nint CreateSession(nint env, string path, nint options)
    {
        var utf8 = Utf8Z(path);
        nint session;
        fixed (byte* p = utf8)
        {
            Check(_createSession(env, p, options, &session));
        }

        return session;
    }

    internal nint CreateSessionFromArray(nint env, ReadOnlySpan<byte> model, nint options)
    {
        nint session;
        fixed (byte* p = model)
        {
            Check(_createSessionFromArray(env, p, (nuint)model.Length, options, &session));
        }

        return session;
    }

    internal int GetInputCount(nint session)
    {
        nuint count;
        Check(_sessionGetInputCount(session, &count), "SessionGetInputCount");
        return checked((int)count);
    }

    internal int GetOutputCount(nint session)
    {
        nuint count;
        Check(_sessionGetOutputCount(session, &count), "SessionGetOutputCount");
        return checked((int)count);
    }

    internal string GetName(nint session, int index, bool input)
    {
        nint allocator;
        Check(_getAllocatorWithDefaultOptions(&allocator), "GetAllocatorWithDefaultOptions");
        byte* name;
        Check(input
            ? _sessionGetInputName(session, (nuint)index, allocator, &name)
            : _sessionGetOutputName(session, (nuint)index, allocator, &name), input ? "SessionGetInputName" : "SessionGetOutputName");
        try
        {
            return Marshal.PtrToStringUTF8((nint)name) ?? string.Empty;
        }
        finally
        {
            Check(_allocatorFree(allocator, name), "AllocatorFree");
        }
    }

    // Element type and shape of one session input or output; a non-tensor yields Undefined.
    internal (OnnxElementType ElementType, long[] Shape) GetTypeAndShape(nint session, int index, bool input)
    {
        nint typeInfo;
        Check(input
            ? _sessionGetInputTypeInfo(session, (nuint)index, &typeInfo)
            : _sessionGetOutputTypeInfo(session, (nuint)index, &typeInfo), input ? "SessionGetInputTypeInfo" : "SessionGetOutputTypeInfo");
        try
        {
            int onnxType;
            Check(_getOnnxTypeFromTypeInfo(typeInfo, &onnxType), "GetOnnxTypeFromTypeInfo");
            if (onnxType != OnnxTypeTensor)
            {
                return (OnnxElementType.Undefined, []);
            }

            // The tensor info belongs to the type info; it must not be released separately.
            nint tensorInfo;
            Check(_castTypeInfoToTensorInfo(typeInfo, &tensorInfo), "CastTypeInfoToTensorInfo");
            int elementType;
            Check(_getTensorElementType(tensorInfo, &elementType), "GetTensorElementType");
            nuint rank;
            Check(_getDimensionsCount(tensorInfo, &rank), "GetDimensionsCount");
            var shape = new long[(int)rank];
            fixed (long* dims = shape)
            {
                Check(_getDimensions(tensorInfo, dims, rank), "GetDimensions");
            }

            return ((OnnxElementType)elementType, shape);
        }
        finally
        {
            _releaseTypeInfo(typeInfo);
        }
    }

    internal nint CreateCpuMemoryInfo()
    {
        // OrtDeviceAllocator (0) and OrtMemTypeDefault (0): plain CPU memory owned by the caller.
        nint info;
        Check(_createCpuMemoryInfo(0, 0, &info), "CreateCpuMemoryInfo");
        return info;
    }

    // Wraps caller memory as a tensor without copying; the memory must stay pinned until the value is released.
    internal nint CreateTensor(nint memoryInfo, void* data, nuint byteLength, long* shape, int rank, OnnxElementType type)
    {
        nint value;
        Check(_createTensorWithData(memoryInfo, data, byteLength, shape, (nuint)rank, (int)type, &value), "CreateTensorWithDataAsOrtValue");
        return value;
    }

    internal void* GetTensorMutableData(nint value)
    {
        void* data;
        Check(_getTensorMutableData(value, &data), "GetTensorMutableData");
        return data;
    }

    internal void Run(nint session, byte** inputNames, nint* inputs, int inputCount, byte** outputNames, int outputCount, nint* outputs) =>
        Check(_run(session, 0, inputNames, inputs, (nuint)inputCount, outputNames, (nuint)outputCount, outputs));

    internal string[] GetAvailableProviders()
    {
        byte** names;
        int count;
        Check(_getAvailableProviders(&names, &count), "GetAvailableProviders");
        try
        {
            var result = new string[count];
            for (var i = 0; i < count; i++)
            {
                result[i] = Marshal.PtrToStringUTF8((nint)names[i]) ?? string.Empty;
            }

            return result;
        }
        finally
        {
            Check(_releaseAvailableProviders(names, count), "ReleaseAvailableProviders");
        }
    }

    internal void ReleaseEnv(nint handle) => _releaseEnv(handle);

    internal void ReleaseSessionOptions(nint handle) => _releaseSessionOptions(handle);

    internal void ReleaseSession(nint handle) => _releaseSession(handle);

    internal void ReleaseMemoryInfo(nint handle) => _releaseMemoryInfo(handle);

    internal void ReleaseValue(nint handle) => _releaseValue(handle);

    private static byte[] Utf8Z(string value)
    {
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(value) + 1];
        System.Text.Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }
}
