using Saas.Pipelines.Expressions;
using Record = Saas.Pipelines.Records.Record;

namespace Saas.Pipelines.Tests.Expressions;

public sealed class ConcurrencyTests
{
    [Theory]
    [InlineData("record.qty * record.price + ':' + record.name.toUpperCase()")]
    [InlineData("[record.qty * record.price, record.name.toUpperCase()].join(':')")]
    public void Evaluate_from_several_threads_gives_each_record_its_own_result(string source)
    {
        var compiled = Outcome.Compile(source);
        // Every fifth name has an ß, which the compiled tier hands to the interpreter: both tiers run concurrently.
        var records = Enumerable.Range(0, 4000)
            .Select(i => new Record { ["qty"] = (double)i, ["price"] = i % 2 == 0 ? 0.5 : "2", ["name"] = (i % 5 == 0 ? "straße" : "name") + i })
            .ToArray();
        var expected = records.Select(r => $"{(double)r["qty"]! * (r["price"] is double d ? d : 2)}:{((string)r["name"]!).ToUpperInvariant().Replace("ß", "SS", StringComparison.Ordinal)}").ToArray();
        var results = new object?[records.Length];

        Parallel.For(0, records.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => results[i] = compiled.Evaluate(records[i]));

        Assert.Equal(expected, results);
    }

    [Fact]
    public void Filters_from_several_threads_agree_with_a_single_thread()
    {
        var compiled = Outcome.Compile("Number(record.amount) > 100 && record.status !== 'void'");
        var interpreted = Outcome.Compile("(() => Number(record.amount) > 100 && record.status !== 'void')()");
        var records = Enumerable.Range(0, 3000)
            .Select(i => new Record { ["amount"] = (i * 7 % 300).ToString(System.Globalization.CultureInfo.InvariantCulture), ["status"] = i % 3 == 0 ? "void" : "ok" })
            .ToArray();
        var expected = records.Select(r => double.Parse((string)r["amount"]!, System.Globalization.CultureInfo.InvariantCulture) > 100 && (string)r["status"]! != "void").ToArray();
        var compiledResults = new bool[records.Length];
        var interpretedResults = new bool[records.Length];

        Parallel.For(0, records.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            compiledResults[i] = compiled.IsTrue(records[i]);
            interpretedResults[i] = interpreted.IsTrue(records[i]);
        });

        Assert.Equal(expected, compiledResults);
        Assert.Equal(expected, interpretedResults);
    }
}
