using System.Buffers;
using System.Runtime.CompilerServices;
using Ort = Microsoft.ML.OnnxRuntime;

namespace AlertBroker.Model.Onnx;

/// <summary>
/// A session's inputs and outputs bound to caller buffers (ONNX Runtime's IOBinding), kept between calls. Each
/// <see cref="Run"/> pins the buffers for the call and compares each tensor's address, element type and shape with the
/// previous call's: unchanged tensors reuse their native <c>OrtValue</c>, so a steady loop over the same buffers allocates
/// nothing; a changed one gets a new <c>OrtValue</c> (about 150 B of wrappers each). Buffers allocated on the pinned
/// object heap (<c>GC.AllocateArray(…, pinned: true)</c>) never move, so only a shape change rebinds.
/// Use from one thread at a time (concurrent use throws); create one per thread or per pooled buffer set.
/// </summary>
/// <remarks>
/// On the CPU the bound tensors alias the caller's memory. With CUDA, ONNX Runtime copies an input to the device when it
/// is bound, so inputs are rebound on every call (a few dozen bytes each) to send the current contents.
/// </remarks>
public sealed class OnnxBinding : IDisposable
{
    private const int StackTensorLimit = 8;

    private readonly OnnxSession _session;
    private readonly Ort.OrtIoBinding _binding;
    private readonly bool _rebindInputsEveryCall;
    private readonly Slot[] _slots;
    private readonly int _inputCount;
    private int _busy;
    private bool _disposed;

    internal OnnxBinding(OnnxSession session, Ort.OrtIoBinding binding, bool rebindInputsEveryCall)
    {
        _session = session;
        _binding = binding;
        _rebindInputsEveryCall = rebindInputsEveryCall;
        _inputCount = session.Inputs.Count;
        _slots = new Slot[session.Inputs.Count + session.Outputs.Count];
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new Slot(i < _inputCount ? session.Inputs[i].Name : session.Outputs[i - _inputCount].Name);
        }
    }

    /// <summary>The session this binding runs.</summary>
    public OnnxSession Session => _session;

    /// <summary>
    /// Runs the model with these tensors, as <see cref="OnnxSession.Run"/> does: same order, count and shape rules, outputs
    /// written in place.
    /// </summary>
    public void Run(ReadOnlySpan<OnnxTensor> inputs, ReadOnlySpan<OnnxTensor> outputs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _session.Validate(inputs, outputs);
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException("An OnnxBinding runs one call at a time; create one binding per thread.");
        }

        var total = _slots.Length;
        var stackPins = default(PinBuffer);
        MemoryHandle[]? rentedPins = null;
        var pins = total <= StackTensorLimit ? stackPins[..total] : (rentedPins = ArrayPool<MemoryHandle>.Shared.Rent(total)).AsSpan(0, total);
        var added = false;
        try
        {
            var session = _session.Enter(ref added);
            Span<long> shape = stackalloc long[OnnxTensor.MaxRank];
            for (var i = 0; i < total; i++)
            {
                var input = i < _inputCount;
                ref readonly var tensor = ref input ? ref inputs[i] : ref outputs[i - _inputCount];
                pins[i] = tensor.Pin(out var bytes);
                tensor.CopyShape(shape);
                var slot = _slots[i];
                nint pointer;
                unsafe
                {
                    pointer = (nint)pins[i].Pointer;
                }

                slot.Update(tensor.ElementType, pointer, bytes, shape[..tensor.Rank]);
                if (slot.NeedsBind || (input && _rebindInputsEveryCall))
                {
                    if (input)
                    {
                        _binding.BindInput(slot.Name, slot.Value!);
                    }
                    else
                    {
                        _binding.BindOutput(slot.Name, slot.Value!);
                    }

                    slot.NeedsBind = false;
                }
            }

            session.RunWithBinding(_session.RunOptions, _binding);
        }
        catch (Ort.OnnxRuntimeException e)
        {
            throw OnnxErrors.Wrap(e);
        }
        finally
        {
            for (var i = 0; i < total; i++)
            {
                pins[i].Dispose();
            }

            if (rentedPins is not null)
            {
                ArrayPool<MemoryHandle>.Shared.Return(rentedPins, clearArray: true);
            }

            if (added)
            {
                _session.Exit();
            }

            Volatile.Write(ref _busy, 0);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _binding.Dispose();
        foreach (var slot in _slots)
        {
            slot.Dispose();
        }
    }

    // One bound tensor: the native value over the caller's memory and what it was made from.
    private sealed class Slot(string name) : IDisposable
    {
        private long[] _shape = [];
        private nint _pointer;
        private nuint _bytes;
        private OnnxElementType _type;

        public string Name { get; } = name;

        public Ort.OrtValue? Value { get; private set; }

        /// <summary>True while <see cref="Value"/> is not (yet) the value bound in the IOBinding.</summary>
        public bool NeedsBind { get; set; }

        /// <summary>Makes <see cref="Value"/> describe this memory and shape, replacing it (and marking it for binding) when any differs.</summary>
        public void Update(OnnxElementType type, nint pointer, nuint bytes, ReadOnlySpan<long> shape)
        {
            if (Value is not null && pointer == _pointer && bytes == _bytes && type == _type && shape.SequenceEqual(_shape))
            {
                return;
            }

            // The runtime copies the shape, so one array per rank is reused.
            if (_shape.Length != shape.Length)
            {
                _shape = new long[shape.Length];
            }

            shape.CopyTo(_shape);
            NeedsBind = true;
            Value?.Dispose();
            Value = null;
            Value = Ort.OrtValue.CreateTensorValueWithData(
                Ort.OrtMemoryInfo.DefaultInstance,
                (Ort.Tensors.TensorElementType)(int)type,
                _shape,
                pointer,
                checked((long)bytes));
            _pointer = pointer;
            _bytes = bytes;
            _type = type;
        }

        public void Dispose()
        {
            Value?.Dispose();
            Value = null;
        }
    }

    [InlineArray(StackTensorLimit)]
    private struct PinBuffer
    {
        private MemoryHandle _element0;
    }
}
