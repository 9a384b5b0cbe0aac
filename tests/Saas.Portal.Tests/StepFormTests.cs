using Saas.Web.Components.Pipelines;

namespace Saas.Portal.Tests;

public sealed class StepFormTests : PortalContext
{
    private const string Empty = """{"name":"orders","trigger":{"type":"upload","format":"csv"},"steps":[],"sink":{"type":"blob","format":"jsonl"}}""";

    private const string ThreeSteps = """
        {"name":"orders","trigger":{"type":"upload","format":"csv"},"steps":[
          {"id":"total","type":"map","fields":{"total":"Number(record.qty) * Number(record.price)"}},
          {"id":"big","type":"filter","where":"record.total >= 100"},
          {"id":"shape","type":"select","fields":["order","total"]}],
         "sink":{"type":"blob","format":"csv"}}
        """;

    private IRenderedComponent<DefinitionEditor> Editor(DefinitionModel model, Func<int, IReadOnlyList<string>>? fields = null) =>
        Render<DefinitionEditor>(p => p.Add(e => e.Model, model).Add(e => e.FieldsFor, fields));

    private static string Json(System.Text.Json.Nodes.JsonNode? node) =>
        node!.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static string Ids(DefinitionModel model) => string.Join(",", model.Steps.Select(s => (string?)s!["id"]));

    [Fact]
    public void Adding_a_map_step_and_filling_its_row_writes_the_field_and_expression_into_the_definition()
    {
        var model = DefinitionModel.Load(Empty);
        var editor = Editor(model);

        editor.Find("button[aria-label='Add a map step']").Click();
        editor.Find("[data-step='map1'] [data-row='0'] .fg-name input").Change("total");
        editor.Find("[data-step='map1'] [data-row='0'] .fg-expression input").Input("Number(record.qty) * Number(record.price)");
        editor.Find("[data-step='map1'] button:contains('Add field')").Click();
        editor.Find("[data-step='map1'] [data-row='1'] .fg-expression input").Input("record.country.toUpperCase()");

        Assert.Equal("""{"id":"map1","type":"map","fields":{"total":"Number(record.qty) * Number(record.price)","new_field":"record.country.toUpperCase()"}}""", Json(model.Steps[0]));
        Assert.Empty(model.Errors);
    }

    [Fact]
    public void The_filter_select_drop_and_rename_forms_write_their_own_shapes()
    {
        var model = DefinitionModel.Load(Empty);
        var editor = Editor(model, _ => ["order", "qty", "country"]);

        editor.Find("button[aria-label='Add a filter step']").Click();
        editor.Find("[data-step='filter1'] .fg-expression input").Input("record.qty > 1");
        editor.Find("button[aria-label='Add a select step']").Click();
        editor.Find("[data-step='select1'] button[aria-label='Add field order']").Click();
        editor.Find("[data-step='select1'] button[aria-label='Add field country']").Click();
        editor.Find("[data-step='select1'] button[aria-label='Move country up']").Click();
        editor.Find("button[aria-label='Add a drop step']").Click();
        editor.Find("[data-step='drop1'] button[aria-label='Add field qty']").Click();
        editor.Find("button[aria-label='Add a rename step']").Click();
        editor.Find("[data-step='rename1'] button[aria-label='Rename field country']").Click();
        editor.FindAll("[data-step='rename1'] [data-row='0'] input")[1].Change("land");

        Assert.Equal("""{"id":"filter1","type":"filter","where":"record.qty > 1"}""", Json(model.Steps[0]));
        Assert.Equal("""{"id":"select1","type":"select","fields":["country","order"]}""", Json(model.Steps[1]));
        Assert.Equal("""{"id":"drop1","type":"drop","fields":["qty"]}""", Json(model.Steps[2]));
        Assert.Equal("""{"id":"rename1","type":"rename","fields":{"country":"land"}}""", Json(model.Steps[3]));
        Assert.Empty(model.Errors);
    }

    [Fact]
    public void Steps_move_up_and_down_get_disabled_and_deleted_with_their_buttons()
    {
        var model = DefinitionModel.Load(ThreeSteps);
        var editor = Editor(model);

        editor.Find("button[aria-label='Move step shape up']").Click();
        Assert.Equal("total,shape,big", Ids(model));
        editor.Find("button[aria-label='Move step total down']").Click();
        Assert.Equal("shape,total,big", Ids(model));
        Assert.True(editor.Find("button[aria-label='Move step shape up']").HasAttribute("disabled"));

        editor.Find("[data-step='big'] input[aria-label='Step big enabled']").Change(false);
        Assert.True(DefinitionModel.IsDisabled(model.Step(2)));
        Assert.Contains("disabled", editor.Find("[data-step='big']").TextContent);

        editor.Find("button[aria-label='Delete step total']").Click();
        Assert.Equal("shape,big", Ids(model));
        Assert.Empty(editor.FindAll("[data-step='total']"));
    }

    [Fact]
    public void A_step_type_without_a_form_is_edited_as_json_and_bad_json_leaves_the_step_as_it_was()
    {
        var model = DefinitionModel.Load("""
            {"name":"p","trigger":{"type":"http"},"steps":[{"id":"call","type":"http","url":"https://example.com","method":"POST"}]}
            """);
        var editor = Editor(model);

        var json = editor.Find("[data-step='call'] textarea");
        json.Input("""{"id":"call","type":"http","url":"https://example.org"}""");
        Assert.Equal("https://example.org", (string?)model.Step(0)["url"]);

        editor.Find("[data-step='call'] textarea").Input("""{"id":"call", oops""");
        Assert.Equal("https://example.org", (string?)model.Step(0)["url"]);
        Assert.Contains("not valid JSON at line 1", editor.Find("[data-step='call']").TextContent);
    }
}
