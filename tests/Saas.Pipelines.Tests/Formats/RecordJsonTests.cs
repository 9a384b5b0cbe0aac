using System.Text;
using System.Text.Json;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Records;
using Record = Saas.Pipelines.Records.Record;

namespace Saas.Pipelines.Tests.Formats;

public sealed class RecordJsonTests
{
    [Fact]
    public void Nested_records_and_lists_round_trip_with_numbers_as_doubles()
    {
        var record = new Record
        {
            ["name"] = "Zoë <b>&</b> \"q\"",
            ["count"] = 3.0,
            ["ratio"] = 0.1,
            ["active"] = true,
            ["missing"] = null,
            ["address"] = new Record { ["city"] = "Oslo", ["zip"] = 150.0 },
            ["tags"] = new List<object?> { "a", 2.5, false, null, new Record { ["x"] = "y" }, new List<object?> { 1.0 } },
        };

        var utf8 = RecordJson.ToUtf8(record);
        var back = RecordJson.Parse(utf8);

        Assert.Equal("""{"name":"Zoë <b>&</b> \"q\"","count":3,"ratio":0.1,"active":true,"missing":null,"address":{"city":"Oslo","zip":150},"tags":["a",2.5,false,null,{"x":"y"},[1]]}""",
            Encoding.UTF8.GetString(utf8));
        Assert.Equal(record.Keys, back.Keys);
        Assert.Equal(3.0, back["count"]);
        Assert.Equal("Oslo", ((Record)back["address"]!)["city"]);
        var tags = (List<object?>)back["tags"]!;
        Assert.Equal(2.5, tags[1]);
        Assert.Equal("y", ((Record)tags[4]!)["x"]);
        Assert.Equal(1.0, ((List<object?>)tags[5]!)[0]);
    }

    [Fact]
    public void Non_finite_numbers_are_written_as_null()
    {
        var record = new Record { ["nan"] = double.NaN, ["inf"] = double.PositiveInfinity };

        Assert.Equal("""{"nan":null,"inf":null}""", Encoding.UTF8.GetString(RecordJson.ToUtf8(record)));
    }

    [Fact]
    public void Common_clr_values_from_steps_are_written_as_json()
    {
        var record = new Record { ["int"] = 42, ["long"] = 7L, ["decimal"] = 1.25m, ["dict"] = new Dictionary<string, object?> { ["k"] = "v" } };

        Assert.Equal("""{"int":42,"long":7,"decimal":1.25,"dict":{"k":"v"}}""", Encoding.UTF8.GetString(RecordJson.ToUtf8(record)));
    }

    [Fact]
    public void Values_that_have_no_json_form_are_a_record_error()
    {
        var record = new Record { ["when"] = new object() };

        var error = Assert.Throws<RecordException>(() => RecordJson.ToUtf8(record));
        Assert.Contains("'when'", error.Message);
    }

    [Fact]
    public void Read_consumes_exactly_the_object_the_reader_is_on()
    {
        var reader = new Utf8JsonReader("""[{"a":{"b":[1,{"c":2}]}},{"d":3}]"""u8);
        reader.Read();
        reader.Read();

        var first = RecordJson.Read(ref reader);
        reader.Read();
        var second = RecordJson.Read(ref reader);

        Assert.Equal(JsonTokenType.EndObject, reader.TokenType);
        Assert.Single(first);
        Assert.Equal(3.0, second["d"]);
    }

    [Fact]
    public void Parse_rejects_text_that_is_not_one_object()
    {
        Assert.Equal(1, Assert.Throws<MalformedInputException>(() => RecordJson.Parse("[1]"u8)).Column);
        Assert.Equal(9, Assert.Throws<MalformedInputException>(() => RecordJson.Parse("""{"a":1} 2"""u8)).Column);
        Assert.Throws<MalformedInputException>(() => RecordJson.Parse("""{"a":"""u8));
    }

    [Fact]
    public void Escaped_property_names_are_unescaped()
    {
        var record = RecordJson.Parse("""{"a\u0062":1,"\"q\"":2}"""u8);

        Assert.Equal(["ab", "\"q\""], record.Keys);
    }
}
