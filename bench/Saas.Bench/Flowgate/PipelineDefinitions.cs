using System.Globalization;

namespace Saas.Bench.Flowgate;

/// <summary>The pipelines under test, and the record sent to the three-step one.</summary>
public static class PipelineDefinitions
{
    public const string ThreeStep = """
        {"name":"three","trigger":{"type":"http"},"steps":[
          {"id":"total","type":"map","fields":{"total":"record.qty * record.price"}},
          {"id":"big","type":"filter","where":"record.total > 10"},
          {"id":"shape","type":"select","fields":["id","total"]}],
         "sink":{"type":"blob","format":"jsonl"}}
        """;

    /// <summary>Passes the filter (3 × 4.5 = 13.5 &gt; 10), so each run has one record out.</summary>
    public const string SmallRecord = """{"id":1,"qty":3,"price":4.5}""";

    public static string CsvOrders(double threshold, int chunkSize) => $$$"""
        {"name":"csv-orders","trigger":{"type":"upload","format":"csv"},"settings":{"chunkSize":{{{chunkSize}}}},"steps":[
          {"id":"total","type":"map","fields":{"total":"Number(record.qty) * Number(record.price)","country":"record.country.toUpperCase()"}},
          {"id":"big","type":"filter","where":"record.total > {{{threshold.ToString(CultureInfo.InvariantCulture)}}}"}],
         "sink":{"type":"blob","format":"jsonl"}}
        """;
}
