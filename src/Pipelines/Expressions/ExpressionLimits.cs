namespace Saas.Pipelines.Expressions;

/// <summary>What one evaluation of an expression may spend before it is stopped.</summary>
public sealed record ExpressionLimits(TimeSpan Timeout, long MemoryBytes, int RecursionDepth)
{
    public static ExpressionLimits Default { get; } = new(TimeSpan.FromMilliseconds(100), 4_000_000, 64);

    internal int MaxStringLength => (int)Math.Min(int.MaxValue / 2, Math.Max(1, MemoryBytes / sizeof(char)));

    internal uint MaxArrayLength => (uint)Math.Clamp(MemoryBytes / 16, 1_000, uint.MaxValue - 1);

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Timeout, TimeSpan.Zero, nameof(Timeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MemoryBytes, 0, nameof(MemoryBytes));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RecursionDepth, 0, nameof(RecursionDepth));
    }
}
