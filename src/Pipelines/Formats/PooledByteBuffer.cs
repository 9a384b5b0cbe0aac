using System.Buffers;

namespace Saas.Pipelines.Formats;

/// <summary>A growable byte buffer rented from <see cref="ArrayPool{T}.Shared"/>.</summary>
internal sealed class PooledByteBuffer(int initialCapacity) : IBufferWriter<byte>, IDisposable
{
    private byte[] array = ArrayPool<byte>.Shared.Rent(initialCapacity);
    private int count;

    public int Count => count;

    public ReadOnlySpan<byte> WrittenSpan => array.AsSpan(0, count);

    public ReadOnlyMemory<byte> WrittenMemory => array.AsMemory(0, count);

    public void Advance(int bytes) => count += bytes;

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return array.AsSpan(count);
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return array.AsMemory(count);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(array.AsSpan(count));
        count += bytes.Length;
    }

    public void Write(byte value)
    {
        if (count == array.Length)
        {
            Ensure(1);
        }
        array[count++] = value;
    }

    public void Clear() => count = 0;

    public void Truncate(int length) => count = length;

    public void Dispose()
    {
        var rented = array;
        array = [];
        count = 0;
        if (rented.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void Ensure(int sizeHint)
    {
        sizeHint = Math.Max(sizeHint, 1);
        if (array.Length - count >= sizeHint)
        {
            return;
        }
        var grown = ArrayPool<byte>.Shared.Rent(Math.Max(array.Length * 2, count + sizeHint));
        array.AsSpan(0, count).CopyTo(grown);
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
        array = grown;
    }
}
