using System.Buffers;
using Apache.Arrow.Memory;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// Arrow buffers on the managed heap. Symbol entries live long and are dropped by eviction, not
/// disposed: managed arrays need no finalizer and show up in GC.GetTotalMemory, so the cache's
/// accounting can be checked against the heap (the default allocator uses native memory).
/// </summary>
internal sealed class ManagedAllocator : MemoryAllocator
{
    public static readonly ManagedAllocator Instance = new();

    private ManagedAllocator()
        : base(8)
    {
    }

    protected override IMemoryOwner<byte> AllocateInternal(int length, out int bytesAllocated)
    {
        bytesAllocated = length;
        return new Owner(new byte[length]);
    }

    private sealed class Owner(byte[] array) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory => array;

        public void Dispose()
        {
        }
    }
}
