using Saas.Pipelines.Ai;

namespace Saas.Pipelines.Tests.Ai;

public sealed class LocalEmbeddingsTests
{
    private static readonly LocalEmbeddings Model = new();

    private static double Cosine(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();

    [Fact]
    public async Task The_built_in_model_embeds_offline_into_unit_vectors_where_similar_texts_are_closer()
    {
        var vectors = await Model.EmbedAsync(["The cat sits on the mat.", "A kitten is resting on a rug.", "Quarterly revenue grew by 12 percent."], CancellationToken.None);

        Assert.All(vectors, v => Assert.Equal(LocalEmbeddings.Dimensions, v.Length));
        Assert.All(vectors, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 3));
        Assert.True(Cosine(vectors[0], vectors[1]) > Cosine(vectors[0], vectors[2]) + 0.2);
    }

    [Fact]
    public async Task Batches_larger_than_one_encoder_call_keep_their_order()
    {
        var texts = Enumerable.Range(0, 70).Select(i => $"sentence number {i}").ToArray();

        var all = await Model.EmbedAsync(texts, CancellationToken.None);
        var one = await Model.EmbedAsync([texts[65]], CancellationToken.None);

        Assert.Equal(70, all.Length);
        Assert.Equal(1.0, Cosine(all[65], one[0]), 4);
    }
}
