namespace Saas.Pipelines.Formats;

public sealed record SplitResult(int Chunks, long Records);
